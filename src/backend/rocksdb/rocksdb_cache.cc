#include "backend/rocksdb/rocksdb_cache.h"

#include <string>

namespace streamstate {

Result<std::shared_ptr<RocksDbCache>> RocksDbCache::create(uint64_t capacity_bytes) {
  if (capacity_bytes == 0) {
    return Status::invalid_argument(
        "RocksDbCache::create: capacity_bytes is 0; give the cache a positive size");
  }
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(static_cast<size_t>(capacity_bytes));
  if (cache == nullptr) {
    return Status::internal("RocksDbCache::create: RocksDB returned no cache for capacity " +
                            std::to_string(capacity_bytes));
  }
  return std::shared_ptr<RocksDbCache>(std::make_shared<internal::LruBlockCache>(std::move(cache)));
}

namespace internal {

std::shared_ptr<rocksdb::Cache> native_block_cache(const RocksDbCache& cache) {
  const auto* lru = dynamic_cast<const LruBlockCache*>(&cache);
  return lru == nullptr ? nullptr : lru->native();
}

}  // namespace internal
}  // namespace streamstate
