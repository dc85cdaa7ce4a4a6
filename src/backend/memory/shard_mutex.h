// ShardMutex: the lock of one memory-backend shard. A std::mutex-compatible lock (lock,
// try_lock, unlock; usable with std::lock_guard and std::unique_lock) built on one 32-bit
// atomic: an uncontended lock is one compare-and-swap, an unlock one exchange, and a waiting
// thread spins briefly and then sleeps in std::atomic::wait (a futex on Linux).
//
// Why not std::mutex: batches and snapshots hold every involved shard lock at once, and there
// may be up to 4096 shards. ThreadSanitizer's deadlock detector aborts a thread that holds
// more than 64 pthread mutexes ("CHECK failed: sanitizer_deadlock_detector.h ... (0x40,
// 0x40)"), which would make the backend unusable in sanitizer builds of our users' programs.
// ThreadSanitizer still sees the acquire/release atomics of this lock, so data races on the
// data it guards are reported as before.
//
// Thread-safety: that of a mutex. Not recursive; unlock only from the owning thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace streamstate::internal {

class ShardMutex {
 public:
  ShardMutex() = default;
  ShardMutex(const ShardMutex&) = delete;
  ShardMutex& operator=(const ShardMutex&) = delete;

  void lock() {
    uint32_t expected = kUnlocked;
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
      return;
    }
    lock_contended();
  }

  bool try_lock() {
    uint32_t expected = kUnlocked;
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed);
  }

  void unlock() {
    if (state_.exchange(kUnlocked, std::memory_order_release) == kLockedWithWaiters) state_.notify_one();
  }

 private:
  static constexpr uint32_t kUnlocked = 0;
  static constexpr uint32_t kLocked = 1;
  // Locked, and some thread may be sleeping on the lock: unlock() must wake one.
  static constexpr uint32_t kLockedWithWaiters = 2;

  void lock_contended();

  std::atomic<uint32_t> state_{kUnlocked};
};

}  // namespace streamstate::internal
