// Point-in-time recovery (WalOptions::recovery = kPointInTime): the log is kept up to its
// first damage - a bad record, a gap, a damaged or missing segment - the damaged segment is cut
// there and the later ones deleted, all reported in the statistics; appends then follow the
// kept records. The first segment's header must still be intact.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "streamstate/wal.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/wal/wal_test_util.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::replay_all;
using testing::segment_path;
using testing::write_file;

WalOptions point_in_time(const std::string& directory) {
  WalOptions options = testing::wal_options(directory, WalSyncPolicy::kNone, 4096);
  options.recovery = WalRecovery::kPointInTime;
  return options;
}

// Records of 200 bytes until there are three segments; record i's payload is 200 bytes of i.
uint64_t write_three_segments(const std::string& directory) {
  auto wal = Wal::open(testing::wal_options(directory, WalSyncPolicy::kNone, 4096));
  EXPECT_OK(wal);
  uint64_t last = 0;
  while ((*wal)->statistics().segments < 3) {
    last = (*wal)->append(1, std::string(200, static_cast<char>(last + 1))).value();
  }
  EXPECT_OK((*wal)->close());
  return last;
}

uint64_t first_sequence_of(const std::string& directory, uint64_t id) {
  return decode_fixed64(read_file(segment_path(directory, id)).data() + 24);
}

// The kept records replay as 1..kept, the next append gets kept + 1, and both survive a reopen.
void expect_kept_then_append(const std::string& directory, uint64_t kept) {
  {
    auto wal = Wal::open(point_in_time(directory));
    ASSERT_OK(wal);
    auto records = replay_all(**wal);
    ASSERT_OK(records);
    ASSERT_EQ(records->size(), kept);
    for (uint64_t i = 0; i < kept; ++i) ASSERT_EQ((*records)[i].payload, std::string(200, static_cast<char>(i + 1)));
    ASSERT_EQ((*wal)->append(1, "after").value(), kept + 1);
  }
  auto wal = Wal::open(testing::wal_options(directory));
  ASSERT_OK(wal);
  EXPECT_EQ(replay_all(**wal).value().size(), kept + 1);
}

TEST(WalPointInTimeTest, DamageInTheMiddleOfTheLastSegmentCutsThere) {
  testing::TempDir root;
  std::string directory = root.file("wal");
  fs::create_directories(directory);
  std::string bytes = wal::encode_segment_header({1, 1});
  for (uint64_t i = 1; i <= 5; ++i) wal::append_record(bytes, 1, i, std::string(200, static_cast<char>(i)));
  const uint64_t third = wal::kSegmentHeaderBytes + 2 * (wal::kRecordOverheadBytes + 200);
  bytes[third + 30] = static_cast<char>(bytes[third + 30] ^ 1);
  write_file(segment_path(directory, 1), bytes);
  EXPECT_STATUS(Wal::open(testing::wal_options(directory)), StatusCode::kCorruption, "intact record follows");
  {
    auto wal = Wal::open(point_in_time(directory));
    ASSERT_OK(wal);
    WalStatistics stats = (*wal)->statistics();
    EXPECT_EQ(stats.recovery_dropped_offset, third);
    EXPECT_EQ(stats.recovery_dropped_bytes, bytes.size() - third);
    EXPECT_EQ(stats.recovery_removed_segments, 0u);
  }
  expect_kept_then_append(directory, 2);
}

TEST(WalPointInTimeTest, DamageInAnEarlierSegmentDeletesTheLaterOnes) {
  testing::TempDir root;
  std::string directory = root.file("wal");
  write_three_segments(directory);
  const uint64_t later_bytes = fs::file_size(segment_path(directory, 2)) + fs::file_size(segment_path(directory, 3));
  std::string first = read_file(segment_path(directory, 1));
  const uint64_t damaged = wal::kSegmentHeaderBytes + 3 * (wal::kRecordOverheadBytes + 200);
  first[damaged + 5] = static_cast<char>(first[damaged + 5] ^ 1);  // record 4's sequence number
  write_file(segment_path(directory, 1), first);
  {
    auto wal = Wal::open(point_in_time(directory));
    ASSERT_OK(wal);
    WalStatistics stats = (*wal)->statistics();
    EXPECT_EQ(stats.recovery_dropped_file, segment_path(directory, 1).string());
    EXPECT_EQ(stats.recovery_dropped_offset, damaged);
    EXPECT_EQ(stats.recovery_dropped_bytes, first.size() - damaged + later_bytes);
    EXPECT_EQ(stats.recovery_removed_segments, 2u);
    EXPECT_EQ(stats.segments, 1u);
  }
  EXPECT_FALSE(fs::exists(segment_path(directory, 2)));
  EXPECT_FALSE(fs::exists(segment_path(directory, 3)));
  expect_kept_then_append(directory, 3);
}

TEST(WalPointInTimeTest, MissingOrDamagedSegmentEndsTheLogBeforeIt) {
  testing::TempDir root;
  std::string original = root.file("original");
  write_three_segments(original);
  const uint64_t kept = first_sequence_of(original, 2) - 1;

  std::string missing = root.file("missing");
  fs::copy(original, missing);
  fs::remove(segment_path(missing, 2));
  {
    auto wal = Wal::open(point_in_time(missing));
    ASSERT_OK(wal);
    EXPECT_EQ((*wal)->statistics().recovery_removed_segments, 1u);
    EXPECT_NE((*wal)->statistics().recovery_dropped_reason.find("is missing"), std::string::npos);
  }
  expect_kept_then_append(missing, kept);

  std::string header = root.file("header");
  fs::copy(original, header);
  std::string second = read_file(segment_path(header, 2));
  second[20] = static_cast<char>(second[20] ^ 1);
  write_file(segment_path(header, 2), second);
  {
    auto wal = Wal::open(point_in_time(header));
    ASSERT_OK(wal);
    EXPECT_EQ((*wal)->statistics().recovery_removed_segments, 2u);
    EXPECT_EQ((*wal)->statistics().recovery_dropped_file, segment_path(header, 2).string());
  }
  expect_kept_then_append(header, kept);
}

TEST(WalPointInTimeTest, DamagedFirstHeaderIsStillCorruption) {
  testing::TempDir root;
  std::string directory = root.file("wal");
  write_three_segments(directory);
  std::string first = read_file(segment_path(directory, 1));
  first[0] = 'X';
  write_file(segment_path(directory, 1), first);
  EXPECT_STATUS(Wal::open(point_in_time(directory)), StatusCode::kCorruption, "bad magic");
  EXPECT_TRUE(fs::exists(segment_path(directory, 3))) << "nothing deleted";
}

}  // namespace
}  // namespace streamstate
