// The cached entries of one column of a WriteBackCache: lock shards, each with a map of dirty
// entries (written since the last flush; a tombstone for a removed key) and a map of clean ones
// (equal to the inner backend's value, or known to be absent there).
//
// Thread-safety: a shard's maps and counters are guarded by its mutex (the counters are atomics
// only so that statistics() may read them without it). `dropped` is guarded by the cache's
// exclusive lock (CacheCore::every_): written with it held exclusively, read with it held shared.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "streamstate/backend.h"

namespace streamstate::internal {

// What the cache counts per entry besides its key and value bytes (map slot, string headers).
inline constexpr uint64_t kCachedEntryOverhead = 64;

// A cached value: `present` false is a tombstone (dirty) or a key known to be absent (clean).
struct CachedValue {
  std::string value;
  bool present = false;
};

inline uint64_t cached_bytes(std::string_view key, const CachedValue& value) {
  return key.size() + value.value.size() + kCachedEntryOverhead;
}

// Transparent hashing of keys, so that lookups by BytesView do not copy the key. (This
// Abseil's string_view is its own type, not std::string_view.) Shards are picked with
// std::hash, an unrelated function, so that the keys of one shard spread over its table.
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const {
    return absl::Hash<absl::string_view>()(absl::string_view(key.data(), key.size()));
  }
};
struct KeyEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};
using CachedEntries = absl::flat_hash_map<std::string, CachedValue, KeyHash, KeyEqual>;

// A counter written under its shard's mutex and read without it.
struct ShardCounter {
  std::atomic<uint64_t> count{0};
  void add(uint64_t amount = 1) { count.store(count.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed); }
  uint64_t get() const { return count.load(std::memory_order_relaxed); }
};

struct CacheShard {
  std::mutex mutex;
  CachedEntries dirty;
  CachedEntries clean;
  uint64_t dirty_bytes = 0;
  uint64_t clean_bytes = 0;
  // StateBackend statistics, as the caller sees them.
  ShardCounter gets, hits, misses, puts, removes;
  // Cache statistics.
  ShardCounter cache_hits, cache_misses, absorbed;
  // Mirrors of the map sizes and byte counts, for cache_statistics().
  ShardCounter dirty_entries_now, dirty_bytes_now, clean_entries_now, clean_bytes_now;
};

struct CachedColumn {
  CachedColumn(std::string column_name, std::shared_ptr<StateColumn> inner_column, uint32_t shard_count)
      : name(std::move(column_name)),
        inner(std::move(inner_column)),
        shards(std::make_unique<CacheShard[]>(shard_count)),
        shard_mask(shard_count - 1) {}

  CacheShard& shard_for(BytesView key) { return shards[std::hash<std::string_view>()(key) & shard_mask]; }
  uint32_t shard_index(BytesView key) const {
    return static_cast<uint32_t>(std::hash<std::string_view>()(key) & shard_mask);
  }
  uint32_t shard_count() const { return shard_mask + 1; }

  const std::string name;
  const std::shared_ptr<StateColumn> inner;
  const std::unique_ptr<CacheShard[]> shards;
  const uint32_t shard_mask;  // shard count - 1 (a power of two)
  bool dropped = false;
};

}  // namespace streamstate::internal
