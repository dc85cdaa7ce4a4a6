// The S3 storage beyond the conformance suite, transfers: paging, ranged and parallel
// transfers, multipart uploads, aborts and cleanup, checksums, addressing and names, against a
// real s3rver (and a misbehaving front for it, S3FaultProxy, where a fault is needed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "streamstate/checksum.h"
#include "unit/storage/s3_signature_check.h"
#include "unit/storage/s3_test_fixture.h"

namespace streamstate::testing {
namespace {

using std::chrono::milliseconds;
using Proxy = S3FaultProxy;

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

TEST_F(S3StorageTest, EveryRequestCarriesAValidSignature) {
  // s3rver ignores signatures; the proxy's requests are checked against AWS's algorithm here.
  auto p = proxy();
  S3StorageOptions opts = options(p.get());
  opts.prefix = "sig ned&+";
  opts.session_token = "token/with+odd=chars";
  opts.list_page_size = 2;
  opts.multipart_threshold_bytes = 4096;
  opts.part_size_bytes = 4096;
  opts.download_part_bytes = 3000;
  auto storage = open(opts);
  for (const std::string name : {"chk-1/a b", "chk-1/x&y=z+w", "chk-1/\xc3\xa9", "chk-1/~tilde", "chk-1/large"}) {
    put(*storage, name, name == std::string("chk-1/large") ? pattern(11, 10'000) : name);
  }
  EXPECT_EQ(storage->list("chk-1/").value().size(), 5u);
  EXPECT_EQ(storage->read("chk-1/large").value(), pattern(11, 10'000));
  EXPECT_EQ(storage->read_range("chk-1/large", 10, 5000).value(), pattern(11, 10'000).substr(10, 5000));
  EXPECT_TRUE(storage->exists("chk-1/a b").value());
  ASSERT_OK(storage->remove("chk-1/x&y=z+w"));
  ASSERT_OK(storage->remove_incomplete());
  {
    auto abandoned = storage->create("chk-2/abandoned");
    ASSERT_OK(abandoned);
    ASSERT_OK((*abandoned)->append(pattern(12, 9000)));
  }
  const auto heads = p->heads();
  ASSERT_GE(heads.size(), 20u);
  EXPECT_GE(p->count(S3FaultProxy::line_has("continuation-token=")), 2u);
  for (const std::string& head : heads) {
    SCOPED_TRACE(head.substr(0, head.find("\r\n")));
    EXPECT_EQ(check_sigv4(head, S3Server::kSecretAccessKey), "");
    EXPECT_NE(check_sigv4(head, "another secret"), "") << "the check accepts anything";
  }
}

}  // namespace
}  // namespace streamstate::testing
