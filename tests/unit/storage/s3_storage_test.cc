// The S3 storage beyond the conformance suite: paging, ranged and parallel transfers,
// multipart uploads, cleanup, retries, errors and configuration, against a real s3rver (and a
// misbehaving front for it, S3FaultProxy, where a fault is needed).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "streamstate/checksum.h"
#include "streamstate/s3_storage.h"
#include "testutil/s3_server.h"
#include "testutil/status_matchers.h"
#include "unit/storage/s3_fault_proxy.h"

namespace streamstate::testing {
namespace {

using std::chrono::milliseconds;
using Proxy = S3FaultProxy;

std::string pattern(uint64_t seed, size_t size) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

class S3StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = shared_s3_server_or_skip();
    if (server_ == nullptr) return;
    auto bucket = server_->create_fresh_bucket();
    ASSERT_OK(bucket);
    bucket_ = *bucket;
  }

  // This test's bucket with short backoffs, through `proxy` when given.
  S3StorageOptions options(const Proxy* proxy = nullptr) const {
    S3StorageOptions options = server_->options(bucket_);
    options.base_backoff = milliseconds(1);
    options.max_backoff = milliseconds(10);
    if (proxy != nullptr) options.endpoint = proxy->endpoint();
    return options;
  }

  std::unique_ptr<Proxy> proxy() const { return std::make_unique<Proxy>(server_->port()); }

  static std::unique_ptr<CheckpointStorage> open(const S3StorageOptions& options) {
    auto storage = open_s3_storage(options);
    if (!storage.is_ok()) throw std::runtime_error(storage.status().to_string());
    return std::move(storage).value();
  }

  static void put(CheckpointStorage& storage, const std::string& name, const std::string& content) {
    auto writer = storage.create(name);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->append(content));
    ASSERT_OK((*writer)->commit());
  }

  S3Server* server_ = nullptr;
  std::string bucket_;
};

// A loopback port on which nothing listens.
uint16_t closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

TEST_F(S3StorageTest, ListWalksEveryPage) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.list_page_size = 3;
  auto storage = open(opts);
  std::vector<StoredObject> expected;
  for (int i = 0; i < 20; ++i) {
    std::string name = "chk-1/part-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    put(*storage, name, std::string(static_cast<size_t>(i), 'x'));
    expected.push_back(StoredObject{name, static_cast<uint64_t>(i)});
  }
  put(*storage, "chk-2/manifest.json", "{}");
  const size_t lists_before = p->count(Proxy::line_has("list-type=2"));
  EXPECT_EQ(storage->list("chk-1/").value(), expected);
  // 20 keys, 3 a page: 7 requests, all but the first with a continuation token.
  EXPECT_EQ(p->count(Proxy::line_has("list-type=2")) - lists_before, 7u);
  EXPECT_EQ(p->count(Proxy::line_has("continuation-token=")), 6u);
  EXPECT_EQ(storage->list("").value().size(), 21u);
}

TEST_F(S3StorageTest, RangedReadsFetchOnlyTheirPieces) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.download_part_bytes = 1000;
  auto storage = open(opts);
  const std::string content = pattern(1, 10'000);
  put(*storage, "chk-1/state.bin", content);
  const size_t gets_before = p->count(Proxy::line_has("GET /"));
  EXPECT_EQ(storage->read_range("chk-1/state.bin", 1234, 2500).value(), content.substr(1234, 2500));
  // 2,500 bytes in pieces of 1,000: three GETs, each with its Range.
  const auto heads = p->heads();
  EXPECT_EQ(p->count(Proxy::line_has("GET /")) - gets_before, 3u);
  EXPECT_NE(heads[heads.size() - 3].find("Range: bytes=1234-2233"), std::string::npos) << heads[heads.size() - 3];
  EXPECT_EQ(storage->read_range("chk-1/state.bin", 9999, 1).value(), content.substr(9999));
  EXPECT_STATUS(storage->read_range("chk-1/state.bin", 9000, 1001), StatusCode::kOutOfRange, "(10000 bytes)");
  EXPECT_EQ(storage->read("chk-1/state.bin").value(), content);
}

