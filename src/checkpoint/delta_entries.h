// What an incremental checkpoint writes: for each changed key of a TrackedSnapshot, its value
// in the snapshot (a put) or, when the snapshot no longer holds it, a tombstone. Both halves are
// offered as BackendSnapshot views, so the snapshot file writer writes them like any snapshot.
// Internal to checkpoints (checkpoint_writer.cc).
//
// A changed key whose value has expired by the checkpoint's time is a tombstone: the restored
// chain must not resurrect the older value an earlier file of the chain holds.
//
// Thread-safety: collect_delta_entries reads the snapshot from the calling thread; the result
// and its views are used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/change_tracking.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct DeltaColumn {
  std::string name;
  // The put keys and their values, the values packed in one buffer (no allocation per value).
  std::vector<std::string> put_keys;
  std::vector<std::pair<size_t, size_t>> put_values;  // (offset, size) in `values`
  std::string values;
  std::vector<std::string> tombstones;
};

struct DeltaEntries {
  std::vector<DeltaColumn> columns;  // sorted by name; only columns of the snapshot
  uint64_t puts = 0;
  uint64_t tombstones = 0;
};

// Looks every changed key up in `snapshot` (BackendSnapshot::get); the keys are moved out of
// `changes`. Columns absent from the
// snapshot (dropped since the base) and `excluded` columns are left out: a restore recreates only
// the columns the checkpoint lists.
Result<DeltaEntries> collect_delta_entries(BackendSnapshot& snapshot, std::vector<ChangedColumn>& changes,
                                           const std::set<std::string, std::less<>>& expiring, int64_t now_millis,
                                           const std::set<std::string, std::less<>>& excluded);

// Snapshot views of the puts and of the tombstones (empty values). Their columns() are the
// delta's columns with at least one put (resp. tombstone). `delta` must outlive the views.
std::unique_ptr<BackendSnapshot> delta_puts_view(const DeltaEntries& delta);
std::unique_ptr<BackendSnapshot> delta_tombstones_view(const DeltaEntries& delta);

}  // namespace streamstate::internal
