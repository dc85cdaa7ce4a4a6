// Checkpoint manifest: round trip of every field, the checksum rule as documented, every byte
// flipped and every truncation reported as kCorruption naming the object, a newer format
// version refused, and the bounds checks of a manifest whose checksum is valid.
#include <gtest/gtest.h>

#include <string>

#include "checkpoint/checkpoint_names.h"
#include "checkpoint/manifest.h"
#include "streamstate/checksum.h"
#include "testutil/status_matchers.h"

namespace streamstate::internal {
namespace {

constexpr std::string_view kName = "chk-0000000042/manifest.json";

CheckpointManifest sample() {
  CheckpointManifest m;
  m.id = 42;
  m.created_millis = 1'764'000'000'123;
  m.kind = CheckpointKind::kIncremental;
  m.parents = {40, 41};
  m.backend_kind = "memory";
  m.max_parallelism = 256;
  m.key_groups = KeyGroupRange(64, 128);
  m.states = {{"clicks", "value", "i64", true, SchemaVersion{2, 1, 3}}, {"lists", "list", "string", false, {}}};
  m.columns = {"_ss.states", "clicks", "lists"};
  m.store_records = {{"!layout", std::string("\x01\x80\x02\0", 4)}, {"clicks", std::string("\0\xff", 2)}};
  CheckpointFile file{"chk-0000000042/state.snap", 5000, 0xfedcba9876543210ULL, false,
                      CheckpointFileContent::kEntries, "", {}};
  file.columns.push_back({"clicks", true, 7, 12, 3000, {{64, 20, 3}, {100, 900, 4}}});
  file.columns.push_back({"lists", false, 0, 3000, 3010, {}});
  m.files.push_back(file);
  m.files.push_back({"chk-0000000040/state.snap", 10, 1, true, CheckpointFileContent::kEntries, "", {}});
  m.files.push_back({"chk-0000000041/tombstones.snap", 60, 2, true, CheckpointFileContent::kTombstones, "", {}});
  m.files.push_back({"chk-0000000041/rocksdb/00ab.sst", 70, 3, true, CheckpointFileContent::kRocksDbFile,
                     "000012.sst", {}});
  m.source_positions = {{"topic-0", "1234"}, {"quotes\"and\\slashes", "\n\t"}};
  m.user_metadata = {{"job", "clicks \xc3\xa9t\xc3\xa9"}, {"checksum", "\"checksum\": \"not this one\""}};
  return m;
}

std::string encoded(const CheckpointManifest& manifest) {
  auto bytes = encode_manifest(manifest);
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  return bytes.is_ok() ? *bytes : std::string();
}

// Replaces `from` by `to` in the text and recomputes the checksum as documented.
std::string edited(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  size_t key = text.rfind("\"checksum\"");
  return text.substr(0, key) + "\"checksum\": \"" + checksum_hex(checksum64(text.substr(0, key))) + "\"\n}\n";
}

TEST(ManifestTest, FileContentDefaultsToEntriesAndIsChecked) {
  const std::string text = encoded(sample());
  // A manifest written before file contents existed: a snapshot file of entries.
  auto old = parse_manifest(kName, edited(text, R"("shared": true,
      "content": "entries",)", R"("shared": true,)"));
  ASSERT_TRUE(old.is_ok()) << old.status().to_string();
  EXPECT_EQ(old->files[1].content, CheckpointFileContent::kEntries);

  auto unknown = parse_manifest(kName, edited(text, R"("content": "tombstones")", R"("content": "deltas")"));
  ASSERT_EQ(unknown.status().code(), StatusCode::kCorruption);
  EXPECT_NE(unknown.status().message().find("files[2].content 'deltas'"), std::string::npos)
      << unknown.status().message();

  auto escaping = parse_manifest(kName, edited(text, R"("local_name": "000012.sst")", R"("local_name": "../x.sst")"));
  ASSERT_EQ(escaping.status().code(), StatusCode::kCorruption);
  EXPECT_NE(escaping.status().message().find("files[3].local_name"), std::string::npos)
      << escaping.status().message();
  EXPECT_EQ(checkpoint_file_content_name(CheckpointFileContent::kRocksDbFile), "rocksdb");
}

TEST(ManifestTest, RoundTripsEveryField) {
  CheckpointManifest m = sample();
  auto parsed = parse_manifest(kName, encoded(m));
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(*parsed, m);
}

TEST(ManifestTest, ChecksumCoversEveryByteBeforeTheLastChecksumMember) {
  std::string text = encoded(sample());
  EXPECT_TRUE(text.starts_with("{\n  \"format_version\": 1,\n  \"id\": 42,\n")) << text.substr(0, 60);
  size_t key = text.rfind("\"checksum\"");
  ASSERT_NE(key, std::string::npos);
  EXPECT_EQ(text.substr(key), "\"checksum\": \"" + checksum_hex(checksum64(text.substr(0, key))) + "\"\n}\n");
  // The user metadata key "checksum" comes earlier and does not confuse the rule.
  EXPECT_NE(text.find("\"checksum\": \"\\\"checksum"), std::string::npos);
}

TEST(ManifestTest, EveryFlippedByteIsCorruptionNamingTheObject) {
  std::string text = encoded(sample());
  for (size_t offset = 0; offset < text.size(); ++offset) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x20}}) {
      std::string damaged = text;
      damaged[offset] = static_cast<char>(damaged[offset] ^ mask);
      auto parsed = parse_manifest(kName, damaged);
      ASSERT_EQ(parsed.status().code(), StatusCode::kCorruption) << "offset " << offset << " mask " << int{mask};
      ASSERT_NE(parsed.status().message().find(std::string(kName)), std::string::npos) << parsed.status().to_string();
    }
  }
}

