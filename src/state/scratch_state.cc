// ScratchCore and ScratchState::Batch: the stored layout of scratch entries, expiry on read and
// batches applied through one WriteBatch.
#include "streamstate/scratch_state.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/expiring_value.h"
#include "state/printable.h"
#include "state/state_record.h"
#include "util/status_macros.h"

namespace streamstate::detail {
namespace {

constexpr std::string_view kReservedPrefix = "_ss.";

// FailedPrecondition when `column` is keyed state recorded in "_ss.states" (by a
// KeyedStateStore or a StateAccess): scratch entries have another layout and would make its
// typed values unreadable. The states column is only read, never created here.
Status check_not_keyed_state(StateBackend& backend, const std::string& column) {
  STREAMSTATE_ASSIGN_OR_RETURN(const std::vector<std::string> columns, backend.list_columns());
  if (std::find(columns.begin(), columns.end(), internal::kStatesColumn) == columns.end()) return Status::ok();
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> states, backend.column(internal::kStatesColumn));
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> stored, states->get(column));
  std::string what;
  if (stored.has_value()) {
    Result<internal::StateRecord> record = internal::decode_state_record(column, *stored);
    what = record.is_ok() ? "a " + internal::describe_state_record(*record) : "keyed state";
  } else {
    STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> marker,
                                 states->get(internal::migration_marker_key(column)));
    if (!marker.has_value()) return Status::ok();
    what = "keyed state being migrated";
  }
  return Status::failed_precondition("ScratchState '" + column + "': the column is the keyed state '" + column +
                                     "', " + what + " recorded in " + std::string(internal::kStatesColumn) +
                                     "; scratch entries have their own layout and would make its values "
                                     "unreadable: open the ScratchState on another column (default \"scratch\")");
}

}  // namespace

ScratchCore::ScratchCore(std::shared_ptr<StateBackend> backend, std::shared_ptr<StateColumn> column,
                         std::string column_name, std::shared_ptr<const Clock> clock)
    : backend_(std::move(backend)),
      column_(std::move(column)),
      column_name_(std::move(column_name)),
      clock_(std::move(clock)) {}

Result<std::shared_ptr<ScratchCore>> ScratchCore::open(std::shared_ptr<StateBackend> backend,
                                                       std::string column,
                                                       std::shared_ptr<const Clock> clock) {
  if (backend == nullptr)
    return Status::invalid_argument("ScratchState '" + column + "': the backend is null");
  STREAMSTATE_RETURN_IF_ERROR(validate_column_name(column).with_context("ScratchState"));
  if (column.starts_with(kReservedPrefix)) {
    return Status::invalid_argument("ScratchState '" + column +
                                    "': column names starting with \"_ss.\" are "
                                    "reserved for streamstate's own columns; choose another name");
  }
  STREAMSTATE_RETURN_IF_ERROR(check_not_keyed_state(*backend, column));
  ColumnOptions options;
  options.values_carry_expiry = true;
  Result<std::shared_ptr<StateColumn>> handle = backend->column_with_options(column, options);
  if (!handle.is_ok()) return handle.status().with_context("ScratchState '" + column + "'");
  if (clock == nullptr) clock = system_clock();
  return std::shared_ptr<ScratchCore>(
      new ScratchCore(std::move(backend), std::move(handle).value(), std::move(column), std::move(clock)));
}

Status ScratchCore::check_name(std::string_view name) {
  if (name.empty()) {
    return Status::invalid_argument(
        "scratch entry name is empty: give every entry a name, e.g. \"user_count\"");
  }
  return Status::ok();
}

Status ScratchCore::check_put(std::string_view name, std::chrono::milliseconds ttl, bool with_ttl) {
  STREAMSTATE_RETURN_IF_ERROR(check_name(name));
  if (with_ttl && ttl.count() <= 0) {
    return Status::invalid_argument("put_with_ttl of scratch entry " + internal::printable_bytes(name) +
                                    ": ttl is " + std::to_string(ttl.count()) +
                                    " ms; use a positive ttl, or put_typed for an entry that never expires");
  }
  return Status::ok();
}

std::string ScratchCore::make_body(std::string_view codec, const std::string& payload) {
  std::string body;
  body.reserve(varint_length(codec.size()) + codec.size() + payload.size());
  put_length_prefixed(body, codec);
  body += payload;
  return body;
}

Status ScratchCore::corrupt(std::string_view name, const std::string& what) const {
  return Status::corruption("scratch entry " + internal::printable_bytes(name) + " in column '" +
                            column_name_ + "': " + what);
}

