// ShardMutex, the lock of a memory-backend shard: mutual exclusion under contention (a plain
// counter; ThreadSanitizer checks the happens-before edges), try_lock, and holding far more
// locks at once than ThreadSanitizer allows for pthread mutexes.
#include "backend/memory/shard_mutex.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace streamstate::internal {
namespace {

TEST(MemoryShardMutexTest, ExcludesContendingThreads) {
  ShardMutex mutex;
  uint64_t counter = 0;  // deliberately not atomic
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        std::lock_guard<ShardMutex> lock(mutex);
        ++counter;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter, uint64_t{kThreads} * kIncrements);
}

TEST(MemoryShardMutexTest, TryLockFailsWhileHeld) {
  ShardMutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  bool acquired_elsewhere = true;
  std::thread([&] { acquired_elsewhere = mutex.try_lock(); }).join();
  EXPECT_FALSE(acquired_elsewhere);
  mutex.unlock();
  std::thread([&] {
    acquired_elsewhere = mutex.try_lock();
    if (acquired_elsewhere) mutex.unlock();
  }).join();
  EXPECT_TRUE(acquired_elsewhere);
}

TEST(MemoryShardMutexTest, WakesASleepingWaiter) {
  ShardMutex mutex;
  mutex.lock();
  bool entered = false;
  std::thread waiter([&] {
    std::lock_guard<ShardMutex> lock(mutex);  // spins, then sleeps until unlocked
    entered = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  mutex.unlock();
  waiter.join();
  EXPECT_TRUE(entered);
}

TEST(MemoryShardMutexTest, OneThreadMayHoldThousandsAtOnce) {
  auto mutexes = std::make_unique<ShardMutex[]>(4096);
  for (int i = 0; i < 4096; ++i) mutexes[i].lock();
  for (int i = 0; i < 4096; ++i) EXPECT_FALSE(mutexes[i].try_lock());
  for (int i = 4095; i >= 0; --i) mutexes[i].unlock();
  for (int i = 0; i < 4096; ++i) {
    EXPECT_TRUE(mutexes[i].try_lock());
    mutexes[i].unlock();
  }
}

}  // namespace
}  // namespace streamstate::internal
