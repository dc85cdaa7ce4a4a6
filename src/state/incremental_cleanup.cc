#include "state/incremental_cleanup.h"

#include <optional>
#include <utility>

#include "core/expiring_value.h"
#include "state/printable.h"
#include "util/status_macros.h"

namespace streamstate::internal {

IncrementalCleanup::IncrementalCleanup(std::shared_ptr<StateBackend> backend,
                                       std::shared_ptr<StateColumn> column,
                                       std::shared_ptr<const Clock> clock, uint32_t entries_per_step)
    : backend_(std::move(backend)),
      column_(std::move(column)),
      clock_(std::move(clock)),
      entries_per_step_(entries_per_step) {}

Status IncrementalCleanup::step() {
  bool started_walk = false;
  const int64_t now = clock_->now_millis();
  for (uint32_t checked = 0; checked < entries_per_step_;) {
    if (iterator_ == nullptr || !iterator_->valid()) {
      if (iterator_ != nullptr && !iterator_->status().is_ok()) {
        Status failed = iterator_->status();
        iterator_.reset();
        snapshot_.reset();
        return failed.with_context("state '" + column_->name() + "': incremental TTL cleanup");
      }
      iterator_.reset();
      snapshot_.reset();
      // One new walk per access at most: an empty or tiny column must not make every access
      // take several snapshots.
      if (started_walk) return Status::ok();
      STREAMSTATE_RETURN_IF_ERROR(start_walk());
      started_walk = true;
      continue;
    }
    ++checked;
    const std::optional<int64_t> expires_at = read_expiry(iterator_->value());
    // Too short to carry an expiry: corrupt, but reporting it is the readers' job (they name
    // the key); cleanup leaves it alone.
    if (expires_at.has_value() && is_expired_at(*expires_at, now)) {
      STREAMSTATE_RETURN_IF_ERROR(remove_if_still_expired(iterator_->key()));
    }
    iterator_->next();
  }
  return Status::ok();
}

Status IncrementalCleanup::start_walk() {
  auto snapshot = backend_->snapshot();
  if (!snapshot.is_ok()) {
    return snapshot.status().with_context("state '" + column_->name() + "': incremental TTL cleanup");
  }
  auto iterator = snapshot.value()->iterate(column_->name());
  if (!iterator.is_ok()) {
    return iterator.status().with_context("state '" + column_->name() + "': incremental TTL cleanup");
  }
  snapshot_ = std::move(snapshot).value();
  iterator_ = std::move(iterator).value();
  return Status::ok();
}

Status IncrementalCleanup::remove_if_still_expired(BytesView key) {
  const int64_t now = clock_->now_millis();
  Status status = column_->update(key, [now](std::optional<BytesView> current) -> std::optional<std::string> {
    if (!current.has_value()) return std::nullopt;
    const std::optional<int64_t> expires_at = read_expiry(*current);
    if (expires_at.has_value() && is_expired_at(*expires_at, now)) return std::nullopt;
    // Rewritten since the snapshot and live again: keep it.
    return std::string(*current);
  });
  if (status.is_ok()) return status;
  // "incremental TTL cleanup: state 'x': update of user key '...' (key group ...)".
  return with_state_key(status, column_->name(), key, std::nullopt).with_context("incremental TTL cleanup");
}

}  // namespace streamstate::internal
