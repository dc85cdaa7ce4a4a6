// ChangeTracker: the keys a backend changed since its last durable checkpoint, for incremental
// checkpoints that write only what changed (puts and tombstones) instead of all the state.
//
// A backend that can track changes returns a tracker from StateBackend::change_tracker() (the
// memory backend with MemoryBackendOptions::track_changes); others return null and are
// checkpointed in full (RocksDB has its own incremental path: its files).
//
// The protocol, one checkpoint at a time:
//   auto tracked = tracker->snapshot_with_changes();   // a snapshot, its epoch, what changed
//   if (!tracked->base_epoch)  write a full checkpoint of tracked->snapshot
//   else                       write a delta on top of the checkpoint confirmed at *base_epoch:
//                              for each changed key, its value in the snapshot (a put) or, when
//                              the snapshot has no such key, a tombstone
//   ... once that checkpoint is durable:
//   tracker->confirm_changes(tracked->epoch);
// Keys stay tracked until a checkpoint covering them is confirmed, so a checkpoint that failed
// (never confirmed) loses nothing: the next delta still holds its keys. The changes may name a
// key whose value equals the base's (written after the snapshot was taken, or set back to its
// old value): writing it again is harmless; a key missing from the changes is guaranteed to be
// unchanged since the base.
//
// Thread-safety: all methods may be called from any thread, concurrently with writers;
// snapshot_with_changes and confirm_changes are meant for one checkpointing thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/status.h"

namespace streamstate {

// The changed keys of one column, in no particular order (sorting them would cost the
// snapshot's caller time for nothing: checkpoints group them by key group). A column dropped since the base has all its
// base keys here (and is absent from the snapshot).
struct ChangedColumn {
  std::string name;
  std::vector<std::string> keys;
};

struct TrackedSnapshot {
  // Consistent, as StateBackend::snapshot().
  std::unique_ptr<BackendSnapshot> snapshot;
  // Pass to confirm_changes() once a checkpoint of this snapshot is durable. Increases by one
  // per snapshot_with_changes() call.
  uint64_t epoch = 0;
  // The epoch of the last confirmed checkpoint, which the changes are relative to; empty when
  // none was confirmed since tracking began (the process started, or tracking was reset): then
  // the checkpoint must be full.
  std::optional<uint64_t> base_epoch;
  // The label given to confirm_changes() with base_epoch (incremental checkpoints record which
  // checkpoint holds the base there); empty when there is no base or none was given.
  std::string base_label;
  // Columns with changed keys, sorted by name; columns without changes are left out. Empty
  // when there is no base_epoch (the checkpoint is full; the keys stay tracked until confirmed).
  std::vector<ChangedColumn> changes;
  // Total keys over `changes`.
  uint64_t changed_keys = 0;
};

class ChangeTracker {
 public:
  virtual ~ChangeTracker() = default;

  // A snapshot of the backend and the keys changed since the last confirmed epoch.
  virtual Result<TrackedSnapshot> snapshot_with_changes() = 0;
  // The checkpoint of `epoch`'s snapshot is durable: keys not changed after that snapshot stop
  // being tracked, and later deltas are relative to it. InvalidArgument for an epoch that was
  // never handed out; confirming an older epoch than the last confirmed one is a no-op.
  // `base_label` is kept with the confirmed epoch and handed out as TrackedSnapshot::base_label
  // (an older epoch's label is ignored along with it).
  virtual Status confirm_changes(uint64_t epoch, std::string base_label) = 0;
  Status confirm_changes(uint64_t epoch) { return confirm_changes(epoch, std::string()); }
  // Forgets every tracked key and the confirmed base: the next snapshot_with_changes() has no
  // base_epoch (a full checkpoint). For a restore into the backend, or a lost checkpoint chain.
  virtual Status reset_changes() = 0;
  // Keys tracked now, over all columns: the memory tracking costs (about 64 bytes plus the key
  // each).
  virtual uint64_t tracked_keys() const = 0;
};

}  // namespace streamstate
