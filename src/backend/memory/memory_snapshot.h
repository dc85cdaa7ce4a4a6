// The memory backend's point-in-time snapshot and its iterator.
//
// A snapshot holds a reference to every table of every column as it was when the snapshot was
// taken (a table is cloned before it changes while a snapshot shares it), the column list of
// that moment and the clock reading used to hide entries whose TTL had passed. Iterators share
// the snapshot's state, so they stay usable if the snapshot object is destroyed first; the
// table references are given back when the last of them goes.
//
// Thread-safety: the captured tables are immutable, so a snapshot may be read from any thread
// while writers continue; a single snapshot or iterator object is not for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/memory/memory_store.h"
#include "backend/memory/memory_table.h"
#include "streamstate/backend.h"

namespace streamstate::internal {

// What a snapshot and its iterators share.
class SnapshotState {
 public:
  // `columns` sorted by name.
  SnapshotState(std::shared_ptr<MemoryStore> store, std::vector<CapturedColumn> columns, int64_t taken_at)
      : store_(std::move(store)), columns_(std::move(columns)), taken_at_(taken_at) {}
  ~SnapshotState() { store_->release(columns_); }
  SnapshotState(const SnapshotState&) = delete;
  SnapshotState& operator=(const SnapshotState&) = delete;

  const MemoryStore& store() const { return *store_; }
  const std::vector<CapturedColumn>& columns() const { return columns_; }
  int64_t taken_at() const { return taken_at_; }

 private:
  std::shared_ptr<MemoryStore> store_;
  std::vector<CapturedColumn> columns_;
  int64_t taken_at_;
};

class MemorySnapshot final : public BackendSnapshot {
 public:
  explicit MemorySnapshot(std::shared_ptr<SnapshotState> state);

  const std::vector<std::string>& columns() const override { return names_; }
  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override;

 private:
  std::shared_ptr<SnapshotState> state_;
  std::vector<std::string> names_;  // parallel to state_->columns()
};

}  // namespace streamstate::internal
