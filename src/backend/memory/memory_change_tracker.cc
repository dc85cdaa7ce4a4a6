#include "backend/memory/memory_change_tracker.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace streamstate::internal {

Result<TrackedSnapshot> MemoryChangeTracker::snapshot_with_changes() {
  std::lock_guard<std::mutex> lock(mutex_);
  TrackedSnapshot tracked;
  Result<std::unique_ptr<BackendSnapshot>> snapshot = take_snapshot_(&tracked.epoch);
  if (!snapshot.is_ok()) return snapshot.status();
  tracked.snapshot = std::move(snapshot).value();
  // Without a confirmed base the checkpoint is full and needs no keys: collecting every key of
  // the state (all of it is "changed" since tracking began) would only slow the snapshot.
  std::map<std::string, std::vector<std::string>, std::less<>> by_column;
  if (confirmed_epoch_.has_value()) {
    // Collected after the capture: keys changed since then are included too (their snapshot
    // value may equal the base's, which the protocol allows); none changed before is missed.
    Status status = store_.collect_changes(by_column);
    if (!status.is_ok()) return status;
  }
  for (auto& [name, keys] : by_column) {
    tracked.changed_keys += keys.size();
    tracked.changes.push_back(ChangedColumn{name, std::move(keys)});
  }
  tracked.base_epoch = confirmed_epoch_;
  if (confirmed_epoch_.has_value()) tracked.base_label = confirmed_label_;
  last_epoch_handed_out_ = tracked.epoch;
  return tracked;
}

Status MemoryChangeTracker::confirm_changes(uint64_t epoch, std::string base_label) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (epoch == 0 || epoch > last_epoch_handed_out_) {
    return Status::invalid_argument("confirm_changes(" + std::to_string(epoch) +
                                    "): no snapshot_with_changes() returned that epoch (the last was " +
                                    std::to_string(last_epoch_handed_out_) + ")");
  }
  if (confirmed_epoch_.has_value() && epoch <= *confirmed_epoch_) return Status::ok();
  store_.forget_changes_through(epoch);
  confirmed_epoch_ = epoch;
  confirmed_label_ = std::move(base_label);
  return Status::ok();
}

Status MemoryChangeTracker::reset_changes() {
  std::lock_guard<std::mutex> lock(mutex_);
  store_.forget_all_changes();
  confirmed_epoch_.reset();
  confirmed_label_.clear();
  return Status::ok();
}

}  // namespace streamstate::internal
