// GetCounters: the memory backend's counts of hits and misses of get and contains, kept per
// thread slot (thread_slot.h) in a cache line of each slot's own, so that counting a get
// writes no line that another thread writes. statistics() adds the slots up; gets is
// hits + misses (every get is exactly one of them).
//
// Thread-safety: all methods may be called concurrently. Counts are relaxed: a sum read while
// gets run is some recent value of each slot, not a snapshot of all of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "backend/memory/thread_slot.h"

namespace streamstate::internal {

class GetCounters {
 public:
  GetCounters() : slots_(std::make_unique<Slot[]>(kThreadSlots)) {}
  GetCounters(const GetCounters&) = delete;
  GetCounters& operator=(const GetCounters&) = delete;

  // Atomic increments, since threads beyond kThreadSlots share slots.
  void count_hit(uint32_t slot) { slots_[slot].hits.fetch_add(1, std::memory_order_relaxed); }
  void count_miss(uint32_t slot) { slots_[slot].misses.fetch_add(1, std::memory_order_relaxed); }

  uint64_t hits() const {
    uint64_t total = 0;
    for (uint32_t slot = 0; slot < kThreadSlots; ++slot) total += slots_[slot].hits.load(std::memory_order_relaxed);
    return total;
  }
  uint64_t misses() const {
    uint64_t total = 0;
    for (uint32_t slot = 0; slot < kThreadSlots; ++slot) total += slots_[slot].misses.load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(128) Slot {
    std::atomic<uint64_t> hits{0};
    std::atomic<uint64_t> misses{0};
  };
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace streamstate::internal
