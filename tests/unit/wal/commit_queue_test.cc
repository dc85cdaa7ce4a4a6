// The group-commit queue on its own, with a flush the test controls: appenders that arrive
// while a write is in progress are written together afterwards with one sync, every-append
// calls get one sync each, and a failed flush fails the waiting records and everything after.
#include "wal/commit_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "testutil/status_matchers.h"

namespace streamstate::wal {
namespace {

// A flush that records its calls and, while `hold` is set, blocks until released.
class ControlledFlush {
 public:
  Status flush(BytesView records, uint64_t first, uint64_t last, bool sync) {
    std::unique_lock lock(mutex_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_; });
    calls_.push_back({std::string(records), first, last, sync});
    return fail_ ? Status::io_error("disk on fire") : Status::ok();
  }
  void hold() {
    std::lock_guard lock(mutex_);
    hold_ = true;
  }
  void release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }
  void wait_entered(int count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return entered_ >= count; });
  }
  void fail() {
    std::lock_guard lock(mutex_);
    fail_ = true;
  }
  struct Call {
    std::string records;
    uint64_t first;
    uint64_t last;
    bool sync;
  };
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_ = false;
  bool fail_ = false;
  int entered_ = 0;
  std::vector<Call> calls_;
};

CommitQueue::Encode encode_text(std::string text) {
  return [text](std::string& out, uint64_t) { out += text; };
}

// Waits (without a time limit) until `count` sequence numbers have been handed out.
void wait_numbered(const CommitQueue& queue, uint64_t next) {
  while (queue.counters().next_sequence < next) std::this_thread::yield();
}

TEST(CommitQueueTest, AppendersWaitingDuringASyncShareTheNextOne) {
  ControlledFlush flush;
  CommitQueue queue(1, [&](BytesView r, uint64_t f, uint64_t l, bool s) { return flush.flush(r, f, l, s); });
  flush.hold();
  std::thread leader([&] { EXPECT_EQ(queue.submit(1, encode_text("a"), CommitQueue::Wait::kDurable).value(), 1u); });
  flush.wait_entered(1);  // the leader is inside its write and sync
  std::vector<std::thread> followers;
  std::atomic<int> done{0};
  for (int i = 0; i < 7; ++i) {
    followers.emplace_back([&] {
      EXPECT_OK(queue.submit(1, encode_text("b"), CommitQueue::Wait::kDurable));
      ++done;
    });
  }
  wait_numbered(queue, 9);
  EXPECT_EQ(done.load(), 0) << "nobody returns before its record is durable";
  flush.release();
  leader.join();
  for (auto& follower : followers) follower.join();
  std::vector<ControlledFlush::Call> calls = flush.calls();
  ASSERT_EQ(calls.size(), 2u) << "seven waiting appends, one write and one sync";
  EXPECT_EQ(calls[0].records, "a");
  EXPECT_EQ(calls[1].records, "bbbbbbb");
  EXPECT_EQ(calls[1].first, 2u);
  EXPECT_EQ(calls[1].last, 8u);
  EXPECT_TRUE(calls[0].sync && calls[1].sync);
  CommitQueue::Counters counters = queue.counters();
  EXPECT_EQ(counters.syncs, 2u);
  EXPECT_EQ(counters.records, 8u);
  EXPECT_EQ(counters.durable_sequence, 8u);
}

TEST(CommitQueueTest, EveryAppendCallsGetASyncOfTheirOwn) {
  ControlledFlush flush;
  CommitQueue queue(1, [&](BytesView r, uint64_t f, uint64_t l, bool s) { return flush.flush(r, f, l, s); });
  flush.hold();
  std::thread first([&] { EXPECT_OK(queue.submit(1, encode_text("a"), CommitQueue::Wait::kOwnSync)); });
  flush.wait_entered(1);
  std::vector<std::thread> others;
  for (int i = 0; i < 5; ++i) {
    others.emplace_back([&] { EXPECT_OK(queue.submit(2, encode_text("bb"), CommitQueue::Wait::kOwnSync)); });
  }
  flush.release();
  first.join();
  for (auto& other : others) other.join();
  std::vector<ControlledFlush::Call> calls = flush.calls();
  ASSERT_EQ(calls.size(), 6u);
  for (size_t i = 1; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].records, "bb");
    EXPECT_EQ(calls[i].last - calls[i].first, 1u);
    EXPECT_TRUE(calls[i].sync);
  }
  EXPECT_EQ(queue.counters().syncs, 6u);
}

