#include "backend/memory/read_gate.h"

#include <thread>

#include "backend/memory/cpu_pause.h"

namespace streamstate::internal {

void ReadGate::exclude(uint32_t stripe) {
  writers_[stripe].count.fetch_add(1, std::memory_order_seq_cst);
  // Read after the increment (seq_cst): a thread that got its slot later enters after it and
  // so sees the writer.
  const uint32_t in_use = thread_slots_in_use();
  for (uint32_t slot = 0; slot < in_use; ++slot) {
    const std::atomic<uint32_t>& readers = slots_[slot].readers[stripe];
    // A reader inside does one lookup and copy and never waits while counted.
    for (int spins = 0; readers.load(std::memory_order_seq_cst) != 0; ++spins) {
      if (spins < 1000) {
        pause_briefly();
      } else {
        std::this_thread::yield();  // the reader's thread may have been descheduled
      }
    }
  }
}

uint32_t ReadGate::readers_inside(uint32_t stripe) const {
  uint32_t total = 0;
  for (uint32_t slot = 0; slot < kThreadSlots; ++slot) total += slots_[slot].readers[stripe].load();
  return total;
}

}  // namespace streamstate::internal
