// StateAccessCore: the thread-safe engine behind StateAccess<T>. Every operation builds its key
// in a local buffer (no state shared between callers), and every step that both reads and
// writes a stored value (removing an expired value, renewing a TTL on read, update) runs inside
// StateColumn::update, so it can never undo a concurrent write.
#include "streamstate/state_access.h"

#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "core/expiring_value.h"
#include "state/incremental_cleanup.h"
#include "state/printable.h"
#include "state/state_record.h"
#include "state/store_layout.h"
#include "streamstate/state_key.h"
#include "util/status_macros.h"

namespace streamstate::detail {
namespace {

constexpr std::string_view kReservedPrefix = "_ss.";

std::string describe_access(std::string_view codec, bool ttl) {
  return "value state (codec '" + std::string(codec) + "', " + (ttl ? "with TTL)" : "without TTL)");
}

// FailedPrecondition, as a state handle gets for the same record, when `stored` is not the
// value state of `codec` with the TTL setting `ttl` that StateAccess reads and writes.
Status check_record(const std::string& name, const internal::StateRecord& stored, std::string_view codec,
                    bool ttl) {
  const std::string opening = "state '" + name + "' is stored as a " + internal::describe_state_record(stored) +
                              " and cannot be opened by StateAccess as a " + describe_access(codec, ttl) + "; ";
  if (stored.kind != StateKind::kValue) {
    return Status::failed_precondition(opening + "StateAccess reads and writes value state only: use another state "
                                                 "name, or a KeyedStateStore for this " +
                                       std::string(state_kind_name(stored.kind)) + " state");
  }
  if (stored.codec_name != codec) {
    return Status::failed_precondition(opening + "open it as StateAccess<T> with the stored type (codec '" +
                                       stored.codec_name + "'), or use another state name");
  }
  if (stored.ttl != ttl) {
    return Status::failed_precondition(
        opening + "its values " + (stored.ttl ? "carry an" : "have no") +
        " 8-byte expiry header, so open it " + (stored.ttl ? "with a TTL (StateTtlConfig.ttl > 0)" : "without a TTL") +
        ", or use another state name");
  }
  return Status::ok();
}

// StateAccess shares the layout of a ValueState in the default namespace, so the record in
// "_ss.states" binds it as it binds the state handles: a state recorded as another kind, codec
// or TTL setting is refused, and a name without a record is recorded as a value state of this
// codec (schema 1.0.0), so that a KeyedStateStore opening it as another type fails in turn.
// The recorded schema version is not checked: StateAccess has none, the codec must match.
// The key-group layout is bound as a KeyedStateStore binds it (store_layout.h): keys hashed with
// another max_parallelism would be invisible.
Status register_access(StateBackend& backend, const std::string& name, std::string_view codec, bool ttl,
                       uint32_t max_parallelism) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> states, backend.column(internal::kStatesColumn));
  STREAMSTATE_RETURN_IF_ERROR(
      internal::check_or_record_layout(*states, max_parallelism).with_context("StateAccess '" + name + "'"));
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> marker,
                               states->get(internal::migration_marker_key(name)));
  if (marker.has_value()) {
    return Status::failed_precondition("state '" + name +
                                       "' is in the middle of a schema migration that was interrupted; open it "
                                       "once through a KeyedStateStore (value_state with its descriptor) to finish "
                                       "the migration, then open the StateAccess");
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> stored, states->get(name));
  if (stored.has_value()) {
    STREAMSTATE_ASSIGN_OR_RETURN(const internal::StateRecord record, internal::decode_state_record(name, *stored));
    return check_record(name, record, codec, ttl);
  }
  // Recorded atomically, in case another StateAccess or store records the name meanwhile.
  const std::string wanted =
      internal::encode_state_record(internal::StateRecord{StateKind::kValue, std::string(codec), SchemaVersion{}, ttl});
  Status mismatch;
  STREAMSTATE_RETURN_IF_ERROR(states->update(name, [&](std::optional<BytesView> current) -> std::optional<std::string> {
    mismatch = Status::ok();
    if (!current.has_value()) return wanted;
    Result<internal::StateRecord> record = internal::decode_state_record(name, *current);
    mismatch = record.is_ok() ? check_record(name, *record, codec, ttl) : record.status();
    return std::string(*current);
  }));
  return mismatch;
}

}  // namespace

