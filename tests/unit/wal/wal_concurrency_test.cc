// Appends, replays and truncations at the same time (run under ThreadSanitizer by
// scripts/test.sh): every replay sees a gap-free run of intact records, truncation never
// breaks a replay in progress, and every append lands exactly once.
#include <gtest/gtest.h>

#include <atomic>
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

using testing::wal_options;

TEST(WalConcurrencyTest, ReplayAndTruncationRunBesideAppends) {
  testing::TempDir directory;
  for (WalSyncPolicy policy : {WalSyncPolicy::kNone, WalSyncPolicy::kGroupCommit}) {
    SCOPED_TRACE(std::string(wal_sync_policy_name(policy)));
    const std::string path = directory.file(std::string(wal_sync_policy_name(policy)));
    auto wal = Wal::open(wal_options(path, policy, 4096));
    ASSERT_OK(wal);
    constexpr int kThreads = 4;
    constexpr int kPerThread = 300;
    std::atomic<int> appending{kThreads};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          EXPECT_OK((*wal)->append(1, std::to_string(t) + ":" + std::to_string(i) + std::string(100, 'x')));
        }
        --appending;
      });
    }
    int replays = 0;
    std::thread reader([&] {
      while (appending.load() > 0 || replays == 0) {
        uint64_t previous = 0;
        EXPECT_OK((*wal)->replay(0, [&](const WalRecordView& record) {
          if (previous != 0) {
            EXPECT_EQ(record.sequence, previous + 1);
          }
          previous = record.sequence;
          return Status::ok();
        }));
        ++replays;
      }
    });
    std::thread truncator([&] {
      while (appending.load() > 0) {
        EXPECT_OK((*wal)->truncate_before((*wal)->statistics().last_sequence / 2));
        std::this_thread::yield();
      }
    });
    for (auto& thread : threads) thread.join();
    reader.join();
    truncator.join();

    WalStatistics stats = (*wal)->statistics();
    EXPECT_EQ(stats.last_sequence, static_cast<uint64_t>(kThreads * kPerThread));
    std::set<std::string> seen;
    uint64_t count = 0;
    ASSERT_OK((*wal)->replay(0, [&](const WalRecordView& record) {
      EXPECT_TRUE(seen.insert(std::string(record.payload)).second) << "record appended twice";
      ++count;
      return Status::ok();
    }));
    EXPECT_EQ(count, stats.last_sequence - stats.first_sequence + 1);
  }
}

}  // namespace
}  // namespace streamstate
