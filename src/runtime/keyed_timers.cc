// KeyedTimers: the runtime's view of a keyed instance's TimerService.
#include "streamstate/detail/runtime_timers.h"

#include "runtime/timer_service.h"
#include "util/status_macros.h"

namespace streamstate::detail {

Result<std::unique_ptr<KeyedTimers>> KeyedTimers::open(std::shared_ptr<StateBackend> backend,
                                                       KeyGroupRange key_groups) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<TimerService> service,
                               TimerService::open(std::move(backend), key_groups));
  return std::unique_ptr<KeyedTimers>(new KeyedTimers(std::move(service)));
}

KeyedTimers::KeyedTimers(std::unique_ptr<TimerService> service) : service_(std::move(service)) {}

KeyedTimers::~KeyedTimers() = default;

Status KeyedTimers::add(TimeDomain domain, BytesView key, uint32_t key_group, int64_t time) {
  return service_->register_timer(domain, key, key_group, time);
}

Status KeyedTimers::remove(TimeDomain domain, BytesView key, uint32_t key_group, int64_t time) {
  return service_->delete_timer(domain, key, key_group, time);
}

Result<std::optional<DueTimer>> KeyedTimers::pop_due(TimeDomain domain, int64_t up_to) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<FiredTimer> fired, service_->pop_due(domain, up_to));
  if (!fired) return std::optional<DueTimer>();
  return std::optional<DueTimer>(DueTimer{fired->domain, fired->time, std::move(fired->key)});
}

std::optional<int64_t> KeyedTimers::earliest(TimeDomain domain) const { return service_->earliest(domain); }

}  // namespace streamstate::detail
