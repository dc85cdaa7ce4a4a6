// Write-ahead log recovery: a torn or damaged end of the last segment is cut off (reported in
// the statistics) and later appends follow the intact prefix; damage anywhere else is
// kCorruption naming the segment file and offset, and the files are left as they were.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "streamstate/wal.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/wal/wal_test_util.h"
#include "wal/segment_format.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::record_bytes;
using testing::replay_all;
using testing::ReplayedRecord;
using testing::segment_path;
using testing::wal_options;
using testing::write_file;

// Five records in one segment, the last one short so that every offset of it can be tried.
const std::vector<std::string>& payloads() {
  static const std::vector<std::string> kPayloads = {"first", std::string(70, 'b'), "third\0record",
                                                     std::string(130, '\x7f'), "the last record: 32 bytes long.."};
  return kPayloads;
}

std::vector<ReplayedRecord> records_up_to(size_t count) {
  std::vector<ReplayedRecord> out;
  for (size_t i = 0; i < count; ++i) out.push_back({i + 1, static_cast<uint8_t>(i + 1), payloads()[i]});
  return out;
}

// Offset of record `index` (0-based) in the segment.
uint64_t record_offset(size_t index) {
  uint64_t offset = wal::kSegmentHeaderBytes;
  for (size_t i = 0; i < index; ++i) offset += record_bytes(payloads()[i]);
  return offset;
}

// Writes the five records to `directory` and returns the bytes of its one segment.
std::string write_log(const std::string& directory) {
  auto wal = Wal::open(wal_options(directory));
  EXPECT_OK(wal);
  for (size_t i = 0; i < payloads().size(); ++i) EXPECT_OK((*wal)->append(static_cast<uint8_t>(i + 1), payloads()[i]));
  EXPECT_OK((*wal)->close());
  return read_file(segment_path(directory, 1));
}

// Opens a log whose single segment holds `bytes`, in a fresh directory under `root`.
std::string log_with_segment(const testing::TempDir& root, const std::string& name, const std::string& bytes) {
  std::string directory = root.file(name);
  fs::create_directories(directory);
  write_file(segment_path(directory, 1), bytes);
  return directory;
}

// After recovery: the intact prefix replays, an append follows it, and both survive a reopen.
void expect_prefix_then_append(const std::string& directory, size_t intact) {
  const std::string appended = "appended after recovery";
  {
    auto wal = Wal::open(wal_options(directory));
    ASSERT_OK(wal);
    ASSERT_EQ(replay_all(**wal).value(), records_up_to(intact));
    ASSERT_EQ((*wal)->append(9, appended).value(), intact + 1);
    ASSERT_OK((*wal)->close());
  }
  auto wal = Wal::open(wal_options(directory));
  ASSERT_OK(wal);
  std::vector<ReplayedRecord> expected = records_up_to(intact);
  expected.push_back({intact + 1, 9, appended});
  EXPECT_EQ(replay_all(**wal).value(), expected);
  EXPECT_EQ((*wal)->statistics().recovery_dropped_bytes, 0u);
}

TEST(WalRecoveryTest, TruncatingTheLastRecordAtEveryOffsetKeepsTheIntactPrefix) {
  testing::TempDir root;
  const std::string segment = write_log(root.file("original"));
  const uint64_t last = record_offset(4);
  ASSERT_EQ(segment.size(), last + record_bytes(payloads()[4]));
  for (uint64_t cut = last; cut < segment.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    std::string directory = log_with_segment(root, "cut" + std::to_string(cut), segment.substr(0, cut));
    {
      auto wal = Wal::open(wal_options(directory));
      ASSERT_OK(wal);
      WalStatistics stats = (*wal)->statistics();
      EXPECT_EQ(stats.recovery_dropped_bytes, cut - last);
      if (cut > last) {
        EXPECT_EQ(stats.recovery_dropped_offset, last);
        EXPECT_EQ(stats.recovery_dropped_file, segment_path(directory, 1).string());
        EXPECT_FALSE(stats.recovery_dropped_reason.empty());
      }
      EXPECT_EQ(stats.last_sequence, 4u);
    }
    EXPECT_EQ(fs::file_size(segment_path(directory, 1)), last) << "the torn bytes were cut off";
    expect_prefix_then_append(directory, 4);
  }
}

TEST(WalRecoveryTest, ByteFlippedInAnyPartOfTheLastRecordCutsItOff) {
  testing::TempDir root;
  const std::string segment = write_log(root.file("original"));
  const uint64_t last = record_offset(4);
  // Length (4 bytes), type (1), sequence (8), payload, checksum (8).
  for (uint64_t offset = last; offset < segment.size(); ++offset) {
    SCOPED_TRACE("byte " + std::to_string(offset - last) + " of the last record");
    std::string damaged = segment;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x5a);
    std::string directory = log_with_segment(root, "flip" + std::to_string(offset), damaged);
    {
      auto wal = Wal::open(wal_options(directory));
      ASSERT_OK(wal);
      WalStatistics stats = (*wal)->statistics();
      EXPECT_EQ(stats.recovery_dropped_bytes, segment.size() - last);
      EXPECT_EQ(stats.recovery_dropped_offset, last);
    }
    expect_prefix_then_append(directory, 4);
  }
}