StateAccessCore::StateAccessCore(std::string name, std::shared_ptr<StateBackend> backend,
                                 std::shared_ptr<StateColumn> column, const StateTtlConfig& ttl,
                                 std::shared_ptr<const Clock> clock, uint32_t max_parallelism)
    : name_(std::move(name)),
      backend_(std::move(backend)),
      column_(std::move(column)),
      ttl_(ttl),
      ttl_millis_(ttl.enabled() ? static_cast<int64_t>(ttl.ttl.count()) : 0),
      clock_(std::move(clock)),
      max_parallelism_(max_parallelism) {
  if (ttl_millis_ > 0 && ttl_.incremental_cleanup_entries > 0) {
    cleanup_ = std::make_unique<internal::IncrementalCleanup>(backend_, column_, clock_,
                                                              ttl_.incremental_cleanup_entries);
  }
}

StateAccessCore::~StateAccessCore() = default;

Result<std::shared_ptr<StateAccessCore>> StateAccessCore::open(std::shared_ptr<StateBackend> backend,
                                                               std::string name, std::string_view codec,
                                                               const StateTtlConfig& ttl,
                                                               std::shared_ptr<const Clock> clock,
                                                               uint32_t max_parallelism) {
  if (backend == nullptr) return Status::invalid_argument("StateAccess '" + name + "': the backend is null");
  STREAMSTATE_RETURN_IF_ERROR(validate_column_name(name).with_context("StateAccess"));
  if (name.starts_with(kReservedPrefix)) {
    return Status::invalid_argument("StateAccess '" + name +
                                    "': names starting with \"_ss.\" are reserved for "
                                    "streamstate's own columns; choose another state name");
  }
  STREAMSTATE_RETURN_IF_ERROR(ttl.validate().with_context("StateAccess '" + name + "'"));
  STREAMSTATE_RETURN_IF_ERROR(
      validate_max_parallelism(max_parallelism).with_context("StateAccess '" + name + "'"));
  STREAMSTATE_RETURN_IF_ERROR(register_access(*backend, name, codec, ttl.enabled(), max_parallelism));
  ColumnOptions options;
  options.values_carry_expiry = ttl.enabled();
  Result<std::shared_ptr<StateColumn>> column = backend->column_with_options(name, options);
  if (!column.is_ok()) return column.status().with_context("StateAccess '" + name + "'");
  if (clock == nullptr) clock = system_clock();
  return std::shared_ptr<StateAccessCore>(new StateAccessCore(std::move(name), std::move(backend),
                                                              std::move(column).value(), ttl,
                                                              std::move(clock), max_parallelism));
}

std::string StateAccessCore::state_key(BytesView user_key) const {
  return make_state_key(key_group_for_key(user_key, max_parallelism_), user_key);
}

Status StateAccessCore::corrupt(BytesView user_key, const std::string& what) const {
  return Status::corruption("state '" + name_ + "', key " + internal::printable_bytes(user_key) + ": " +
                            what);
}

Status StateAccessCore::decode_error(BytesView user_key, const Status& cause) const {
  return corrupt(user_key, "stored bytes cannot be decoded (" + cause.message() +
                               "); was the state written with another value type?");
}

