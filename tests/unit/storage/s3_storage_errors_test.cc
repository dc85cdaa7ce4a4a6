// The S3 storage beyond the conformance suite, failures and configuration: missing bucket,
// wrong credentials, unreachable endpoint, retries and what is not retried, failed commits,
// secrets kept out of messages, environment fallbacks and bad options.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "streamstate/checksum.h"
#include "unit/storage/s3_test_fixture.h"

namespace streamstate::testing {
namespace {

using std::chrono::milliseconds;
using Proxy = S3FaultProxy;

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

}  // namespace
}  // namespace streamstate::testing