TEST(WalRecoveryTest, ByteFlippedInAnyPartOfAMiddleRecordIsCorruptionNamingFileAndOffset) {
  testing::TempDir root;
  const std::string segment = write_log(root.file("original"));
  const uint64_t middle = record_offset(2);
  for (uint64_t offset = middle; offset < record_offset(3); ++offset) {
    SCOPED_TRACE("byte " + std::to_string(offset - middle) + " of record 3");
    std::string damaged = segment;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x5a);
    std::string directory = log_with_segment(root, "flip" + std::to_string(offset), damaged);
    EXPECT_STATUS(Wal::open(wal_options(directory)), StatusCode::kCorruption,
                  segment_path(directory, 1).string() + " offset " + std::to_string(middle) + ":");
    EXPECT_EQ(read_file(segment_path(directory, 1)), damaged) << "a failed recovery changes nothing";
  }
}

TEST(WalRecoveryTest, HugeLengthFieldIsDamageNotAnAllocation) {
  testing::TempDir root;
  const std::string segment = write_log(root.file("original"));
  auto with_length = [&](uint64_t record_start, uint32_t length) {
    std::string damaged = segment;
    std::string field;
    put_fixed32(field, length);
    damaged.replace(record_start, 4, field);
    return damaged;
  };
  // In the last record: a torn tail, cut off.
  std::string tail = log_with_segment(root, "tail", with_length(record_offset(4), 0xFFFFFFFFu));
  {
    auto wal = Wal::open(wal_options(tail));
    ASSERT_OK(wal);
    EXPECT_EQ((*wal)->statistics().recovery_dropped_offset, record_offset(4));
    EXPECT_NE((*wal)->statistics().recovery_dropped_reason.find("max_record_bytes"), std::string::npos);
  }
  expect_prefix_then_append(tail, 4);
  // In a middle record: corruption that says what is wrong.
  std::string middle = log_with_segment(root, "middle", with_length(record_offset(1), 0xFFFFFFF0u));
  EXPECT_STATUS(Wal::open(wal_options(middle)), StatusCode::kCorruption, "exceeds max_record_bytes");
  // A length within max_record_bytes but past the end of the file, in a middle record.
  WalOptions large = wal_options(root.file("large"));
  large.max_record_bytes = 1U << 30;
  std::string past_end = log_with_segment(root, "large", with_length(record_offset(1), (1U << 30) - 1));
  EXPECT_STATUS(Wal::open(large), StatusCode::kCorruption, "runs past the end of the file");
}

TEST(WalRecoveryTest, ZeroFilledTailIsCutOff) {
  testing::TempDir root;
  const std::string segment = write_log(root.file("original"));
  std::string directory = log_with_segment(root, "zeros", segment + std::string(4096, '\0'));
  {
    auto wal = Wal::open(wal_options(directory));
    ASSERT_OK(wal);
    EXPECT_EQ((*wal)->statistics().recovery_dropped_bytes, 4096u);
    EXPECT_EQ((*wal)->statistics().recovery_dropped_offset, segment.size());
  }
  expect_prefix_then_append(directory, 5);
}

// A log of three segments with records 1..n; returns n.
uint64_t write_three_segments(const std::string& directory) {
  auto wal = Wal::open(wal_options(directory, WalSyncPolicy::kNone, 4096));
  EXPECT_OK(wal);
  uint64_t n = 0;
  while ((*wal)->statistics().segments < 3) EXPECT_OK((*wal)->append(1, std::string(200, static_cast<char>(n++))));
  EXPECT_OK((*wal)->append(1, "in the last segment"));
  EXPECT_OK((*wal)->close());
  return n + 1;
}

TEST(WalRecoveryTest, DamagedSegmentHeaderIsCorruptionAtOffsetZero) {
  testing::TempDir root;
  std::string original = root.file("original");
  write_three_segments(original);
  for (uint64_t id : {1, 3}) {
    const std::string header = read_file(segment_path(original, id));
    for (size_t byte = 0; byte < wal::kSegmentHeaderBytes; ++byte) {
      SCOPED_TRACE("segment " + std::to_string(id) + " header byte " + std::to_string(byte));
      std::string directory = root.file("h" + std::to_string(id) + "-" + std::to_string(byte));
      fs::copy(original, directory);
      std::string damaged = header;
      damaged[byte] = static_cast<char>(damaged[byte] ^ 0x10);
      write_file(segment_path(directory, id), damaged);
      EXPECT_STATUS(Wal::open(wal_options(directory)), StatusCode::kCorruption,
                    segment_path(directory, id).string() + " offset 0:");
    }
  }
}

