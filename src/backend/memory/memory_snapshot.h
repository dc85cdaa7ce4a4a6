// The memory backend's point-in-time snapshot and its iterator.
//
// A snapshot holds the column list of its moment, the clock reading used to hide entries whose
// TTL had passed, and a SnapshotLog registered with the store: writers copy into it each entry
// they change while the snapshot lives, as it was before (entry-level copy-on-write, see
// snapshot_log.h). An iterator reads one shard at a time: under that shard's lock it copies
// out the matching entries of the live table with the log's pre-images laid over them, then
// returns them with no lock held. Iterators share the snapshot's state, so they stay usable if
// the snapshot object is destroyed first; the log is unregistered when the last of them goes.
//
// Thread-safety: a snapshot may be read from any thread while writers continue; a single
// snapshot or iterator object is not for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/memory/memory_store.h"
#include "backend/memory/snapshot_log.h"
#include "streamstate/backend.h"

namespace streamstate::internal {

// What a snapshot and its iterators share.
class SnapshotState {
 public:
  // `columns` sorted by name; `log` already captured by `store`.
  SnapshotState(std::shared_ptr<MemoryStore> store, std::vector<std::shared_ptr<ColumnState>> columns,
                std::unique_ptr<SnapshotLog> log, int64_t taken_at)
      : store_(std::move(store)), columns_(std::move(columns)), log_(std::move(log)), taken_at_(taken_at) {}
  ~SnapshotState() { store_->release(*log_); }
  SnapshotState(const SnapshotState&) = delete;
  SnapshotState& operator=(const SnapshotState&) = delete;

  MemoryStore& store() const { return *store_; }
  const std::vector<std::shared_ptr<ColumnState>>& columns() const { return columns_; }
  const SnapshotLog& log() const { return *log_; }
  SnapshotLog& log() { return *log_; }
  int64_t taken_at() const { return taken_at_; }

 private:
  std::shared_ptr<MemoryStore> store_;
  std::vector<std::shared_ptr<ColumnState>> columns_;
  std::unique_ptr<SnapshotLog> log_;
  int64_t taken_at_;
};

class MemorySnapshot final : public BackendSnapshot {
 public:
  explicit MemorySnapshot(std::shared_ptr<SnapshotState> state);

  const std::vector<std::string>& columns() const override { return names_; }
  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override;
  // Releases each shard's part of the column once the iterator has copied it: writers stop
  // copying entries for this snapshot there, and its pre-images are freed.
  Result<std::unique_ptr<SnapshotIterator>> iterate_once(std::string_view column) override;
  // A point lookup under the key's shard lock (no scan).
  Result<bool> get(std::string_view column, BytesView key, std::string* value) override;
  // Each shard locked once for its keys, lookups prefetched ahead.
  Status get_many(std::string_view column, std::span<const std::string> keys,
                  const std::function<void(size_t index, BytesView value)>& found) override;

 private:
  std::shared_ptr<SnapshotState> state_;
  // The index of `column`, or NotFound; FailedPrecondition once iterate_once released it.
  Result<size_t> readable_column(std::string_view column) const;

  std::vector<std::string> names_;  // parallel to state_->columns()
  std::vector<bool> released_;      // parallel to names_: iterate_once was called
};

}  // namespace streamstate::internal