TEST_F(S3StorageTest, MultipartUploadAboveTheThreshold) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.multipart_threshold_bytes = 64 * 1024;
  opts.part_size_bytes = 32 * 1024;
  auto storage = open(opts);
  const std::string large = pattern(2, 1024 * 1024 + 123);
  auto writer = storage->create("chk-1/large.sst");
  ASSERT_OK(writer);
  for (size_t offset = 0, piece = 1; offset < large.size(); offset += piece, piece = piece * 2 + 1) {
    ASSERT_OK((*writer)->append(std::string_view(large).substr(offset, piece)));
  }
  ASSERT_OK((*writer)->sync());
  EXPECT_FALSE(storage->exists("chk-1/large.sst").value()) << "visible before commit";
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(p->count(Proxy::line_has("?uploads=")), 1u);
  EXPECT_EQ(p->count(Proxy::line_has("partNumber=")), 33u);  // 32 full parts of 32 KiB and 123 bytes
  EXPECT_EQ(p->count(Proxy::line_has("POST /" + bucket_ + "/chk-1/large.sst?uploadId=")), 1u);
  auto back = storage->read("chk-1/large.sst");
  ASSERT_OK(back);
  EXPECT_EQ(back->size(), large.size());
  EXPECT_EQ(checksum64(*back), checksum64(large));
  // Below the threshold: one PUT, no multipart upload.
  put(*storage, "chk-1/small", pattern(3, 64 * 1024 - 1));
  EXPECT_EQ(p->count(Proxy::line_has("?uploads=")), 1u);
  EXPECT_EQ(storage->read("chk-1/small").value(), pattern(3, 64 * 1024 - 1));
}

TEST_F(S3StorageTest, PartsUploadInParallelUpToTheLimit) {
  auto p = proxy();
  p->delay(milliseconds(150), Proxy::line_has("partNumber="));
  S3StorageOptions opts = options(p.get());
  opts.multipart_threshold_bytes = 10 * 1024;
  opts.part_size_bytes = 10 * 1024;
  opts.upload_parallelism = 3;
  auto storage = open(opts);
  const std::string content = pattern(4, 10 * 10 * 1024);
  put(*storage, "parallel", content);
  EXPECT_GE(p->max_concurrent(), 2) << "parts were sent one after the other";
  EXPECT_LE(p->max_concurrent(), 3) << "more parts in flight than upload_parallelism";
  EXPECT_EQ(checksum64(storage->read("parallel").value()), checksum64(content));
}

TEST_F(S3StorageTest, LargeReadsDownloadInParallelUpToTheLimit) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.download_part_bytes = 8 * 1024;
  opts.download_parallelism = 3;
  auto storage = open(opts);
  const std::string content = pattern(5, 80 * 1024 + 5);
  put(*storage, "big", content);
  p->delay(milliseconds(150), Proxy::line_has("GET /" + bucket_ + "/big"));
  EXPECT_EQ(checksum64(storage->read("big").value()), checksum64(content));
  EXPECT_GE(p->max_concurrent(), 2) << "pieces were fetched one after the other";
  EXPECT_LE(p->max_concurrent(), 3) << "more pieces in flight than download_parallelism";
}

TEST_F(S3StorageTest, WriterDestroyedWithoutCommitAbortsItsUpload) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.multipart_threshold_bytes = 16 * 1024;
  opts.part_size_bytes = 16 * 1024;
  auto storage = open(opts);
  {
    auto writer = storage->create("chk-9/abandoned");
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->append(pattern(6, 100 * 1024)));
    ASSERT_OK((*writer)->sync());
  }
  EXPECT_EQ(p->count(Proxy::line_has("?uploads=")), 1u);
  // s3rver cannot abort (it answers MethodNotAllowed); the request is what S3 needs.
  EXPECT_EQ(p->count(Proxy::line_has("DELETE /" + bucket_ + "/chk-9/abandoned?uploadId=")), 1u);
  EXPECT_EQ(p->count(Proxy::line_has("POST /" + bucket_ + "/chk-9/abandoned?uploadId=")), 0u)
      << "the upload was completed";
  EXPECT_FALSE(storage->exists("chk-9/abandoned").value());
  EXPECT_TRUE(storage->list("").value().empty());
}

