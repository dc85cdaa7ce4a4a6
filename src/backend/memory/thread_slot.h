// Thread slots: a small number for each thread, so that per-thread data (reader counts,
// statistics counters) can live in arrays indexed by it, one cache line per slot, instead of
// in lines that every thread writes.
//
// A thread gets its slot on its first call to thread_slot() and gives it back when it exits;
// up to kThreadSlots threads alive at once have distinct slots, further threads share slots
// round-robin. Whatever a slot indexes must therefore still be safe when two threads use it
// (atomic counters, not plain ones): sharing costs speed, never correctness.
//
// Thread-safety: thread_slot() and thread_slots_in_use() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace streamstate::internal {

inline constexpr uint32_t kThreadSlots = 64;
inline constexpr uint32_t kNoThreadSlot = UINT32_MAX;

// The calling thread's slot, kNoThreadSlot until it has one. (constinit: reading it needs no
// initialization check.)
extern constinit thread_local uint32_t current_thread_slot;

// Slow path of thread_slot(): gives the calling thread its slot.
uint32_t assign_thread_slot();

// The calling thread's slot, in [0, kThreadSlots).
inline uint32_t thread_slot() {
  const uint32_t slot = current_thread_slot;
  return slot != kNoThreadSlot ? slot : assign_thread_slot();
}

// One more than the highest slot handed out so far (it never decreases): every slot any
// thread has used is below it. Sequentially consistent, see ReadGate.
uint32_t thread_slots_in_use();

}  // namespace streamstate::internal
