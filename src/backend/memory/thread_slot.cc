#include "backend/memory/thread_slot.h"

#include <bitset>
#include <mutex>

namespace streamstate::internal {
namespace {

struct SlotRegistry {
  std::mutex mutex;
  std::bitset<kThreadSlots> taken;  // guarded by mutex
  uint32_t next_shared = 0;         // guarded by mutex: round-robin once every slot is taken
  std::atomic<uint32_t> in_use{0};  // high-water mark
};

SlotRegistry& registry() {
  // Never destroyed: threads may exit (and give their slot back) during static destruction.
  static SlotRegistry* const instance = new SlotRegistry();
  return *instance;
}

// Gives the slot back when its thread exits; a shared slot is not given back.
struct SlotOwner {
  uint32_t owned = kNoThreadSlot;
  ~SlotOwner() {
    if (owned == kNoThreadSlot) return;
    SlotRegistry& slots = registry();
    std::lock_guard<std::mutex> lock(slots.mutex);
    slots.taken.reset(owned);
  }
};

thread_local SlotOwner slot_owner;

}  // namespace

constinit thread_local uint32_t current_thread_slot = kNoThreadSlot;

uint32_t assign_thread_slot() {
  SlotRegistry& slots = registry();
  uint32_t slot = kNoThreadSlot;
  {
    std::lock_guard<std::mutex> lock(slots.mutex);
    for (uint32_t i = 0; i < kThreadSlots; ++i) {
      if (!slots.taken.test(i)) {
        slots.taken.set(i);
        slot = i;
        slot_owner.owned = i;
        break;
      }
    }
    if (slot == kNoThreadSlot) slot = slots.next_shared++ % kThreadSlots;
    uint32_t seen = slots.in_use.load(std::memory_order_relaxed);
    // seq_cst, so that a writer's later scan of the slots in use covers this one (ReadGate).
    if (seen < slot + 1) slots.in_use.store(slot + 1, std::memory_order_seq_cst);
  }
  current_thread_slot = slot;
  return slot;
}

uint32_t thread_slots_in_use() { return registry().in_use.load(std::memory_order_seq_cst); }

}  // namespace streamstate::internal