TEST_F(S3StorageTest, RemoveIncompleteAbortsOnlyStaleUploadsUnderThePrefix) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.prefix = "jobs/a";
  opts.multipart_threshold_bytes = 1024;
  opts.part_size_bytes = 1024;
  auto storage = open(opts);
  auto writer = storage->create("chk-1/open");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append(pattern(7, 4096)));
  ASSERT_OK((*writer)->sync());
  // The open writer's upload id, from its part requests.
  std::string open_id;
  for (const std::string& head : p->heads()) {
    size_t at = head.find("uploadId=");
    if (at != std::string::npos) open_id = head.substr(at + 9, head.find(' ', at) - at - 9);
  }
  ASSERT_FALSE(open_id.empty());
  // s3rver has no ListMultipartUploads: first its NotImplemented is taken as nothing to do...
  EXPECT_OK(storage->remove_incomplete());
  // ...then the proxy answers as S3 would, with two pages.
  const std::string page1 =
      "<ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>true</IsTruncated>"
      "<NextKeyMarker>jobs/a/chk-0/old</NextKeyMarker><NextUploadIdMarker>stale-1</NextUploadIdMarker>"
      "<Upload><Key>jobs/a/chk-0/old</Key><UploadId>stale-1</UploadId></Upload>"
      "<Upload><Key>jobs/a/chk-1/open</Key><UploadId>" + open_id + "</UploadId></Upload>"
      "</ListMultipartUploadsResult>";
  const std::string page2 =
      "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
      "<Upload><Key>jobs/a/x&amp;y</Key><UploadId>stale-2</UploadId></Upload>"
      "<Upload><Key>jobs/b/other-prefix</Key><UploadId>foreign</UploadId></Upload>"
      "</ListMultipartUploadsResult>";
  p->answer([](const std::string& head) { return head.starts_with("GET ") && head.find("upload-id-marker=stale-1") != std::string::npos; },
            200, page2);
  p->answer([](const std::string& head) { return head.starts_with("GET ") && head.find("uploads= ") != std::string::npos; },
            200, page1);
  // S3 answers an abort with 204 (s3rver with MethodNotAllowed).
  p->answer([](const std::string& head) { return head.starts_with("DELETE ") && head.find("?uploadId=stale-") != std::string::npos; },
            204, "");
  ASSERT_OK(storage->remove_incomplete());
  EXPECT_EQ(p->count(Proxy::line_has("DELETE /" + bucket_ + "/jobs/a/chk-0/old?uploadId=stale-1")), 1u);
  EXPECT_EQ(p->count(Proxy::line_has("DELETE /" + bucket_ + "/jobs/a/x%26y?uploadId=stale-2")), 1u);
  EXPECT_EQ(p->count(Proxy::line_has("uploadId=foreign")), 0u) << "an upload outside the prefix was aborted";
  EXPECT_EQ(p->count(Proxy::line_has("DELETE /" + bucket_ + "/jobs/a/chk-1/open")), 0u)
      << "the open writer's upload was aborted";
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(storage->read("chk-1/open").value(), pattern(7, 4096));
}

TEST_F(S3StorageTest, MissingBucketIsNotFoundNamingIt) {
  S3StorageOptions opts = options();
  opts.bucket = "no-such-bucket";
  auto storage = open_s3_storage(opts);
  EXPECT_STATUS(storage, StatusCode::kNotFound, "bucket 'no-such-bucket' does not exist at S3 endpoint " +
                                                    server_->endpoint());
}

TEST_F(S3StorageTest, WrongCredentialsSayToCheckThem) {
  // s3rver knows one key id (S3RVER) and checks it, but not SigV4 signatures: a wrong secret
  // would pass here, a wrong key id is refused with 403 InvalidAccessKeyId.
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.access_key_id = "AKIAWRONGKEY";
  auto storage = open_s3_storage(opts);
  EXPECT_STATUS(storage, StatusCode::kIoError, "check the credentials");
  EXPECT_STATUS(storage, StatusCode::kIoError, "InvalidAccessKeyId");
  EXPECT_STATUS(storage, StatusCode::kIoError, p->endpoint() + " (bucket '" + bucket_ + "')");
  EXPECT_EQ(p->heads().size(), 1u) << "a 403 was retried";
}