void ScratchCore::append_stored(std::string& out, const ScratchOperation& operation, int64_t now) const {
  const int64_t expires_at = operation.ttl_millis > 0 ? internal::expiry_after(now, operation.ttl_millis)
                                                      : internal::kNeverExpiresMillis;
  internal::append_expiring_value(out, expires_at, operation.body);
}

Status ScratchCore::remove_if_expired(std::string_view name) {
  const int64_t now = clock_->now_millis();
  return column_->update(name, [now](std::optional<BytesView> current) -> std::optional<std::string> {
    if (!current.has_value()) return std::nullopt;
    const std::optional<int64_t> expires_at = internal::read_expiry(*current);
    if (expires_at.has_value() && internal::is_expired_at(*expires_at, now)) return std::nullopt;
    return std::string(*current);  // written again since it was read: keep it
  });
}

Result<bool> ScratchCore::read_live(std::string_view name, std::string& stored, BytesView& body) {
  STREAMSTATE_RETURN_IF_ERROR(check_name(name));
  STREAMSTATE_ASSIGN_OR_RETURN(const bool found, column_->get_into(name, stored));
  if (!found) return false;
  const std::optional<int64_t> expires_at = internal::read_expiry(stored);
  if (!expires_at.has_value()) {
    return corrupt(name, "stored value of " + std::to_string(stored.size()) +
                             " bytes is too short for its 8-byte expiry header");
  }
  if (internal::is_expired_at(*expires_at, clock_->now_millis())) {
    STREAMSTATE_RETURN_IF_ERROR(remove_if_expired(name));
    return false;
  }
  body = internal::expiring_payload(stored);
  return true;
}

Result<bool> ScratchCore::read(std::string_view name, std::string_view codec, std::string& payload) {
  std::string stored;
  BytesView body;
  STREAMSTATE_ASSIGN_OR_RETURN(const bool live, read_live(name, stored, body));
  if (!live) return false;
  ByteReader reader(body);
  BytesView stored_codec;
  if (!reader.read_length_prefixed(stored_codec)) return corrupt(name, "the stored type name is truncated");
  if (stored_codec != codec) {
    return Status::failed_precondition(
        "scratch entry " + internal::printable_bytes(name) + " in column '" + column_name_ +
        "' holds a value of type '" + std::string(stored_codec) + "', not '" + std::string(codec) +
        "': read it as '" + std::string(stored_codec) + "' or overwrite it with put_typed");
  }
  payload.assign(reader.rest());
  return true;
}

Result<bool> ScratchCore::contains(std::string_view name) {
  std::string stored;
  BytesView body;
  return read_live(name, stored, body);
}

Status ScratchCore::write(const ScratchOperation& operation) {
  std::string stored;
  append_stored(stored, operation, clock_->now_millis());
  return column_->put(operation.name, stored);
}

Status ScratchCore::remove(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(check_name(name));
  return column_->remove(name);
}

Status ScratchCore::clear() { return column_->clear(); }

Status ScratchCore::commit(const std::vector<ScratchOperation>& operations) {
  if (operations.empty()) return Status::ok();
  const int64_t now = clock_->now_millis();
  WriteBatch batch;
  std::string stored;
  for (const ScratchOperation& operation : operations) {
    if (operation.remove) {
      batch.remove(column_name_, operation.name);
      continue;
    }
    stored.clear();
    append_stored(stored, operation, now);
    batch.put(column_name_, operation.name, stored);
  }
  return backend_->write(batch).with_context("ScratchState '" + column_name_ + "': batch of " +
                                             std::to_string(operations.size()) + " operations");
}

}  // namespace streamstate::detail

namespace streamstate {

Result<ScratchState> ScratchState::open(std::shared_ptr<StateBackend> backend, std::string column,
                                        std::shared_ptr<const Clock> clock) {
  Result<std::shared_ptr<detail::ScratchCore>> core =
      detail::ScratchCore::open(std::move(backend), std::move(column), std::move(clock));
  if (!core.is_ok()) return core.status();
  return ScratchState(std::move(core).value());
}

ScratchState::Batch& ScratchState::Batch::remove(std::string_view name) {
  if (Status status = detail::ScratchCore::check_name(name); !status.is_ok()) {
    if (error_.is_ok()) error_ = status;
    return *this;
  }
  operations_.push_back(detail::ScratchOperation{true, std::string(name), std::string(), 0});
  return *this;
}

Status ScratchState::Batch::commit() {
  std::vector<detail::ScratchOperation> operations = std::move(operations_);
  Status error = std::move(error_);
  operations_.clear();
  error_ = Status::ok();
  if (!error.is_ok()) {
    return Status(error.code(), "batch not applied (nothing was written): " + error.message());
  }
  return core_->commit(operations);
}

}  // namespace streamstate