TEST(ManifestTest, EveryTruncationIsCorruption) {
  std::string text = encoded(sample());
  for (size_t size = 0; size < text.size(); ++size) {
    EXPECT_EQ(parse_manifest(kName, text.substr(0, size)).status().code(), StatusCode::kCorruption) << size;
  }
}

TEST(ManifestTest, NewerFormatVersionIsRefusedWithAClearMessage) {
  std::string text = edited(encoded(sample()), "\"format_version\": 1", "\"format_version\": 2");
  EXPECT_STATUS(parse_manifest(kName, text), StatusCode::kFailedPrecondition, "format version 2; this build reads version 1");
}

TEST(ManifestTest, ValidChecksumDoesNotExcuseBadFields) {
  std::string text = encoded(sample());
  struct Case {
    const char* from;
    const char* to;
    const char* says;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"\"size\": 5000", "\"size\": 2000", "files[0].columns[0].section_end is 3000, above 2000"},
           {"100,\n", "300,\n", "key group 300"},
           {"\"entries\": 7", "\"entries\": 8", "counts its entries inconsistently"},
           {"\"end\": 128", "\"end\": 257", "above 256"},
           {"\"kind\": \"incremental\"", "\"kind\": \"full\"", "parent chain"},
           {"\"name\": \"chk-0000000040/state.snap\"", "\"name\": \"../state.snap\"", "not an object under"},
           {"\"checksum\": \"fedcba9876543210\"", "\"checksum\": \"FEDCBA9876543210\"", "16 lowercase hex"},
           {"\"kind\": \"list\"", "\"kind\": \"tree\"", "unknown kind 'tree'"},
           {"\"schema_version\": \"2.1.3\"", "\"schema_version\": \"2.1\"", "not major.minor.patch"},
           {"\"id\": 42", "\"id\": -42", "id is not an unsigned integer"},
           {"\"key\": \"21", "\"key\": \"2", "not hex"},
           {"\"topic-0\": \"1234\"", "\"topic-0\": 1234", "source_positions.topic-0 is not a string"},
       }) {
    SCOPED_TRACE(c.from);
    EXPECT_STATUS(parse_manifest(kName, edited(text, c.from, c.to)), StatusCode::kCorruption, c.says);
  }
}

TEST(ManifestTest, StringsThatAreNotUtf8AreRefusedWhenEncoding) {
  CheckpointManifest m = sample();
  m.user_metadata["bad"] = "\xff\xfe";
  EXPECT_STATUS(encode_manifest(m), StatusCode::kInvalidArgument, "valid UTF-8");
}

TEST(CheckpointNamesTest, FoldersSortLikeIdsAndOnlyTheCanonicalSpellingParses) {
  EXPECT_EQ(checkpoint_folder(7), "chk-0000000007");
  EXPECT_EQ(checkpoint_manifest_name(7), "chk-0000000007/manifest.json");
  EXPECT_LT(checkpoint_folder(9), checkpoint_folder(10));
  EXPECT_EQ(checkpoint_id_of("chk-0000000007/state.snap"), std::optional<CheckpointId>(7));
  EXPECT_EQ(checkpoint_id_of("chk-12345678901/x"), std::optional<CheckpointId>(12345678901ULL));
  EXPECT_EQ(checkpoint_id_of("chk-00000000007/x"), std::nullopt);
  EXPECT_EQ(checkpoint_id_of("chk-7/x"), std::nullopt);
  EXPECT_EQ(checkpoint_id_of("chk-000000000a/x"), std::nullopt);
  EXPECT_EQ(checkpoint_id_of("chk-0000000007"), std::nullopt);
  EXPECT_TRUE(is_manifest_name("chk-0000000007/manifest.json"));
  EXPECT_FALSE(is_manifest_name("chk-0000000007/sub/manifest.json"));
}

}  // namespace
}  // namespace streamstate::internal
