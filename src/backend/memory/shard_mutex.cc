#include "backend/memory/shard_mutex.h"

#include "backend/memory/cpu_pause.h"

namespace streamstate::internal {

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
