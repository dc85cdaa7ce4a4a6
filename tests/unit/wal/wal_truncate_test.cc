// Removing the segments a checkpoint covers: whole segments only, oldest first, never the
// active one; replay from a removed sequence number is kOutOfRange; the log reopens and goes on.
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
using testing::replay_all;
using testing::segment_path;
using testing::wal_options;

// First sequence number of each segment, read back through replay of a log whose records
// each name their segment in the payload is not needed: the segment files' headers say it.
std::vector<uint64_t> first_sequences(const std::string& directory, uint64_t segments) {
  std::vector<uint64_t> firsts;
  for (uint64_t id = 1; id <= segments; ++id) {
    std::string bytes = testing::read_file(segment_path(directory, id));
    firsts.push_back(decode_fixed64(bytes.data() + 24));
  }
  return firsts;
}

TEST(WalTruncateTest, RemovesTheSegmentsACheckpointCoversAndNeverTheActiveOne) {
  testing::TempDir root;
  const std::string path = root.file("wal");
  auto wal = Wal::open(wal_options(path, WalSyncPolicy::kNone, 4096));
  ASSERT_OK(wal);
  uint64_t last = 0;
  while ((*wal)->statistics().segments < 5) last = (*wal)->append(1, std::string(300, 'p')).value();
  const std::vector<uint64_t> firsts = first_sequences(path, 5);

  // A checkpoint through the last record of segment 2: segments 1 and 2 go.
  EXPECT_EQ((*wal)->truncate_before(firsts[2] - 1).value(), 1u) << "segment 2 still holds firsts[2] - 1";
  EXPECT_EQ((*wal)->truncate_before(firsts[2]).value(), 1u);
  EXPECT_FALSE(fs::exists(segment_path(path, 1)));
  EXPECT_FALSE(fs::exists(segment_path(path, 2)));
  EXPECT_TRUE(fs::exists(segment_path(path, 3)));
  WalStatistics stats = (*wal)->statistics();
  EXPECT_EQ(stats.segments, 3u);
  EXPECT_EQ(stats.segments_removed, 2u);
  EXPECT_EQ(stats.first_sequence, firsts[2]);

  auto replayed = replay_all(**wal);
  ASSERT_OK(replayed);
  ASSERT_FALSE(replayed->empty());
  EXPECT_EQ(replayed->front().sequence, firsts[2]);
  EXPECT_EQ(replayed->back().sequence, last);
  EXPECT_STATUS(replay_all(**wal, firsts[2] - 1), StatusCode::kOutOfRange, "oldest record kept is");
  EXPECT_OK(replay_all(**wal, firsts[2]));

  // Everything covered: all but the active segment go.
  EXPECT_EQ((*wal)->truncate_before(last + 1).value(), 2u);
  EXPECT_TRUE(fs::exists(segment_path(path, 5)));
  EXPECT_EQ((*wal)->statistics().segments, 1u);
  EXPECT_EQ((*wal)->truncate_before(last + 1000).value(), 0u);
  ASSERT_OK((*wal)->close());

  auto reopened = Wal::open(wal_options(path, WalSyncPolicy::kNone, 4096));
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->statistics().first_sequence, firsts[4]);
  EXPECT_EQ((*reopened)->append(1, "after").value(), last + 1);
  EXPECT_EQ(replay_all(**reopened).value().back().sequence, last + 1);
}

TEST(WalTruncateTest, NumberingContinuesAfterTruncationAndReopen) {
  testing::TempDir root;
  const std::string path = root.file("wal");
  uint64_t last = 0;
  {
    auto wal = Wal::open(wal_options(path, WalSyncPolicy::kNone, 4096));
    ASSERT_OK(wal);
    while ((*wal)->statistics().segments < 3) last = (*wal)->append(1, std::string(300, 'p')).value();
    ASSERT_OK((*wal)->truncate_before(last + 1));
  }
  auto wal = Wal::open(wal_options(path, WalSyncPolicy::kNone, 4096));
  ASSERT_OK(wal);
  EXPECT_EQ((*wal)->append(1, "next").value(), last + 1) << "sequence numbers are never reused";
}

}  // namespace
}  // namespace streamstate
