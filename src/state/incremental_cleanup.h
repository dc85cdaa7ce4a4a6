// IncrementalCleanup: TTL cleanup strategy (b). Each access of a state with
// incremental_cleanup_entries = N checks the next N entries of the state's column and removes
// those whose expiry has passed.
//
// It walks a backend snapshot of the column, kept across accesses, so the walk neither
// misses nor revisits entries while the state is written; when the walk ends, the next
// access starts a new one on a fresh snapshot (at most one new snapshot per access). An entry
// found expired in the snapshot is removed with StateColumn::update() only if the live entry
// is still expired, so a value written since the snapshot is never lost.
//
// Cost: the snapshot is held while a walk is in progress. On the memory backend that makes
// the first write to each shard during a walk copy that shard (copy on write); on Redis each
// walk starts with a server-side copy of the columns. Choose N so that a walk is short
// relative to how often the state is written, or prefer (c)/(d) on those backends.
//
// Thread-safety: none; owned by one StateCore.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "streamstate/backend.h"
#include "streamstate/clock.h"
#include "streamstate/status.h"

namespace streamstate::internal {

class IncrementalCleanup {
 public:
  IncrementalCleanup(std::shared_ptr<StateBackend> backend, std::shared_ptr<StateColumn> column,
                     std::shared_ptr<const Clock> clock, uint32_t entries_per_step);

  // Checks up to entries_per_step entries; errors name the state.
  Status step();

 private:
  Status start_walk();
  Status remove_if_still_expired(BytesView key);

  const std::shared_ptr<StateBackend> backend_;
  const std::shared_ptr<StateColumn> column_;
  const std::shared_ptr<const Clock> clock_;
  const uint32_t entries_per_step_;
  std::unique_ptr<BackendSnapshot> snapshot_;
  std::unique_ptr<SnapshotIterator> iterator_;
};

}  // namespace streamstate::internal
