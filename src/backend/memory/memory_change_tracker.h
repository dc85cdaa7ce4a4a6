// MemoryChangeTracker: the memory backend's ChangeTracker (MemoryBackendOptions::track_changes).
// The keys themselves are recorded by MemoryStore in each shard's ChangeSet as writers change
// them; this class hands them out with a snapshot and keeps the confirmed epoch.
//
// Thread-safety: all methods may be called from any thread (one mutex orders them).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "backend/memory/memory_store.h"
#include "streamstate/change_tracking.h"

namespace streamstate::internal {

class MemoryChangeTracker final : public ChangeTracker {
 public:
  // Takes a snapshot exactly as MemoryBackend::snapshot() does, and sets *epoch to the change
  // epoch it closes (MemoryStore::capture).
  using SnapshotTaker = std::function<Result<std::unique_ptr<BackendSnapshot>>(uint64_t* epoch)>;

  MemoryChangeTracker(MemoryStore& store, SnapshotTaker take_snapshot)
      : store_(store), take_snapshot_(std::move(take_snapshot)) {}

  Result<TrackedSnapshot> snapshot_with_changes() override;
  using ChangeTracker::confirm_changes;
  Status confirm_changes(uint64_t epoch, std::string base_label) override;
  Status reset_changes() override;
  uint64_t tracked_keys() const override { return store_.tracked_keys(); }

 private:
  MemoryStore& store_;
  SnapshotTaker take_snapshot_;
  std::mutex mutex_;
  uint64_t last_epoch_handed_out_ = 0;      // guarded by mutex_
  std::optional<uint64_t> confirmed_epoch_;  // guarded by mutex_
  std::string confirmed_label_;              // guarded by mutex_
};

}  // namespace streamstate::internal
