// pause_briefly: tells the CPU that the calling thread is spinning (x86 PAUSE, ARM YIELD), so a
// spin-wait yields pipeline resources to the sibling hyper-thread and burns less power. Used by
// the memory backend's spin locks and read gate.
//
// Thread-safety: no state.
#pragma once

namespace streamstate::internal {

inline void pause_briefly() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace streamstate::internal
