// What each sync policy does on a real log: every-append and group commit fdatasync before an
// append returns (counted in the statistics), group commit shares syncs between threads,
// periodic syncs in the background, none syncs only when asked; under every policy an append
// has reached the file when it returns.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/wal.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/wal/wal_test_util.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;
using testing::payload_of;
using testing::record_bytes;
using testing::replay_all;
using testing::segment_path;
using testing::wal_options;

TEST(WalSyncPolicyTest, EveryAppendSyncsEachAppend) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal"), WalSyncPolicy::kEveryAppend));
  ASSERT_OK(wal);
  for (uint64_t i = 1; i <= 50; ++i) {
    ASSERT_OK((*wal)->append(1, payload_of(i)));
    WalStatistics stats = (*wal)->statistics();
    ASSERT_EQ(stats.syncs, i);
    ASSERT_EQ(stats.durable_sequence, i) << "durable before append() returned";
  }
}

TEST(WalSyncPolicyTest, EveryAppendFromManyThreadsStillSyncsEachCall) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal"), WalSyncPolicy::kEveryAppend));
  ASSERT_OK(wal);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) EXPECT_OK((*wal)->append(1, "x"));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ((*wal)->statistics().syncs, 100u);
  EXPECT_EQ((*wal)->statistics().durable_sequence, 100u);
}

TEST(WalSyncPolicyTest, GroupCommitSyncsBeforeReturningAndSharesSyncsBetweenThreads) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal"), WalSyncPolicy::kGroupCommit));
  ASSERT_OK(wal);
  // Alone, each append waits for a sync of its own.
  for (uint64_t i = 1; i <= 20; ++i) {
    ASSERT_OK((*wal)->append(1, payload_of(i)));
    ASSERT_EQ((*wal)->statistics().durable_sequence, i);
  }
  EXPECT_EQ((*wal)->statistics().syncs, 20u);
  // Eight threads: every append returns durable, and appends wait together.
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::vector<uint64_t>> returned(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto sequence = (*wal)->append(2, std::to_string(t) + ":" + std::to_string(i));
        EXPECT_OK(sequence);
        if (!sequence.is_ok()) return;
        EXPECT_GE((*wal)->statistics().durable_sequence, *sequence);
        returned[static_cast<size_t>(t)].push_back(*sequence);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  WalStatistics stats = (*wal)->statistics();
  EXPECT_EQ(stats.appends, 20u + kThreads * kPerThread);
  EXPECT_EQ(stats.durable_sequence, stats.last_sequence);
  EXPECT_LT(stats.syncs, stats.appends) << "concurrent appends shared syncs";
  EXPECT_GE(stats.syncs, 21u);
  // Every thread's records are in the log with the sequence numbers it was given.
  std::vector<std::string> by_sequence(stats.last_sequence + 1);
  ASSERT_OK((*wal)->replay(21, [&](const WalRecordView& record) {
    by_sequence[record.sequence] = std::string(record.payload);
    return Status::ok();
  }));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_EQ(by_sequence[returned[static_cast<size_t>(t)][static_cast<size_t>(i)]],
                std::to_string(t) + ":" + std::to_string(i));
    }
  }
}

TEST(WalSyncPolicyTest, PeriodicSyncsInTheBackground) {
  testing::TempDir directory;
  {
    // With an interval of an hour nothing syncs by itself; sync() does.
    WalOptions options = wal_options(directory.file("slow"), WalSyncPolicy::kPeriodic);
    options.sync_interval = std::chrono::hours(1);
    auto wal = Wal::open(options);
    ASSERT_OK(wal);
    for (int i = 0; i < 10; ++i) ASSERT_OK((*wal)->append(1, "x"));
    EXPECT_EQ((*wal)->statistics().syncs, 0u);
    EXPECT_EQ((*wal)->statistics().durable_sequence, 0u);
    ASSERT_OK((*wal)->sync());
    EXPECT_EQ((*wal)->statistics().syncs, 1u);
    EXPECT_EQ((*wal)->statistics().durable_sequence, 10u);
  }
  WalOptions options = wal_options(directory.file("fast"), WalSyncPolicy::kPeriodic);
  options.sync_interval = std::chrono::milliseconds(2);
  auto wal = Wal::open(options);
  ASSERT_OK(wal);
  for (int i = 0; i < 10; ++i) ASSERT_OK((*wal)->append(1, "x"));
  // Waits for the background thread, however long the machine makes it take.
  while ((*wal)->statistics().durable_sequence < 10) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_GE((*wal)->statistics().syncs, 1u);
}

TEST(WalSyncPolicyTest, PeriodicSyncsBesideAppendsAndRotations) {
  testing::TempDir directory;
  const std::string path = directory.file("wal");
  WalOptions options = wal_options(path, WalSyncPolicy::kPeriodic, 4096);
  options.sync_interval = std::chrono::milliseconds(1);
  {
    auto wal = Wal::open(options);
    ASSERT_OK(wal);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 300; ++i) EXPECT_OK((*wal)->append(1, payload_of(static_cast<uint64_t>(i))));
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_GE((*wal)->statistics().segments, 10u);
    ASSERT_OK((*wal)->close());
  }
  auto wal = Wal::open(options);
  ASSERT_OK(wal);
  EXPECT_EQ(replay_all(**wal).value().size(), 1200u);
}

TEST(WalSyncPolicyTest, NoneWritesEachAppendToTheFileBeforeReturningButDoesNotSync) {
  testing::TempDir directory;
  const std::string path = directory.file("wal");
  auto wal = Wal::open(wal_options(path, WalSyncPolicy::kNone));
  ASSERT_OK(wal);
  uint64_t expected_size = fs::file_size(segment_path(path, 1));
  for (uint64_t i = 1; i <= 30; ++i) {
    ASSERT_OK((*wal)->append(1, payload_of(i)));
    expected_size += record_bytes(payload_of(i));
    ASSERT_EQ(fs::file_size(segment_path(path, 1)), expected_size) << "append " << i << " reached the file";
  }
  EXPECT_EQ((*wal)->statistics().syncs, 0u);
  EXPECT_EQ((*wal)->statistics().bytes, expected_size - wal::kSegmentHeaderBytes) << "record bytes, framing included";
  ASSERT_OK((*wal)->close());
  auto reopened = Wal::open(wal_options(path));
  ASSERT_OK(reopened);
  EXPECT_EQ(replay_all(**reopened).value().size(), 30u);
}

TEST(WalSyncPolicyTest, RotationSyncsTheFinishedSegmentUnderEveryPolicy) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal"), WalSyncPolicy::kNone, 4096));
  ASSERT_OK(wal);
  while ((*wal)->statistics().segments < 4) ASSERT_OK((*wal)->append(1, std::string(500, 'r')));
  EXPECT_EQ((*wal)->statistics().syncs, 3u) << "one sync per finished segment";
}

}  // namespace
}  // namespace streamstate