TEST(WalRecoveryTest, MissingMiddleSegmentIsCorruption) {
  testing::TempDir root;
  std::string directory = root.file("wal");
  write_three_segments(directory);
  fs::remove(segment_path(directory, 2));
  EXPECT_STATUS(Wal::open(wal_options(directory)), StatusCode::kCorruption,
                wal::segment_file_name(2) + " is missing");
}

TEST(WalRecoveryTest, DamageInASegmentThatIsNotTheLastIsCorruption) {
  testing::TempDir root;
  std::string original = root.file("original");
  write_three_segments(original);
  const std::string first = read_file(segment_path(original, 1));
  // The end of segment 1 would be a tolerable tail if segment 1 were the last one.
  std::string flipped = root.file("flipped");
  fs::copy(original, flipped);
  std::string damaged = first;
  damaged[damaged.size() - 3] = static_cast<char>(damaged[damaged.size() - 3] ^ 1);
  write_file(segment_path(flipped, 1), damaged);
  EXPECT_STATUS(Wal::open(wal_options(flipped)), StatusCode::kCorruption, "not the last");
  EXPECT_EQ(read_file(segment_path(flipped, 1)), damaged);

  std::string cut = root.file("cut");
  fs::copy(original, cut);
  write_file(segment_path(cut, 1), first.substr(0, first.size() - 10));
  EXPECT_STATUS(Wal::open(wal_options(cut)), StatusCode::kCorruption, segment_path(cut, 1).string());
}

TEST(WalRecoveryTest, GapInSequenceNumbersIsCorruption) {
  testing::TempDir root;
  // Records 1, 2, 4 with valid checksums: the gap itself is the damage.
  std::string within = root.file("within");
  fs::create_directories(within);
  std::string bytes = wal::encode_segment_header({1, 1});
  for (uint64_t sequence : {1, 2, 4}) wal::append_record(bytes, 1, sequence, "x");
  write_file(segment_path(within, 1), bytes);
  EXPECT_STATUS(Wal::open(wal_options(within)), StatusCode::kCorruption, "where 3 was expected");

  // Segment 2 starts at 5 but segment 1 ends at 3.
  std::string across = root.file("across");
  fs::create_directories(across);
  std::string first = wal::encode_segment_header({1, 1});
  for (uint64_t sequence : {1, 2, 3}) wal::append_record(first, 1, sequence, "x");
  std::string second = wal::encode_segment_header({2, 5});
  wal::append_record(second, 1, 5, "y");
  write_file(segment_path(across, 1), first);
  write_file(segment_path(across, 2), second);
  EXPECT_STATUS(Wal::open(wal_options(across)), StatusCode::kCorruption, "previous one ends at 3");
}

TEST(WalRecoveryTest, SegmentCarryingAnotherIdIsCorruption) {
  testing::TempDir root;
  std::string directory = root.file("wal");
  write_three_segments(directory);
  fs::rename(segment_path(directory, 3), segment_path(directory, 4));
  fs::rename(segment_path(directory, 2), segment_path(directory, 3));
  EXPECT_STATUS(Wal::open(wal_options(directory)), StatusCode::kCorruption, "names segment 2");
}

TEST(WalRecoveryTest, UnfinishedSegmentCreationIsRemoved) {
  testing::TempDir root;
  std::string directory = root.file("wal");
  write_log(directory);
  fs::path temp = segment_path(directory, 2);
  temp += ".tmp";
  write_file(temp, "partial");
  expect_prefix_then_append(directory, 5);
  EXPECT_FALSE(fs::exists(temp));
}

TEST(WalRecoveryTest, ReplayOfAnOpenLogReportsDamageMadeAfterOpen) {
  testing::TempDir root;
  std::string directory = root.file("wal");
  auto wal = Wal::open(wal_options(directory));
  ASSERT_OK(wal);
  for (size_t i = 0; i < payloads().size(); ++i) ASSERT_OK((*wal)->append(static_cast<uint8_t>(i + 1), payloads()[i]));
  std::string bytes = read_file(segment_path(directory, 1));
  bytes[record_offset(4) + 20] = static_cast<char>(bytes[record_offset(4) + 20] ^ 1);
  write_file(segment_path(directory, 1), bytes);
  EXPECT_STATUS(replay_all(**wal), StatusCode::kCorruption,
                segment_path(directory, 1).string() + " offset " + std::to_string(record_offset(4)));
}

}  // namespace
}  // namespace streamstate
