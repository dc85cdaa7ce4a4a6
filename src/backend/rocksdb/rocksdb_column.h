// RocksDbColumn: a StateColumn over one RocksDB column family.
//
// Each operation holds the engine's lifecycle gate shared for the RocksDB call only, so it
// costs one RocksDB call plus an uncontended stripe lock. update() serializes on a striped
// mutex chosen by column and key. scan() reads through an iterator without holding the gate
// while the visitor runs (see RocksDbEngine).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "backend/rocksdb/rocksdb_engine.h"
#include "streamstate/backend.h"

namespace streamstate::internal {

class RocksDbColumn final : public StateColumn {
 public:
  RocksDbColumn(std::shared_ptr<RocksDbEngine> engine, std::shared_ptr<const ColumnEntry> entry)
      : engine_(std::move(engine)), entry_(std::move(entry)) {}

  const std::string& name() const override { return entry_->name; }

  Result<bool> get_into(BytesView key, std::string& value) override;
  Status put(BytesView key, BytesView value) override;
  Status remove(BytesView key) override;
  Result<bool> contains(BytesView key) override;
  Status update(BytesView key, const UpdateFunction& fn) override;
  Status scan(BytesView prefix, const ScanVisitor& visitor) override;
  Status clear() override;

 private:
  // With the gate held shared: closed or dropped, as a Status (OK when usable).
  Status check_usable() const;
  Status error(const rocksdb::Status& status, const char* operation, BytesView key) const;
  // The outcome of a point lookup: found or not (counted as a hit or a miss), or the error.
  Result<bool> lookup_result(const rocksdb::Status& status, const char* operation, BytesView key) const;

  std::shared_ptr<RocksDbEngine> engine_;
  std::shared_ptr<const ColumnEntry> entry_;
};

// The smallest key above every key that starts with `prefix`; false when there is none
// (empty prefix, or one made only of 0xff bytes).
bool prefix_upper_bound(BytesView prefix, std::string& bound);

}  // namespace streamstate::internal
