// The two-step append (Wal::enqueue, then Wal::wait_for): records keep the order in which they
// were enqueued (under the caller's own lock), nothing is acknowledged before wait_for, waits
// under group commit share fsyncs, kNone waits for the write only, a sequence never handed out
// is refused, and close() writes what was enqueued.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "wal_test_util.h"

namespace streamstate {
namespace {

using testing::payload_of;
using testing::replay_all;
using testing::TempDir;
using testing::wal_options;

TEST(WalEnqueueTest, EnqueuedRecordsBecomeDurableOnlyWhenWaitedFor) {
  TempDir dir;
  auto wal = Wal::open(wal_options(dir.file("log"), WalSyncPolicy::kGroupCommit)).value();
  auto first = wal->enqueue(1, "a");
  auto second = wal->enqueue(2, "b");
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(*second, *first + 1);
  EXPECT_LT(wal->statistics().durable_sequence, *first) << "enqueue does not write";
  ASSERT_OK(wal->wait_for(*second));
  EXPECT_GE(wal->statistics().durable_sequence, *second);
  auto records = replay_all(*wal);
  ASSERT_OK(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].payload, "a");
  EXPECT_EQ((*records)[1].type, 2);
}

TEST(WalEnqueueTest, OrderUnderTheCallersLockIsTheLogOrderAndWaitsShareSyncs) {
  TempDir dir;
  auto wal = Wal::open(wal_options(dir.file("log"), WalSyncPolicy::kGroupCommit)).value();
  std::mutex order;  // the caller's lock: what it applies and what it logs happen in one order
  std::vector<uint64_t> applied;
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const uint64_t n = static_cast<uint64_t>(t) * kEach + i;
        uint64_t sequence = 0;
        {
          std::lock_guard<std::mutex> lock(order);
          auto enqueued = wal->enqueue(1, payload_of(n));
          ASSERT_OK(enqueued);
          sequence = *enqueued;
          applied.push_back(n);
        }
        ASSERT_OK(wal->wait_for(sequence));  // outside the lock
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto records = replay_all(*wal);
  ASSERT_OK(records);
  ASSERT_EQ(records->size(), applied.size());
  for (size_t i = 0; i < applied.size(); ++i) EXPECT_EQ((*records)[i].payload, payload_of(applied[i])) << i;
  const WalStatistics statistics = wal->statistics();
  EXPECT_EQ(statistics.durable_sequence, statistics.last_sequence);
  EXPECT_LT(statistics.syncs, static_cast<uint64_t>(kThreads * kEach)) << "waits share fsyncs";
}

TEST(WalEnqueueTest, WithoutSyncsAWaitWritesTheRecord) {
  TempDir dir;
  auto wal = Wal::open(wal_options(dir.file("log"), WalSyncPolicy::kNone)).value();
  const uint64_t bytes_before = wal->statistics().bytes;
  auto sequence = wal->enqueue(1, "payload");
  ASSERT_OK(sequence);
  EXPECT_EQ(wal->statistics().bytes, bytes_before);
  ASSERT_OK(wal->wait_for(*sequence));
  EXPECT_GT(wal->statistics().bytes, bytes_before);
  EXPECT_EQ(wal->statistics().syncs, 0u);
}

TEST(WalEnqueueTest, ASequenceNeverHandedOutIsRefused) {
  TempDir dir;
  auto wal = Wal::open(wal_options(dir.file("log"))).value();
  auto sequence = wal->enqueue(1, "x");
  ASSERT_OK(sequence);
  EXPECT_EQ(wal->wait_for(*sequence + 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->enqueue(0, "reserved type").status().code(), StatusCode::kInvalidArgument);
}

TEST(WalEnqueueTest, CloseWritesWhatWasEnqueued) {
  TempDir dir;
  {
    auto wal = Wal::open(wal_options(dir.file("log"), WalSyncPolicy::kGroupCommit)).value();
    const WalRecordInput batch[] = {{3, "one"}, {4, "two"}};
    ASSERT_OK(wal->enqueue_batch(batch));
    ASSERT_OK(wal->close());
  }
  auto wal = Wal::open(wal_options(dir.file("log"), WalSyncPolicy::kGroupCommit)).value();
  auto records = replay_all(*wal);
  ASSERT_OK(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].payload, "two");
}

}  // namespace
}  // namespace streamstate
