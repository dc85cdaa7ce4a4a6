// Internal to the runtime (pipeline.h): the timers of one keyed operator instance, kept in its
// state backend (column "_ss.timers", partitioned by key group like keyed state, so that
// checkpoints hold them and they follow their keys to another parallelism). Implemented over
// src/runtime/timer_service.h.
//
// Thread-safety: one instance's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "streamstate/backend.h"
#include "streamstate/bytes.h"
#include "streamstate/key_group.h"
#include "streamstate/process_function.h"
#include "streamstate/status.h"

namespace streamstate {
class TimerService;
}

namespace streamstate::detail {

struct DueTimer {
  TimeDomain domain = TimeDomain::kEventTime;
  int64_t time = 0;
  std::string key;
};

class KeyedTimers {
 public:
  // Loads the timers the backend holds for `key_groups` (after a restore).
  static Result<std::unique_ptr<KeyedTimers>> open(std::shared_ptr<StateBackend> backend, KeyGroupRange key_groups);
  ~KeyedTimers();

  Status add(TimeDomain domain, BytesView key, uint32_t key_group, int64_t time);
  Status remove(TimeDomain domain, BytesView key, uint32_t key_group, int64_t time);
  // The earliest timer of `domain` at or before `up_to`, removed; nullopt when none is due.
  Result<std::optional<DueTimer>> pop_due(TimeDomain domain, int64_t up_to);
  std::optional<int64_t> earliest(TimeDomain domain) const;

 private:
  explicit KeyedTimers(std::unique_ptr<TimerService> service);
  std::unique_ptr<TimerService> service_;
};

}  // namespace streamstate::detail