Status StateAccessCore::cleanup_step() {
  if (cleanup_ == nullptr) return Status::ok();
  // Another thread is stepping: its step covers this access too (a step is a walk over the
  // column, not tied to the caller's key), so skip instead of queueing behind it.
  std::unique_lock<std::mutex> lock(cleanup_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return Status::ok();
  return cleanup_->step();
}

Result<bool> StateAccessCore::read(BytesView user_key, std::string& payload) {
  STREAMSTATE_RETURN_IF_ERROR(cleanup_step());
  const std::string key = state_key(user_key);
  STREAMSTATE_ASSIGN_OR_RETURN(const bool found, column_->get_into(key, payload));
  if (!found || ttl_millis_ == 0) return found;
  const std::optional<int64_t> expires_at = internal::read_expiry(payload);
  if (!expires_at.has_value()) {
    return corrupt(user_key, "stored value of " + std::to_string(payload.size()) +
                                 " bytes is too short for its 8-byte expiry header");
  }
  const bool expired = internal::is_expired_at(*expires_at, clock_->now_millis());
  if (!expired && ttl_.update_type == TtlUpdateType::kOnCreateAndWrite) {
    payload.erase(0, internal::kExpiryHeaderBytes);
    return true;
  }
  return read_and_maintain(key, user_key, payload);
}

// The slow read: removes an expired value, or renews a live one's TTL (kOnReadAndWrite), as one
// atomic step on what is stored now (which may differ from what the first read saw).
Result<bool> StateAccessCore::read_and_maintain(const std::string& key, BytesView user_key,
                                                std::string& payload) {
  const int64_t now = clock_->now_millis();
  const bool renew = ttl_.update_type == TtlUpdateType::kOnReadAndWrite;
  bool found = false;
  bool expired = false;
  bool corrupt_value = false;
  Status status = column_->update(key, [&](std::optional<BytesView> current) -> std::optional<std::string> {
    found = expired = corrupt_value = false;  // Redis may run this again after a conflict
    if (!current.has_value()) return std::nullopt;
    const std::optional<int64_t> expires_at = internal::read_expiry(*current);
    if (!expires_at.has_value()) {
      corrupt_value = true;
      return std::string(*current);
    }
    found = true;
    payload.assign(internal::expiring_payload(*current));
    if (internal::is_expired_at(*expires_at, now)) {
      expired = true;
      return std::nullopt;
    }
    std::string kept;
    internal::append_expiring_value(kept, renew ? internal::expiry_after(now, ttl_millis_) : *expires_at,
                                    payload);
    return kept;
  });
  STREAMSTATE_RETURN_IF_ERROR(status);
  if (corrupt_value) return corrupt(user_key, "stored value is too short for its 8-byte expiry header");
  if (expired && ttl_.visibility == TtlVisibility::kNeverReturnExpired) return false;
  return found;
}

Status StateAccessCore::write(BytesView user_key, BytesView payload) {
  STREAMSTATE_RETURN_IF_ERROR(cleanup_step());
  const std::string key = state_key(user_key);
  if (ttl_millis_ == 0) return column_->put(key, payload);
  std::string stored;
  stored.reserve(internal::kExpiryHeaderBytes + payload.size());
  internal::append_expiring_value(stored, internal::expiry_after(clock_->now_millis(), ttl_millis_), payload);
  return column_->put(key, stored);
}

Status StateAccessCore::remove(BytesView user_key) {
  STREAMSTATE_RETURN_IF_ERROR(cleanup_step());
  return column_->remove(state_key(user_key));
}

Status StateAccessCore::update(BytesView user_key, const PayloadUpdate& fn) {
  STREAMSTATE_RETURN_IF_ERROR(cleanup_step());
  const std::string key = state_key(user_key);
  const int64_t now = clock_->now_millis();
  Status failure;
  Status status = column_->update(key, [&](std::optional<BytesView> stored) -> std::optional<std::string> {
    failure = Status::ok();
    // On any failure the stored bytes are written back exactly as they were.
    auto unchanged = [&stored]() -> std::optional<std::string> {
      if (!stored.has_value()) return std::nullopt;
      return std::string(*stored);
    };
    std::optional<BytesView> current = stored;
    if (ttl_millis_ > 0 && stored.has_value()) {
      const std::optional<int64_t> expires_at = internal::read_expiry(*stored);
      if (!expires_at.has_value()) {
        failure = corrupt(user_key, "stored value is too short for its 8-byte expiry header");
        return unchanged();
      }
      current = internal::expiring_payload(*stored);
      const bool hidden = ttl_.visibility == TtlVisibility::kNeverReturnExpired;
      if (internal::is_expired_at(*expires_at, now) && hidden) current.reset();
    }
    std::string out;
    if (ttl_millis_ > 0) internal::append_expiring_value(out, internal::expiry_after(now, ttl_millis_), {});
    try {
      failure = fn(current, out);
    } catch (const std::exception& error) {
      failure =
          Status::invalid_argument("state '" + name_ + "', key " + internal::printable_bytes(user_key) +
                                   ": the update function threw: " + error.what() + "; nothing was stored");
    } catch (...) {
      failure = Status::invalid_argument(
          "state '" + name_ + "', key " + internal::printable_bytes(user_key) +
          ": the update function threw a non-standard exception; nothing was stored");
    }
    if (!failure.is_ok()) return unchanged();
    return out;
  });
  STREAMSTATE_RETURN_IF_ERROR(status);
  return failure;
}

}  // namespace streamstate::detail
