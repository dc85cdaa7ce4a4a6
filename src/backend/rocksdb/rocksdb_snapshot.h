// RocksDbSnapshot: a BackendSnapshot over a RocksDB snapshot (DB::GetSnapshot), with the
// column list captured at the same moment. Iterators read with ReadOptions::snapshot and do
// not fill the block cache, so a checkpoint reading everything does not evict hot blocks.
//
// The RocksDB snapshot is released when the snapshot object and every iterator made from it
// are gone, or by close(), whichever comes first; after close() iteration ends with kClosed.
// An iterator copies the current entry into its own buffers, so the views it hands out stay
// valid even if another thread closes the backend meanwhile.
//
// Thread-safety: a snapshot may be used from any thread (also concurrently); one iterator
// must be used by one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/rocksdb/rocksdb_engine.h"
#include "streamstate/backend.h"

namespace streamstate::internal {

// Owns the RocksDB snapshot on behalf of a RocksDbSnapshot and its iterators.
class SnapshotHandle final : public CloseResource {
 public:
  // With the gate held shared.
  explicit SnapshotHandle(std::shared_ptr<RocksDbEngine> engine);
  ~SnapshotHandle() override;
  SnapshotHandle(const SnapshotHandle&) = delete;
  SnapshotHandle& operator=(const SnapshotHandle&) = delete;

  void release_native() override;
  // With the gate held shared and the engine open: the RocksDB snapshot.
  const rocksdb::Snapshot* native() const { return snapshot_; }

 private:
  std::shared_ptr<RocksDbEngine> engine_;
  const rocksdb::Snapshot* snapshot_;
};

class RocksDbSnapshot final : public BackendSnapshot {
 public:
  // With the gate held shared and the engine open.
  explicit RocksDbSnapshot(std::shared_ptr<RocksDbEngine> engine);

  const std::vector<std::string>& columns() const override { return column_names_; }
  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override;

 private:
  std::shared_ptr<RocksDbEngine> engine_;
  std::shared_ptr<SnapshotHandle> handle_;
  std::map<std::string, std::shared_ptr<const ColumnEntry>, std::less<>> columns_;
  std::vector<std::string> column_names_;
};

}  // namespace streamstate::internal
