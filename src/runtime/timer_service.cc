#include "runtime/timer_service.h"

#include <string>
#include <utility>

#include "core/printable.h"
#include "util/status_macros.h"

namespace streamstate {

namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;
// Key group, domain, time.
constexpr size_t kTimerKeyHeaderBytes = 2 + 1 + 8;

void put_fixed64_big_endian(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

uint64_t decode_fixed64_big_endian(const char* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

}  // namespace

std::string encode_timer_key(uint32_t key_group, TimeDomain domain, int64_t time, BytesView key) {
  std::string stored;
  stored.reserve(kTimerKeyHeaderBytes + key.size());
  put_fixed16_big_endian(stored, static_cast<uint16_t>(key_group));
  stored.push_back(static_cast<char>(domain));
  put_fixed64_big_endian(stored, static_cast<uint64_t>(time) ^ kSignBit);
  stored.append(key);
  return stored;
}

Result<FiredTimer> decode_timer_key(BytesView stored) {
  if (stored.size() < kTimerKeyHeaderBytes) {
    return Status::corruption("column '" + std::string(kTimersColumn) + "': key '" + internal::escape_bytes(stored) +
                              "' is " + std::to_string(stored.size()) + " bytes, shorter than a timer's " +
                              std::to_string(kTimerKeyHeaderBytes) + "-byte header");
  }
  const auto domain = static_cast<uint8_t>(stored[2]);
  if (domain > static_cast<uint8_t>(TimeDomain::kProcessingTime)) {
    return Status::corruption("column '" + std::string(kTimersColumn) + "': key '" + internal::escape_bytes(stored) +
                              "' has time domain " + std::to_string(domain) +
                              " (0 = event time, 1 = processing time)");
  }
  FiredTimer timer;
  timer.key_group = decode_fixed16_big_endian(stored.data());
  timer.domain = static_cast<TimeDomain>(domain);
  timer.time = static_cast<int64_t>(decode_fixed64_big_endian(stored.data() + 3) ^ kSignBit);
  timer.key.assign(stored.substr(kTimerKeyHeaderBytes));
  return timer;
}

Result<std::unique_ptr<TimerService>> TimerService::open(std::shared_ptr<StateBackend> backend,
                                                         KeyGroupRange key_groups) {
  if (backend == nullptr) return Status::invalid_argument("TimerService::open: the backend is null");
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column, backend->column(kTimersColumn));
  std::unique_ptr<TimerService> service(new TimerService(std::move(backend), std::move(column), key_groups));
  STREAMSTATE_RETURN_IF_ERROR(service->load());
  return service;
}

Status TimerService::load() {
  Status decode_error;
  STREAMSTATE_RETURN_IF_ERROR(column_->scan({}, [&](BytesView stored, BytesView) {
    Result<FiredTimer> timer = decode_timer_key(stored);
    if (!timer.is_ok()) {
      decode_error = timer.status();
      return false;
    }
    if (!key_groups_.contains(timer->key_group)) return true;  // another instance's
    queue(timer->domain).insert(Timer{timer->time, std::move(timer->key), timer->key_group});
    return true;
  }));
  return decode_error;
}

Status TimerService::check_owned(uint32_t key_group, BytesView key) const {
  if (key_groups_.contains(key_group)) return Status::ok();
  return Status::out_of_range("timer of key '" + internal::escape_bytes(key) + "': key group " +
                              std::to_string(key_group) + " is outside this instance's key groups " +
                              key_groups_.to_string() + "; pass the key's own key group");
}

Status TimerService::register_timer(TimeDomain domain, BytesView key, uint32_t key_group, int64_t time) {
  STREAMSTATE_RETURN_IF_ERROR(check_owned(key_group, key));
  Queue& timers = queue(domain);
  if (timers.find(TimerRef{time, key}) != timers.end()) return Status::ok();
  STREAMSTATE_RETURN_IF_ERROR(column_->put(encode_timer_key(key_group, domain, time, key), {}));
  timers.insert(Timer{time, std::string(key), key_group});
  return Status::ok();
}

Status TimerService::delete_timer(TimeDomain domain, BytesView key, uint32_t key_group, int64_t time) {
  STREAMSTATE_RETURN_IF_ERROR(check_owned(key_group, key));
  Queue& timers = queue(domain);
  auto it = timers.find(TimerRef{time, key});
  if (it == timers.end()) return Status::ok();
  STREAMSTATE_RETURN_IF_ERROR(column_->remove(encode_timer_key(it->key_group, domain, time, key)));
  timers.erase(it);
  return Status::ok();
}

Result<std::optional<FiredTimer>> TimerService::pop_due(TimeDomain domain, int64_t up_to) {
  Queue& timers = queue(domain);
  if (timers.empty() || timers.begin()->time > up_to) return std::optional<FiredTimer>();
  auto first = timers.begin();
  STREAMSTATE_RETURN_IF_ERROR(column_->remove(encode_timer_key(first->key_group, domain, first->time, first->key)));
  auto node = timers.extract(first);
  FiredTimer fired;
  fired.domain = domain;
  fired.time = node.value().time;
  fired.key = std::move(node.value().key);
  fired.key_group = node.value().key_group;
  return std::optional<FiredTimer>(std::move(fired));
}

std::optional<int64_t> TimerService::earliest(TimeDomain domain) const {
  const Queue& timers = queue(domain);
  if (timers.empty()) return std::nullopt;
  return timers.begin()->time;
}

size_t TimerService::size(TimeDomain domain) const { return queue(domain).size(); }

}  // namespace streamstate
