// The memory backend's point-in-time snapshot and its iterator.
//
// A snapshot holds a reference to every shard's table as it was when the snapshot was taken
// (the shards clone a table before changing it while a snapshot shares it), the column list of
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

struct SnapshotColumn {
  std::string name;
  uint32_t id;
};

// What a snapshot and its iterators share.
class SnapshotState {
 public:
  SnapshotState(std::shared_ptr<MemoryStore> store, std::vector<std::shared_ptr<const MemoryTable>> tables,
                int64_t taken_at)
      : store_(std::move(store)), tables_(std::move(tables)), taken_at_(taken_at) {}
  ~SnapshotState() { store_->release(tables_); }
  SnapshotState(const SnapshotState&) = delete;
  SnapshotState& operator=(const SnapshotState&) = delete;

  const MemoryStore& store() const { return *store_; }
  const std::vector<std::shared_ptr<const MemoryTable>>& tables() const { return tables_; }
  int64_t taken_at() const { return taken_at_; }

 private:
  std::shared_ptr<MemoryStore> store_;
  std::vector<std::shared_ptr<const MemoryTable>> tables_;
  int64_t taken_at_;
};

class MemorySnapshot final : public BackendSnapshot {
 public:
  // `columns` sorted by name.
  MemorySnapshot(std::shared_ptr<SnapshotState> state, std::vector<SnapshotColumn> columns);

  const std::vector<std::string>& columns() const override { return names_; }
  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override;

 private:
  std::shared_ptr<SnapshotState> state_;
  std::vector<std::string> names_;
  std::vector<uint32_t> ids_;  // parallel to names_
};

}  // namespace streamstate::internal
