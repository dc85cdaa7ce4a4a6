// Time as streamstate sees it: milliseconds since the Unix epoch, from an injectable Clock,
// so that anything depending on time (TTL, cleanup, timers, checkpoint intervals) can be
// tested exactly and instantly with a ManualClock.
//
// Thread-safety: every Clock implementation must be safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace streamstate {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t now_millis() const = 0;
};

// The wall clock (std::chrono::system_clock). A shared singleton.
std::shared_ptr<const Clock> system_clock();

// A clock that moves only when told. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_millis = 0) : now_(start_millis) {}
  int64_t now_millis() const override { return now_.load(std::memory_order_acquire); }
  void set_millis(int64_t millis) { now_.store(millis, std::memory_order_release); }
  void advance_millis(int64_t delta) { now_.fetch_add(delta, std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace streamstate
