// TimerService: the timers of one operator instance, kept in memory in time order per domain
// and stored in the backend column "_ss.timers" beside the instance's keyed state, so that a
// checkpoint of the backend holds them and a restore - into any key-group range - brings back
// exactly the timers of its key groups.
//
// Stored form (docs/formats.md, "Timer"): the key is
//   key group (u16 big-endian) | domain (1 byte) | time XOR 2^63 (u64 big-endian) | user key
// and the value is empty. The key group comes first, as in every state key, so checkpoints
// index and filter timers by key group like keyed state; flipping the sign bit makes the bytes
// of a time sort as the signed time does.
//
//   auto timers = TimerService::open(backend, KeyGroupRange::for_operator(128, 4, 1)).value();
//   (void)timers->register_timer(TimeDomain::kEventTime, "user-7", key_group, window_end);
//   while (auto due = timers->pop_due(TimeDomain::kEventTime, watermark).value()) on_timer(*due);
//
// Each change is written to the backend before the in-memory queue changes, so the two never
// disagree after an error. Memory: one set node per timer (about 64 bytes plus the key).
//
// Thread-safety: none; one operator instance's thread uses it (the backend may be shared).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "streamstate/backend.h"
#include "streamstate/key_group.h"
#include "streamstate/status.h"
#include "streamstate/timer.h"

namespace streamstate {

// The backend column holding timers.
inline constexpr std::string_view kTimersColumn = "_ss.timers";

class TimerService {
 public:
  // Opens (creating) the timers column of `backend` and loads the timers stored there for the
  // key groups in `key_groups` (after a restore); timers of other key groups are left alone.
  // kCorruption names a stored key that is not a timer. InvalidArgument for a null backend.
  static Result<std::unique_ptr<TimerService>> open(std::shared_ptr<StateBackend> backend, KeyGroupRange key_groups);

  // Adds the timer; a no-op when the same domain, key and time is registered. `key_group` is
  // the key's (KeyedStateStore computes it); kOutOfRange when this instance does not own it.
  Status register_timer(TimeDomain domain, BytesView key, uint32_t key_group, int64_t time);
  // Removes the timer; a no-op when it is not registered.
  Status delete_timer(TimeDomain domain, BytesView key, uint32_t key_group, int64_t time);
  // The earliest timer of `domain` with time <= up_to (equal times: smallest key bytes first),
  // removed from memory and from the backend; nullopt when none is due.
  Result<std::optional<FiredTimer>> pop_due(TimeDomain domain, int64_t up_to);

  // The time of the earliest timer of `domain`, nullopt when there is none.
  std::optional<int64_t> earliest(TimeDomain domain) const;
  size_t size(TimeDomain domain) const;
  KeyGroupRange key_groups() const { return key_groups_; }

 private:
  struct Timer {
    int64_t time = 0;
    std::string key;
    uint32_t key_group = 0;
  };
  // A lookup of (time, key) without copying the key.
  struct TimerRef {
    int64_t time = 0;
    std::string_view key;
  };
  struct TimeOrder {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      if (a.time != b.time) return a.time < b.time;
      return std::string_view(a.key) < std::string_view(b.key);
    }
  };
  using Queue = std::set<Timer, TimeOrder>;

  TimerService(std::shared_ptr<StateBackend> backend, std::shared_ptr<StateColumn> column, KeyGroupRange key_groups)
      : backend_(std::move(backend)), column_(std::move(column)), key_groups_(key_groups) {}

  Status load();
  Status check_owned(uint32_t key_group, BytesView key) const;
  Queue& queue(TimeDomain domain) { return domain == TimeDomain::kEventTime ? event_time_ : processing_time_; }
  const Queue& queue(TimeDomain domain) const {
    return domain == TimeDomain::kEventTime ? event_time_ : processing_time_;
  }

  std::shared_ptr<StateBackend> backend_;
  std::shared_ptr<StateColumn> column_;
  KeyGroupRange key_groups_;
  Queue event_time_;
  Queue processing_time_;
};

// The stored key of a timer (see the file comment). Precondition: key_group < 65536.
std::string encode_timer_key(uint32_t key_group, TimeDomain domain, int64_t time, BytesView key);
// The parts of a stored key; kCorruption (naming the key) when it is too short or its domain byte
// is unknown.
Result<FiredTimer> decode_timer_key(BytesView stored);

}  // namespace streamstate