TEST_F(S3StorageTest, UnreachableEndpointIsUnavailableAfterBoundedRetries) {
  S3StorageOptions opts = options();
  opts.endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
  opts.max_attempts = 3;
  const auto start = std::chrono::steady_clock::now();
  auto storage = open_s3_storage(opts);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_STATUS(storage, StatusCode::kUnavailable, "S3 endpoint " + opts.endpoint + " (bucket '" + bucket_ +
                                                       "') is unreachable after 3 attempts");
  EXPECT_STATUS(storage, StatusCode::kUnavailable, "check the endpoint URL");
  // Three refused connections and two backoffs of at most 10 ms: far below the 5 s connect
  // timeout, which nothing here should wait for.
  EXPECT_LT(took, std::chrono::seconds(4));
}

TEST_F(S3StorageTest, SlowDownAndServerErrorsAreRetried) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.max_attempts = 4;
  auto storage = open(opts);
  const auto puts = Proxy::line_has("PUT /" + bucket_ + "/retried");
  p->fail_next(3, 503, "SlowDown", puts);
  put(*storage, "retried", "content");
  EXPECT_EQ(p->count(puts), 4u);
  const auto gets = Proxy::line_has("GET /" + bucket_ + "/retried");
  p->fail_next(1, 500, "InternalError", gets);
  p->fail_next(1, 429, "TooManyRequests", gets);
  p->drop_next(1, gets);
  EXPECT_EQ(storage->read("retried").value(), "content");
  EXPECT_EQ(p->count(gets), 4u);
}

TEST_F(S3StorageTest, RetriesGiveUpAfterMaxAttempts) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.max_attempts = 3;
  auto storage = open(opts);
  const auto puts = Proxy::line_has("PUT /" + bucket_ + "/never");
  p->fail_next(10, 503, "SlowDown", puts);
  auto writer = storage->create("never");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("x"));
  EXPECT_STATUS((*writer)->commit(), StatusCode::kUnavailable, "HTTP 503 SlowDown");
  EXPECT_EQ(p->count(puts), 3u);
  EXPECT_STATUS((*writer)->commit(), StatusCode::kFailedPrecondition, "earlier failure");
  p->fail_next(10, 500, "InternalError", Proxy::line_has("DELETE /"));
  EXPECT_STATUS(storage->remove("x"), StatusCode::kIoError, "answered HTTP 500 InternalError");
  EXPECT_EQ(p->count(Proxy::line_has("DELETE /")), 3u);
}

TEST_F(S3StorageTest, FailedCommitLeavesThePreviousObject) {
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.max_attempts = 2;
  opts.multipart_threshold_bytes = 8 * 1024;
  opts.part_size_bytes = 8 * 1024;
  auto storage = open(opts);
  put(*storage, "chk-1/manifest.json", "version 1");
  // A single PUT that keeps failing.
  p->fail_next(2, 500, "InternalError", Proxy::line_has("PUT /" + bucket_ + "/chk-1/manifest.json "));
  {
    auto writer = storage->create("chk-1/manifest.json");
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->append("version 2"));
    EXPECT_STATUS((*writer)->commit(), StatusCode::kIoError, "HTTP 500 InternalError");
  }
  EXPECT_EQ(storage->read("chk-1/manifest.json").value(), "version 1");
  // A multipart upload whose third part keeps failing: the upload is aborted, nothing replaced.
  p->fail_next(2, 503, "SlowDown", Proxy::line_has("partNumber=3&"));
  {
    auto writer = storage->create("chk-1/manifest.json");
    ASSERT_OK(writer);
    Status status = (*writer)->append(pattern(9, 64 * 1024));
    if (status.is_ok()) status = (*writer)->commit();
    EXPECT_STATUS(status, StatusCode::kUnavailable, "uploading part 3 of checkpoint object 'chk-1/manifest.json'");
  }
  EXPECT_EQ(p->count(Proxy::line_has("DELETE /" + bucket_ + "/chk-1/manifest.json?uploadId=")), 1u);
  EXPECT_EQ(p->count(Proxy::line_has("POST /" + bucket_ + "/chk-1/manifest.json?uploadId=")), 0u);
  EXPECT_EQ(storage->read("chk-1/manifest.json").value(), "version 1");
}

