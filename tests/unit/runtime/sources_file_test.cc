// The text- and JSON-lines file sources: files and globs become splits sorted by path, positions
// are byte offsets that replay exactly (also regrouped, also across buffer boundaries),
// malformed lines fail or are skipped and counted, and missing files, bad globs and positions
// that do not fit the file are refused naming the path.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "streamstate/sources.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/runtime/sources_test_helpers.h"

namespace streamstate {
namespace {

using nlohmann::json;
using testing::CollectingOutput;
using testing::open_or_fail;
using testing::read_all;

class FileSourceTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::vector<SourceSplit> discover(Source<json>& source) {
    Result<std::vector<SourceSplit>> splits = source.discover_splits();
    EXPECT_OK(splits);
    return splits.is_ok() ? *splits : std::vector<SourceSplit>{};
  }

  testing::TempDir dir_;
};

std::vector<int> numbers(const std::vector<json>& records) {
  std::vector<int> values;
  for (const json& record : records) values.push_back(record.at("n").get<int>());
  return values;
}

TEST_F(FileSourceTest, GlobAndPathsBecomeSplitsSortedByPathReadInThatOrder) {
  const std::string b = write("b.jsonl", "{\"n\": 3}\n{\"n\": 4}\n");
  const std::string a = write("a.jsonl", "{\"n\": 1}\n\n   \n{\"n\": 2}");  // blank lines; no final newline
  const std::string c = write("c.jsonl", "{\"n\": 5}\r\n");
  write("other.txt", "not json\n");
  FileSourceOptions options;
  options.globs = {dir_.file("*.jsonl")};
  options.paths = {b};  // also matched by the glob: read once
  auto source = json_lines_source(options);
  const std::vector<SourceSplit> splits = discover(*source);
  EXPECT_EQ(splits, (std::vector<SourceSplit>{{a, ""}, {b, ""}, {c, ""}}));
  auto reader = open_or_fail(*source, splits);
  CollectingOutput<json> out;
  Result<SourcePoll> poll = reader->poll(out, 1);
  ASSERT_OK(poll);
  EXPECT_EQ(*poll, SourcePoll::kMore);
  EXPECT_EQ(reader->splits()[0].position, "9");  // after "{\"n\": 1}\n"
  testing::read_to_end(*reader, out);
  EXPECT_EQ(numbers(out.records), (std::vector<int>{1, 2, 3, 4, 5}));
  // Every split ends at its file's size.
  EXPECT_EQ(reader->splits(), (std::vector<SourceSplit>{{a, "22"}, {b, "18"}, {c, "10"}}));
  EXPECT_EQ(source->skipped_records(), 0u);
}

std::string json_lines(int from, int count) {
  std::string text;
  for (int i = from; i < from + count; ++i) {
    text += "{\"n\": " + std::to_string(i) + ", \"pad\": \"" + std::string(static_cast<size_t>(i % 37), 'x') + "\"}\n";
  }
  return text;
}

TEST_F(FileSourceTest, ContinuesExactlyFromItsPositionsAcrossBufferBoundaries) {
  write("1.jsonl", json_lines(0, 40));
  write("2.jsonl", json_lines(40, 1));
  write("3.jsonl", "");
  write("4.jsonl", json_lines(41, 60));
  FileSourceOptions options;
  options.globs = {dir_.file("*.jsonl")};
  options.read_buffer_bytes = 16;  // lines straddle reads, and the buffer grows for long lines
  auto source = json_lines_source(options);
  EXPECT_EQ(numbers(read_all(*source, discover(*source))).size(), 101u);
  testing::expect_exact_replay<json>(*source, {0, 1, 39, 40, 41, 77, 101});
}

TEST_F(FileSourceTest, SequenceDoesNotDependOnPollSizes) {
  write("x.jsonl", json_lines(0, 30));
  write("y.jsonl", json_lines(30, 30));
  FileSourceOptions options;
  options.globs = {dir_.file("*.jsonl")};
  auto source = json_lines_source(options);
  EXPECT_EQ(numbers(read_all(*source, discover(*source), 1)), numbers(read_all(*source, discover(*source), 1000)));
}

TEST_F(FileSourceTest, RegroupedSplitsGiveTheSameRecords) {
  for (int f = 0; f < 5; ++f) write("f" + std::to_string(f) + ".jsonl", json_lines(f * 20, 20));
  FileSourceOptions options;
  options.globs = {dir_.file("f*.jsonl")};
  auto source = json_lines_source(options);
  testing::expect_same_records_regrouped<json>(*source, 25, [](const json& record) { return record.dump(); });
}

TEST_F(FileSourceTest, TextLinesKeepBlankLinesAndDropCarriageReturns) {
  const std::string path = write("t.txt", "one\r\n\ntwo\nthree");
  FileSourceOptions options;
  options.paths = {path};
  auto source = text_lines_source(options);
  Result<std::vector<SourceSplit>> splits = source->discover_splits();
  ASSERT_OK(splits);
  EXPECT_EQ(read_all(*source, *splits), (std::vector<std::string>{"one", "", "two", "three"}));
  testing::expect_exact_replay<std::string>(*source, {1, 2, 3});
}

TEST_F(FileSourceTest, MalformedJsonFailsNamingFileLineOffsetAndParserMessage) {
  const std::string path = write("bad.jsonl", "{\"n\": 1}\n{\"n\": 2}\n{\"n\": oops}\n{\"n\": 4}\n");
  FileSourceOptions options;
  options.paths = {path};
  auto source = json_lines_source(options);
  auto reader = open_or_fail(*source, discover(*source));
  CollectingOutput<json> out;
  Result<SourcePoll> poll = reader->poll(out, 100);
  EXPECT_STATUS(poll, StatusCode::kInvalidArgument, path + " line 3 (byte offset 18): malformed JSON");
  EXPECT_STATUS(poll, StatusCode::kInvalidArgument, "parse error");  // nlohmann's own message
  EXPECT_STATUS(poll, StatusCode::kInvalidArgument, "MalformedRecords::kSkip");
  EXPECT_EQ(numbers(out.records), (std::vector<int>{1, 2}));
  // The position stops before the bad line: a restore meets it again.
  EXPECT_EQ(reader->splits()[0].position, "18");
  EXPECT_EQ(source->skipped_records(), 0u);
}

TEST_F(FileSourceTest, MalformedJsonIsSkippedAndCounted) {
  write("a.jsonl", "{\"n\": 1}\n{\"n\": oops}\n{\"n\": 2}\n[1,\n");
  write("b.jsonl", "{\"n\": 3}\n}\n");
  FileSourceOptions options;
  options.globs = {dir_.file("*.jsonl")};
  options.malformed = MalformedRecords::kSkip;
  auto source = json_lines_source(options);
  const std::vector<SourceSplit> splits = discover(*source);
  auto reader = open_or_fail(*source, splits);
  CollectingOutput<json> out;
  testing::read_to_end(*reader, out);
  EXPECT_EQ(numbers(out.records), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(source->skipped_records(), 3u);
  // Skipped lines are behind the positions: a reader restored at the end skips nothing more.
  auto restored = open_or_fail(*source, reader->splits());
  CollectingOutput<json> none;
  testing::read_to_end(*restored, none);
  EXPECT_TRUE(none.records.empty());
  EXPECT_EQ(source->skipped_records(), 3u);
  testing::expect_exact_replay<json>(*source, {1, 2});
}

TEST_F(FileSourceTest, MissingFilesAndEmptyGlobsAreRefusedNamingThem) {
  FileSourceOptions missing;
  missing.paths = {dir_.file("nope.jsonl")};
  EXPECT_STATUS(json_lines_source(missing)->discover_splits(), StatusCode::kNotFound, dir_.file("nope.jsonl"));
  FileSourceOptions empty_glob;
  empty_glob.globs = {dir_.file("*.csv")};
  EXPECT_STATUS(json_lines_source(empty_glob)->discover_splits(), StatusCode::kNotFound,
                "'" + dir_.file("*.csv") + "' matches no file");
  EXPECT_STATUS(json_lines_source(FileSourceOptions{})->discover_splits(), StatusCode::kInvalidArgument,
                "FileSourceOptions::paths");
  FileSourceOptions directory;
  directory.paths = {dir_.path().string()};
  EXPECT_STATUS(json_lines_source(directory)->discover_splits(), StatusCode::kInvalidArgument,
                "is not a regular file");
  // A file gone between the checkpoint and the restore.
  const std::string gone = write("gone.jsonl", "{\"n\": 1}\n");
  FileSourceOptions options;
  options.paths = {gone};
  auto source = json_lines_source(options);
  const std::vector<SourceSplit> splits = discover(*source);
  std::filesystem::remove(gone);
  EXPECT_STATUS(source->open_reader(splits, {}), StatusCode::kNotFound, gone);
}

TEST_F(FileSourceTest, PositionsThatDoNotFitTheFileAreRefused) {
  const std::string path = write("p.jsonl", "{\"n\": 1}\n{\"n\": 2}\n");  // 18 bytes
  FileSourceOptions options;
  options.paths = {path};
  auto source = json_lines_source(options);
  EXPECT_STATUS(source->open_reader({{path, "19"}}, {}), StatusCode::kInvalidArgument,
                "position 19 of " + path + " is beyond the file's size (18 bytes)");
  EXPECT_STATUS(source->open_reader({{path, "4"}}, {}), StatusCode::kInvalidArgument, "not the start of a line");
  EXPECT_STATUS(source->open_reader({{path, "-1"}}, {}), StatusCode::kInvalidArgument, "'-1'");
  EXPECT_EQ(numbers(read_all(*source, {{path, "9"}})), (std::vector<int>{2}));
  EXPECT_TRUE(read_all(*source, {{path, "18"}}).empty());
  EXPECT_STATUS(source->open_reader({{path, "9"}, {path, ""}}, {}), StatusCode::kInvalidArgument, "given twice");
}

TEST_F(FileSourceTest, LineLongerThanTheLimitFailsNamingTheOffset) {
  const std::string path = write("long.txt", "short\n" + std::string(300, 'y') + "\nafter\n");
  FileSourceOptions options;
  options.paths = {path};
  options.read_buffer_bytes = 64;
  options.max_record_bytes = 100;
  auto source = text_lines_source(options);
  auto reader = open_or_fail(*source, *source->discover_splits());
  CollectingOutput<std::string> out;
  Result<SourcePoll> poll = reader->poll(out, 10);
  EXPECT_STATUS(poll, StatusCode::kInvalidArgument, "byte offset 6 is longer than FileSourceOptions::max_record_bytes");
  EXPECT_EQ(out.records, (std::vector<std::string>{"short"}));
}

}  // namespace
}  // namespace streamstate
