// Timers of keyed process functions: a callback that fires for one key at one time, in event
// time (when the watermark passes it) or in processing time (when the runtime's clock does).
//
// A timer is identified by its domain, key and time: registering the same one twice keeps one,
// and timers fire in time order (equal times by key bytes). Timers are stored with the keyed
// state, partitioned by key group (the backend column "_ss.timers", docs/formats.md "Timer"),
// so they are part of every checkpoint and move with their keys when the parallelism changes.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace streamstate {

enum class TimeDomain : uint8_t {
  kEventTime = 0,       // fires when the watermark reaches the timer's time
  kProcessingTime = 1,  // fires when the processing-time clock reaches it
};

// "event-time" or "processing-time".
inline std::string_view time_domain_name(TimeDomain domain) {
  return domain == TimeDomain::kEventTime ? "event-time" : "processing-time";
}

// A timer whose time has come.
struct FiredTimer {
  TimeDomain domain = TimeDomain::kEventTime;
  // Milliseconds: event time, or processing time since the Unix epoch.
  int64_t time = 0;
  // The user key bytes the timer was registered for.
  std::string key;
  // The key's key group (streamstate/key_group.h), for routing to its keyed state.
  uint32_t key_group = 0;

  friend bool operator==(const FiredTimer&, const FiredTimer&) = default;
};

}  // namespace streamstate
