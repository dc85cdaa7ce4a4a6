#include "backend/memory/shard_mutex.h"

namespace streamstate::internal {
namespace {

inline void pause_briefly() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

void ShardMutex::lock_contended() {
  // Shard critical sections are a hash lookup and a copy: spinning a little usually wins the
  // lock without the cost of sleeping and being woken.
  constexpr int kSpins = 100;
  for (int spin = 0; spin < kSpins; ++spin) {
    if (state_.load(std::memory_order_relaxed) == kUnlocked && try_lock()) return;
    pause_briefly();
  }
  // Announce a waiter before sleeping. Whoever sees kUnlocked in the exchange owns the lock
  // (it keeps the waiter mark, which at worst costs one unneeded wake-up later).
  while (state_.exchange(kLockedWithWaiters, std::memory_order_acquire) != kUnlocked) {
    state_.wait(kLockedWithWaiters, std::memory_order_relaxed);
  }
}

}  // namespace streamstate::internal
