// LifecycleGate: the reader-writer lock between a RocksDB backend's operations (readers) and
// the rare calls that change what they rely on: close(), creating and dropping columns
// (writers). Also the per-thread stripe index that spreads the backend's counters.
//
// Every operation takes the gate shared, so one std::shared_mutex would put a single hot
// cache line under every get and put of every thread. The gate is split into stripes, each
// on its own cache line; a thread always uses the stripe of its index, so threads on
// different stripes never touch each other's line. A writer takes every stripe, in order.
//
// Thread-safety: all methods may be called from any thread. Shared holds are not recursive:
// a thread holding the gate must not take it again (writer preference could deadlock).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <shared_mutex>

namespace streamstate::internal {

inline constexpr size_t kLifecycleStripes = 16;

// A small index, stable for the life of the calling thread; threads get consecutive values
// so that up to kLifecycleStripes threads land on distinct stripes.
inline size_t this_thread_stripe() {
  static std::atomic<size_t> next_index{0};
  thread_local const size_t index = next_index.fetch_add(1, std::memory_order_relaxed) % kLifecycleStripes;
  return index;
}

class LifecycleGate {
 public:
  // Holds one stripe shared until destroyed.
  class SharedHold {
   public:
    explicit SharedHold(std::shared_mutex& mutex) : mutex_(&mutex) { mutex_->lock_shared(); }
    ~SharedHold() { mutex_->unlock_shared(); }
    SharedHold(const SharedHold&) = delete;
    SharedHold& operator=(const SharedHold&) = delete;

   private:
    std::shared_mutex* mutex_;
  };

  // Holds every stripe exclusively until destroyed.
  class ExclusiveHold {
   public:
    explicit ExclusiveHold(LifecycleGate& gate) : gate_(&gate) {
      for (Stripe& stripe : gate_->stripes_) stripe.mutex.lock();
    }
    ~ExclusiveHold() {
      for (Stripe& stripe : gate_->stripes_) stripe.mutex.unlock();
    }
    ExclusiveHold(const ExclusiveHold&) = delete;
    ExclusiveHold& operator=(const ExclusiveHold&) = delete;

   private:
    LifecycleGate* gate_;
  };

  SharedHold shared() { return SharedHold(stripes_[this_thread_stripe()].mutex); }
  ExclusiveHold exclusive() { return ExclusiveHold(*this); }

 private:
  struct alignas(64) Stripe {
    std::shared_mutex mutex;
  };
  std::array<Stripe, kLifecycleStripes> stripes_;
};

}  // namespace streamstate::internal
