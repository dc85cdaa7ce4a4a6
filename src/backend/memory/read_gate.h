// ReadGate: lets readers of the memory backend's shards look up entries without taking the
// shard's mutex and without writing any cache line another thread writes, while still
// excluding writers (a distributed reader count, as a "big reader" lock).
//
// Shards are grouped into kStripes stripes (shard index modulo kStripes). Each thread slot
// (thread_slot.h) has one cache line of reader counts, one per stripe; each stripe has one
// cache line with its count of active writers.
// - A reader increments its own count for the stripe, then checks the stripe's writer count.
//   While no writer is active it reads the shard's tables and decrements its count when done;
//   otherwise it decrements at once and takes the shard's mutex instead (try_enter() false).
// - A writer, holding its shard's mutex, increments the stripe's writer count and then waits
//   until the reader count of the stripe is zero in every slot in use (exclude()); it changes
//   the tables and decrements the writer count (readmit()) before it unlocks the shard.
// Both sides write first and read second with sequentially consistent operations, so at
// least one sees the other: a reader that entered is waited for, a reader that saw the writer
// stays out. The decrements are releases that the other side's loads acquire, so a reader
// sees everything the last writer did and a writer changes nothing a reader still reads.
// Readers never wait while counted, so a writer's wait is bounded by one lookup of each
// reader already inside; readers of other shards of the stripe fall back to their own
// (uncontended) mutex meanwhile.
//
// In a read-only phase the writer counts are only read, so every core keeps them cached and
// a get touches only lines its own thread writes.
//
// Thread-safety: all methods may be called concurrently; exclude()/readmit() pairs are made
// by the holder of a shard mutex of that stripe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "backend/memory/thread_slot.h"

namespace streamstate::internal {

class ReadGate {
 public:
  static constexpr uint32_t kStripes = 16;

  ReadGate() : slots_(std::make_unique<SlotReaders[]>(kThreadSlots)) {}
  ReadGate(const ReadGate&) = delete;
  ReadGate& operator=(const ReadGate&) = delete;

  static uint32_t stripe_of(uint32_t shard_index) { return shard_index % kStripes; }

  // True when the caller may read the stripe's shards unlocked; it must then call leave()
  // with the same arguments. False when a writer is active (the caller takes the mutex).
  bool try_enter(uint32_t slot, uint32_t stripe) {
    std::atomic<uint32_t>& readers = slots_[slot].readers[stripe];
    readers.fetch_add(1, std::memory_order_seq_cst);
    if (writers_[stripe].count.load(std::memory_order_seq_cst) == 0) return true;
    readers.fetch_sub(1, std::memory_order_release);
    return false;
  }
  void leave(uint32_t slot, uint32_t stripe) { slots_[slot].readers[stripe].fetch_sub(1, std::memory_order_release); }

  // Keeps new unlocked readers out of the stripe and waits for those inside to leave.
  void exclude(uint32_t stripe);
  // Ends one exclude() of the stripe.
  void readmit(uint32_t stripe) { writers_[stripe].count.fetch_sub(1, std::memory_order_release); }

  // For tests: the readers counted in the stripe over all slots.
  uint32_t readers_inside(uint32_t stripe) const;

 private:
  // 128 bytes: adjacent-line prefetching pairs 64-byte lines, so 64 would still be shared.
  struct alignas(128) SlotReaders {
    std::atomic<uint32_t> readers[kStripes] = {};
  };
  struct alignas(128) StripeWriters {
    std::atomic<uint32_t> count{0};
  };

  std::unique_ptr<SlotReaders[]> slots_;  // kThreadSlots of them
  StripeWriters writers_[kStripes];
};

}  // namespace streamstate::internal
