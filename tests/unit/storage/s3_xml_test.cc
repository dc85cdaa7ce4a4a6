// The bounded scanner of S3's XML answers: entities, malformed input, page fields.
#include "storage/s3_xml.h"

#include <gtest/gtest.h>

#include "testutil/status_matchers.h"

namespace streamstate::storage::s3xml {
namespace {

TEST(S3Xml, ListPageWithEscapedKeys) {
  const std::string xml =
      "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3\"><Name>b</Name>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>t+/=&amp;</NextContinuationToken>"
      "<Contents><Key>a&amp;b&lt;c&gt;&quot;&apos;&#233;&#x1F600;</Key><Size>12</Size></Contents>"
      "<Contents><Key>&lt;IsTruncated&gt;false</Key><ETag>&quot;x&quot;</ETag><Size>0</Size></Contents>"
      "</ListBucketResult>";
  auto page = parse_list_objects(xml);
  ASSERT_OK(page);
  ASSERT_EQ(page->keys.size(), 2u);
  EXPECT_EQ(page->keys[0].key, "a&b<c>\"'\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(page->keys[0].size, 12u);
  EXPECT_EQ(page->keys[1].key, "<IsTruncated>false");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "t+/=&");
}

TEST(S3Xml, FieldsAfterTheEntriesAreFound) {
  auto page = parse_list_objects(
      "<ListBucketResult><Contents><Key>k</Key><Size>1</Size></Contents>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>next</NextContinuationToken></ListBucketResult>");
  ASSERT_OK(page);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "next");
  auto empty = parse_list_objects("<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>");
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->keys.empty());
  EXPECT_FALSE(empty->truncated);
}

TEST(S3Xml, MalformedAnswersAreCorruptionNotCrashes) {
  const std::vector<std::string> bad = {
      "<ListBucketResult><Contents><Key>k</Key><Size>1</Size>",          // not closed
      "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",  // no size
      "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>k</Key><Size>99999999999999999999999</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a&#xD800;</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a&#;</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a&amp</Key><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
      "<Error><Code>NoSuchBucket</Code></Error>",
      "",
      "<ListBucketResult><Contents",
  };
  for (const std::string& xml : bad) {
    SCOPED_TRACE(xml);
    EXPECT_STATUS(parse_list_objects(xml), StatusCode::kCorruption, "malformed XML");
  }
  // Every prefix of a valid answer either parses or is reported, never read past its end.
  const std::string valid =
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k&amp;</Key><Size>1</Size></Contents>"
      "</ListBucketResult>";
  for (size_t length = 0; length <= valid.size(); ++length) {
    auto page = parse_list_objects(valid.substr(0, length));
    (void)page;
  }
}

TEST(S3Xml, UploadsErrorsAndUploadId) {
  auto uploads = parse_list_uploads(
      "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated><NextKeyMarker>k2</NextKeyMarker>"
      "<NextUploadIdMarker>id2</NextUploadIdMarker><Upload><Key>k1</Key><UploadId>id1</UploadId>"
      "<Initiated>2024-01-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>");
  ASSERT_OK(uploads);
  ASSERT_EQ(uploads->uploads.size(), 1u);
  EXPECT_EQ(uploads->uploads[0].key, "k1");
  EXPECT_EQ(uploads->uploads[0].upload_id, "id1");
  EXPECT_TRUE(uploads->truncated);
  EXPECT_EQ(uploads->next_key_marker, "k2");
  EXPECT_EQ(uploads->next_upload_id_marker, "id2");
  EXPECT_EQ(parse_upload_id("<InitiateMultipartUploadResult><UploadId>abc</UploadId></InitiateMultipartUploadResult>").value(),
            "abc");
  EXPECT_STATUS(parse_upload_id("<InitiateMultipartUploadResult/>"), StatusCode::kCorruption, "UploadId");
  ErrorBody error = parse_error("<?xml?><Error><Code>SlowDown</Code><Message>a &lt;b&gt;</Message></Error>");
  EXPECT_EQ(error.code, "SlowDown");
  EXPECT_EQ(error.message, "a <b>");
  EXPECT_TRUE(parse_error("not xml").code.empty());
  EXPECT_EQ(escape("a&b<c>\"d"), "a&amp;b&lt;c&gt;&quot;d");
}

}  // namespace
}  // namespace streamstate::storage::s3xml
