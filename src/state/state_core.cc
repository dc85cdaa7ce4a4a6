// StateCore: construction, keys, single entries with TTL, batches and errors. Map iteration
// is in state_core_map.cc, the list layout in state_core_list.cc.
#include "streamstate/detail/state_core.h"

#include <exception>
#include <string>
#include <utility>

#include "core/expiring_value.h"
#include "state/incremental_cleanup.h"
#include "state/printable.h"
#include "util/status_macros.h"

namespace streamstate::detail {

StateCore::StateCore(StateSpec spec, std::shared_ptr<StateBackend> backend,
                     std::shared_ptr<StateColumn> column, std::shared_ptr<const KeyContext> context,
                     std::shared_ptr<const Clock> clock)
    : spec_(std::move(spec)),
      ttl_millis_(spec_.ttl.enabled() ? static_cast<int64_t>(spec_.ttl.ttl.count()) : 0),
      backend_(std::move(backend)),
      column_(std::move(column)),
      context_(std::move(context)),
      clock_(std::move(clock)),
      ordered_scan_(backend_->capabilities().ordered_scan) {
  if (ttl_millis_ > 0 && spec_.ttl.incremental_cleanup_entries > 0) {
    cleanup_ = std::make_unique<internal::IncrementalCleanup>(backend_, column_, clock_,
                                                              spec_.ttl.incremental_cleanup_entries);
  }
}

StateCore::~StateCore() = default;

Status unbound_state_handle(std::string_view handle_type) {
  return Status::failed_precondition(
      std::string(handle_type) +
      " handle is not bound to a state: obtain it from a KeyedStateStore (e.g. "
      "store.value_state(descriptor)) before using it");
}

void StateCore::release() {
  cleanup_.reset();
  column_.reset();
  backend_.reset();
}

Status missing_default_value(std::string_view state_name, std::string_view call) {
  return Status::failed_precondition(
      "state '" + std::string(state_name) + "': " + std::string(call) +
      " needs the descriptor's default_value, and this state's ValueStateDescriptor has none; set "
      ".default_value in the descriptor, or use value() / an update function taking std::optional<T>");
}

Status StateCore::no_current_key() const {
  if (context_->closed()) {
    return Status::closed("state '" + spec_.name +
                          "': its KeyedStateStore was closed; open the store again and get a new handle");
  }
  return Status::failed_precondition(
      "state '" + spec_.name +
      "': no current key; call KeyedStateStore::set_current_key (with a key of "
      "this store's key-group range) before using keyed state");
}

Status StateCore::cleanup_step() { return cleanup_->step(); }

Status StateCore::corrupt(const std::string& what) const {
  return Status::corruption("state '" + spec_.name + "' (" + std::string(state_kind_name(spec_.kind)) +
                            " state, codec '" + spec_.codec_name + "'), key group " +
                            std::to_string(context_->key_group()) + ", user key " +
                            internal::printable_bytes(context_->user_key()) + ", namespace " +
                            internal::printable_bytes(context_->name_space()) + ": " + what);
}

Status StateCore::key_error(const Status& cause, BytesView stored_key) const {
  return internal::with_state_key(cause, spec_.name, stored_key, spec_.kind);
}

Status StateCore::decode_error(const Status& cause) const {
  return corrupt("stored bytes cannot be decoded (" + cause.message() +
                 "); if the state's type changed, bump its schema major version and register a migration");
}

int64_t StateCore::fresh_expiry() const { return internal::expiry_after(now(), ttl_millis_); }

Status StateCore::split_expiring_value(BytesView stored, int64_t& expires_at, BytesView& payload) const {
  static_assert(internal::kNeverExpiresMillis == INT64_MAX, "split_value in state_core.h says so");
  const std::optional<int64_t> expiry = internal::read_expiry(stored);
  if (!expiry.has_value()) {
    return corrupt("stored value of " + std::to_string(stored.size()) +
                   " bytes is too short for its 8-byte expiry header");
  }
  expires_at = *expiry;
  payload = internal::expiring_payload(stored);
  return Status::ok();
}

void StateCore::fill_expiry(std::string& stored, int64_t expires_at) const {
  auto bits = static_cast<uint64_t>(expires_at);
  for (size_t i = 0; i < internal::kExpiryHeaderBytes; ++i) {
    stored[i] = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
}

void StateCore::append_stored(std::string& out, int64_t expires_at, BytesView payload) const {
  if (ttl_millis_ > 0) {
    internal::append_expiring_value(out, expires_at, payload);
  } else {
    out.append(payload.data(), payload.size());
  }
}

BytesView StateCore::value_key_in(BytesView name_space) {
  context_->value_key_in(name_space, key_buffer_);
  return key_buffer_;
}

BytesView StateCore::entry_key(BytesView suffix) {
  const BytesView prefix = context_->scoped_prefix();
  key_buffer_.assign(prefix.data(), prefix.size());
  key_buffer_.append(suffix.data(), suffix.size());
  return key_buffer_;
}

Result<std::optional<BytesView>> StateCore::get(BytesView key) {
  STREAMSTATE_ASSIGN_OR_RETURN(const bool found, keyed(column_->get_into(key, read_buffer_), key));
  if (!found) return std::optional<BytesView>();
  if (ttl_millis_ == 0) return std::optional<BytesView>(read_buffer_);
  int64_t expires_at = 0;
  BytesView payload;
  STREAMSTATE_RETURN_IF_ERROR(split_value(read_buffer_, expires_at, payload));
  const int64_t time = now();
  if (expired(expires_at, time)) {
    // Flink's rule: a read that finds an expired entry removes it; only the visibility
    // decides whether this one read still sees it.
    STREAMSTATE_RETURN_IF_ERROR(keyed(column_->remove(key), key));
    if (!return_expired()) return std::optional<BytesView>();
    return std::optional<BytesView>(payload);
  }
  if (update_on_read()) {
    fill_expiry(read_buffer_, internal::expiry_after(time, ttl_millis_));
    STREAMSTATE_RETURN_IF_ERROR(keyed(column_->put(key, read_buffer_), key));
  }
  return std::optional<BytesView>(payload);
}

Result<bool> StateCore::contains(BytesView key) {
  if (ttl_millis_ == 0) return keyed(column_->contains(key), key);
  STREAMSTATE_ASSIGN_OR_RETURN(const std::optional<BytesView> payload, get(key));
  return payload.has_value();
}

std::string& StateCore::begin_write() {
  write_buffer_.clear();
  if (ttl_millis_ > 0) write_buffer_.append(internal::kExpiryHeaderBytes, '\0');
  return write_buffer_;
}

Status StateCore::put(BytesView key) {
  if (ttl_millis_ > 0) fill_expiry(write_buffer_, fresh_expiry());
  return keyed(column_->put(key, write_buffer_), key);
}

Status StateCore::remove(BytesView key) { return keyed(column_->remove(key), key); }

std::optional<std::string> StateCore::update_stored(std::optional<BytesView> stored, const PayloadUpdate& fn,
                                                    int64_t time, Status& failure) {
  // On any failure the stored bytes are written back exactly as they were.
  auto unchanged = [&stored]() -> std::optional<std::string> {
    if (!stored.has_value()) return std::nullopt;
    return std::string(*stored);
  };
  std::optional<BytesView> current;
  if (stored.has_value()) {
    int64_t expires_at = 0;
    BytesView payload;
    failure = split_value(*stored, expires_at, payload);
    if (!failure.is_ok()) return unchanged();
    // As get(): an expired entry is gone, and only this once still seen under
    // kReturnExpiredIfNotCleanedUp.
    if (ttl_millis_ == 0 || !expired(expires_at, time) || return_expired()) current = payload;
  }
  std::optional<std::string> next(std::in_place);
  if (ttl_millis_ > 0) next->append(internal::kExpiryHeaderBytes, '\0');
  bool remove = false;
  try {
    failure = fn(current, *next, remove);
  } catch (const std::exception& error) {
    failure = Status(StatusCode::kInvalidArgument,
                     corrupt(std::string("the update function threw: ") + error.what() + "; nothing was stored")
                         .message());
  } catch (...) {
    failure = Status(StatusCode::kInvalidArgument,
                     corrupt("the update function threw a non-standard exception; nothing was stored").message());
  }
  if (!failure.is_ok()) return unchanged();
  if (remove) return std::nullopt;
  if (ttl_millis_ > 0) fill_expiry(*next, internal::expiry_after(time, ttl_millis_));
  return next;
}

Status StateCore::update(BytesView key, const PayloadUpdate& fn) {
  // One pointer beside `this`: small enough for std::function to hold without allocating.
  struct Call {
    const PayloadUpdate& fn;
    int64_t time;
    Status failure;
  } call{fn, ttl_millis_ > 0 ? now() : 0, Status::ok()};  // no clock read without a TTL
  Status status = column_->update(key, [this, &call](std::optional<BytesView> stored) {
    call.failure = Status::ok();  // Redis runs the function again after a conflict
    return update_stored(stored, call.fn, call.time, call.failure);
  });
  if (!status.is_ok()) return keyed(std::move(status), key);
  return std::move(call.failure);
}

void StateCore::stage_put(BytesView key) {
  if (ttl_millis_ > 0) fill_expiry(write_buffer_, fresh_expiry());
  batch_.put(spec_.name, key, write_buffer_);
}

void StateCore::stage_remove(BytesView key) { batch_.remove(spec_.name, key); }

Status StateCore::commit() {
  if (batch_.empty()) return Status::ok();
  Status status = backend_->write(batch_);
  batch_.clear();
  return status.is_ok() ? status : status.with_context("state '" + spec_.name + "'");
}

}  // namespace streamstate::detail