TEST_F(S3StorageTest, ClientErrorsAreNotRetried) {
  auto p = proxy();
  auto storage = open(options(p.get()));
  p->fail_next(5, 403, "AccessDenied", Proxy::line_has("GET /" + bucket_ + "/secret"));
  EXPECT_STATUS(storage->read_range("secret", 0, 4), StatusCode::kIoError, "AccessDenied");
  EXPECT_EQ(p->count(Proxy::line_has("/secret")), 1u);
  p->fail_next(5, 404, "NoSuchBucket", Proxy::line_has("list-type=2"));
  EXPECT_STATUS(storage->list(""), StatusCode::kNotFound, "bucket '" + bucket_ + "' does not exist");
}

TEST_F(S3StorageTest, DamagedDownloadsAreDetectedAndFetchedAgain) {
  auto p = proxy();
  auto storage = open(options(p.get()));
  const std::string content = pattern(8, 5000);
  put(*storage, "checked", content);
  const auto gets = Proxy::line_has("GET /" + bucket_ + "/checked");
  p->corrupt_next(1, gets);
  EXPECT_EQ(storage->read("checked").value(), content);
  EXPECT_EQ(p->count(gets), 2u);
  p->corrupt_next(100, gets);
  EXPECT_STATUS(storage->read("checked"), StatusCode::kIoError, "does not match its ETag");
  // An answer longer than the object's size is cut off, never buffered whole.
  p->answer(gets, 200, std::string(100'000, 'x'));
  EXPECT_STATUS(storage->read("checked"), StatusCode::kIoError, "longer than the 5000 bytes expected");
}

TEST_F(S3StorageTest, UploadsCarryContentMd5) {
  auto p = proxy();
  auto storage = open(options(p.get()));
  put(*storage, "md5", "hello world");
  bool found = false;
  for (const std::string& head : p->heads()) {
    // base64 of MD5("hello world")
    if (head.starts_with("PUT ")) found = head.find("Content-MD5: XrY7u+Ae7tCTyyK7j1rNww==") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST_F(S3StorageTest, SecretsNeverAppearInMessages) {
  const std::string secret = "SECRET-5f1e9a7c-never-print";
  const std::string token = "TOKEN-0b8d3c2e-never-print";
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.secret_access_key = secret;
  opts.session_token = token;
  std::vector<std::string> messages;
  auto storage = open(opts);
  messages.push_back(storage->describe());
  messages.push_back(storage->read("missing").status().to_string());
  p->fail_next(100, 503, "SlowDown");
  messages.push_back(storage->read("missing").status().to_string());
  p->fail_next(100, 403, "SignatureDoesNotMatch");
  messages.push_back(storage->list("").status().to_string());
  S3StorageOptions wrong = opts;
  wrong.access_key_id = "AKIAWRONG";
  wrong.endpoint = server_->endpoint();
  messages.push_back(open_s3_storage(wrong).status().to_string());
  wrong.bucket = "missing-bucket";
  wrong.access_key_id = S3Server::kAccessKeyId;
  messages.push_back(open_s3_storage(wrong).status().to_string());
  wrong.endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
  wrong.max_attempts = 1;
  messages.push_back(open_s3_storage(wrong).status().to_string());
  wrong.endpoint = "http://user:" + secret + "@127.0.0.1:1";
  messages.push_back(open_s3_storage(wrong).status().to_string());
  for (const std::string& message : messages) {
    SCOPED_TRACE(message);
    EXPECT_EQ(message.find(secret), std::string::npos);
    EXPECT_EQ(message.find(token), std::string::npos);
  }
  // The token was sent, inside the signed headers.
  EXPECT_NE(p->heads().front().find("x-amz-security-token: " + token), std::string::npos);
}

// Sets environment variables for one scope and restores them after.
class ScopedEnv {
 public:
  void set(const char* name, const std::optional<std::string>& value) {
    const char* old = std::getenv(name);
    saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
    apply(name, value);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) apply(it->first, it->second);
  }

 private:
  static void apply(const char* name, const std::optional<std::string>& value) {
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST_F(S3StorageTest, CredentialsEndpointAndRegionFallBackToTheEnvironment) {
  auto p = proxy();
  ScopedEnv env;
  env.set("AWS_ACCESS_KEY_ID", S3Server::kAccessKeyId);
  env.set("AWS_SECRET_ACCESS_KEY", S3Server::kSecretAccessKey);
  env.set("AWS_SESSION_TOKEN", std::nullopt);
  env.set("AWS_ENDPOINT_URL", p->endpoint());
  env.set("AWS_REGION", "eu-north-1");
  S3StorageOptions opts;
  opts.bucket = bucket_;
  auto storage = open(opts);
  put(*storage, "from-env", "ok");
  EXPECT_EQ(storage->read("from-env").value(), "ok");
  ASSERT_FALSE(p->heads().empty());
  EXPECT_NE(p->heads().front().find("Credential=S3RVER/"), std::string::npos);
  EXPECT_NE(p->heads().front().find("/eu-north-1/s3/aws4_request"), std::string::npos);
  // Options win over the environment.
  env.set("AWS_ACCESS_KEY_ID", "AKIAWRONG");
  opts.access_key_id = S3Server::kAccessKeyId;
  EXPECT_OK(open_s3_storage(opts));
  opts.access_key_id.clear();
  EXPECT_STATUS(open_s3_storage(opts), StatusCode::kIoError, "InvalidAccessKeyId");
  env.set("AWS_ACCESS_KEY_ID", std::nullopt);
  EXPECT_STATUS(open_s3_storage(opts), StatusCode::kInvalidArgument, "AWS_ACCESS_KEY_ID");
}

TEST_F(S3StorageTest, BadOptionsAreNamed) {
  S3StorageOptions opts = options();
  opts.endpoint = "ftp://127.0.0.1";
  EXPECT_STATUS(open_s3_storage(opts), StatusCode::kInvalidArgument, "S3StorageOptions::endpoint");
  opts = options();
  opts.bucket = "";
  EXPECT_STATUS(open_s3_storage(opts), StatusCode::kInvalidArgument, "S3StorageOptions::bucket");
  opts = options();
  opts.list_page_size = 0;
  EXPECT_STATUS(open_s3_storage(opts), StatusCode::kInvalidArgument, "S3StorageOptions::list_page_size");
  opts = options();
  opts.upload_parallelism = 0;
  EXPECT_STATUS(open_s3_storage(opts), StatusCode::kInvalidArgument, "S3StorageOptions::upload_parallelism");
}

TEST_F(S3StorageTest, VirtualHostStyleAddressing) {
  auto p = proxy();
  S3StorageOptions opts = options();
  opts.endpoint = "http://s3.localhost:" + p->endpoint().substr(p->endpoint().rfind(':') + 1);
  opts.virtual_host_style = true;
  opts.multipart_threshold_bytes = 8 * 1024;
  opts.part_size_bytes = 8 * 1024;
  opts.list_page_size = 2;
  auto storage = open(opts);
  const std::string large = pattern(10, 20 * 1024);
  put(*storage, "chk-1/a", "small");
  put(*storage, "chk-1/b", large);
  put(*storage, "chk-1/c", "c");
  EXPECT_EQ(storage->list("chk-1/").value(),
            (std::vector<StoredObject>{{"chk-1/a", 5}, {"chk-1/b", large.size()}, {"chk-1/c", 1}}));
  EXPECT_EQ(storage->read("chk-1/b").value(), large);
  ASSERT_OK(storage->remove("chk-1/a"));
  EXPECT_FALSE(storage->exists("chk-1/a").value());
  // Every request named the bucket in the host, none in the path.
  for (const std::string& head : p->heads()) {
    SCOPED_TRACE(head.substr(0, head.find("\r\n")));
    EXPECT_NE(head.find("\r\nHost: " + bucket_ + ".s3.localhost:"), std::string::npos);
    EXPECT_EQ(head.substr(0, head.find("\r\n")).find("/" + bucket_), std::string::npos);
  }
}

TEST_F(S3StorageTest, NamesNeedingEscapesRoundTrip) {
  S3StorageOptions opts = options();
  opts.prefix = "a b&c";
  auto storage = open(opts);
  const std::vector<std::string> names = {"chk-1/x&y<z>", "chk-1/sp ace", "chk-1/plus+eq=", "chk-1/\xc3\xa9t\xc3\xa9",
                                          "chk-1/quote\"'", "chk-1/per%25cent"};
  for (const std::string& name : names) put(*storage, name, name);
  std::vector<StoredObject> listed = storage->list("chk-1/").value();
  ASSERT_EQ(listed.size(), names.size());
  for (const StoredObject& object : listed) {
    SCOPED_TRACE(object.name);
    EXPECT_EQ(storage->read(object.name).value(), object.name);
  }
}

}  // namespace
}  // namespace streamstate::testing
