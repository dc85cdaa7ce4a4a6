// The implementation of RocksDbCache: a RocksDB LRU block cache that several RocksDB
// backends (and the benchmark's raw rocksdb::DB) can share.
//
// Thread-safety: all methods may be called from any thread (RocksDB's cache is thread-safe).
#pragma once

#include <rocksdb/cache.h>

#include <memory>

#include "streamstate/rocksdb.h"

namespace streamstate::internal {

class LruBlockCache final : public RocksDbCache {
 public:
  explicit LruBlockCache(std::shared_ptr<rocksdb::Cache> cache) : cache_(std::move(cache)) {}

  uint64_t capacity_bytes() const override { return cache_->GetCapacity(); }
  uint64_t usage_bytes() const override { return cache_->GetUsage(); }

  const std::shared_ptr<rocksdb::Cache>& native() const { return cache_; }

 private:
  std::shared_ptr<rocksdb::Cache> cache_;
};

// The RocksDB cache behind `cache`, or nullptr when `cache` was not made by
// RocksDbCache::create (a user subclass has no RocksDB cache to share).
std::shared_ptr<rocksdb::Cache> native_block_cache(const RocksDbCache& cache);

}  // namespace streamstate::internal