TEST(CommitQueueTest, WrittenWaitNeverSyncs) {
  ControlledFlush flush;
  CommitQueue queue(10, [&](BytesView r, uint64_t f, uint64_t l, bool s) { return flush.flush(r, f, l, s); });
  EXPECT_EQ(queue.submit(3, encode_text("abc"), CommitQueue::Wait::kWritten).value(), 10u);
  EXPECT_EQ(queue.counters().syncs, 0u);
  EXPECT_EQ(queue.counters().written_sequence, 12u);
  EXPECT_EQ(queue.counters().durable_sequence, 9u);
  ASSERT_OK(queue.sync_all());
  EXPECT_EQ(queue.counters().durable_sequence, 12u);
  ASSERT_OK(queue.sync_all());
  EXPECT_EQ(queue.counters().syncs, 1u) << "nothing new, no second sync";
  ASSERT_EQ(flush.calls().size(), 2u);
  EXPECT_EQ(flush.calls()[1].records, "");
}

TEST(CommitQueueTest, SyncWrittenSyncsWhatWasWrittenWithoutAWrite) {
  ControlledFlush flush;
  CommitQueue queue(1, [&](BytesView r, uint64_t f, uint64_t l, bool s) { return flush.flush(r, f, l, s); });
  ASSERT_OK(queue.submit(3, encode_text("abc"), CommitQueue::Wait::kWritten));
  int syncs = 0;
  auto sync = [&] {
    ++syncs;
    return Status::ok();
  };
  ASSERT_OK(queue.sync_written(sync));
  EXPECT_EQ(syncs, 1);
  EXPECT_EQ(queue.counters().durable_sequence, 3u);
  EXPECT_EQ(queue.counters().syncs, 1u);
  ASSERT_OK(queue.sync_written(sync));
  EXPECT_EQ(syncs, 1) << "nothing new was written";
  EXPECT_EQ(flush.calls().size(), 1u) << "no write of its own";
  // A failed sync fails the queue like a failed flush.
  ASSERT_OK(queue.submit(1, encode_text("d"), CommitQueue::Wait::kWritten));
  EXPECT_STATUS(queue.sync_written([] { return Status::io_error("sync failed"); }), StatusCode::kIoError,
                "sync failed");
  EXPECT_STATUS(queue.submit(1, encode_text("e"), CommitQueue::Wait::kWritten), StatusCode::kIoError, "reopen");
}

TEST(CommitQueueTest, FailedFlushFailsItsRecordsAndEverythingAfter) {
  ControlledFlush flush;
  CommitQueue queue(1, [&](BytesView r, uint64_t f, uint64_t l, bool s) { return flush.flush(r, f, l, s); });
  ASSERT_OK(queue.submit(1, encode_text("a"), CommitQueue::Wait::kDurable));
  flush.fail();
  EXPECT_STATUS(queue.submit(1, encode_text("b"), CommitQueue::Wait::kDurable), StatusCode::kIoError, "reopen");
  flush.release();
  EXPECT_STATUS(queue.submit(1, encode_text("c"), CommitQueue::Wait::kWritten), StatusCode::kIoError, "disk on fire");
  EXPECT_STATUS(queue.sync_all(), StatusCode::kIoError, "disk on fire");
  EXPECT_EQ(queue.counters().durable_sequence, 1u);
  EXPECT_EQ(flush.calls().size(), 2u) << "no write after the failure";
}

TEST(CommitQueueTest, CloseWritesWhatWasSubmittedAndRefusesMore) {
  ControlledFlush flush;
  CommitQueue queue(1, [&](BytesView r, uint64_t f, uint64_t l, bool s) { return flush.flush(r, f, l, s); });
  ASSERT_OK(queue.submit(2, encode_text("ab"), CommitQueue::Wait::kWritten));
  ASSERT_OK(queue.close("test log"));
  EXPECT_EQ(queue.counters().durable_sequence, 2u);
  EXPECT_STATUS(queue.submit(1, encode_text("c"), CommitQueue::Wait::kWritten), StatusCode::kClosed, "test log");
  EXPECT_OK(queue.close("test log"));
}

}  // namespace
}  // namespace streamstate::wal
