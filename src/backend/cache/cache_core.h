// CacheCore: the state and operations of a WriteBackCache (streamstate/write_back_cache.h),
// shared by the backend object and its column handles, which may outlive it.
//
// Locking: every_ is held shared by each operation on keys (then the shards of its keys, in
// (column, shard index) order) and exclusively by whatever needs all of the cache at once:
// flushes, snapshots, clear, drop_column, put_entries and close. So a flush or a snapshot never
// sees half of a write batch, and a write acknowledged before snapshot() is in the snapshot.
// A flush that a write's size triggers runs after the write released its locks.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backend/cache/cached_column.h"
#include "streamstate/backend.h"
#include "streamstate/change_tracking.h"
#include "streamstate/write_back_cache.h"
#include "streamstate/write_batch.h"

namespace streamstate::internal {

class CacheCore {
 public:
  CacheCore(std::shared_ptr<StateBackend> inner, const WriteBackCacheOptions& options);

  StateBackend& inner() { return *inner_; }

  // The cached column `name`, opened in the inner backend (with `options` when given) first.
  Result<std::shared_ptr<CachedColumn>> open_column(std::string_view name, const ColumnOptions* options);
  Result<std::vector<std::string>> list_columns();
  Status drop_column(std::string_view name);

  // Column operations. `value` null: contains().
  Result<bool> get(CachedColumn& column, BytesView key, std::string* value);
  Status put(CachedColumn& column, BytesView key, BytesView value);
  Status remove(CachedColumn& column, BytesView key);
  Status update(CachedColumn& column, BytesView key, const UpdateFunction& fn);
  Status scan(CachedColumn& column, BytesView prefix, const ScanVisitor& visitor);
  Status clear(CachedColumn& column);

  Status write(const WriteBatch& batch);
  Status put_entries(std::string_view column, std::span<const std::pair<BytesView, BytesView>> entries);

  // Flushes, then takes the inner backend's snapshot, with every writer held off meanwhile.
  Result<std::unique_ptr<BackendSnapshot>> snapshot();
  // Flushes, then calls the inner tracker's snapshot_with_changes, the same way.
  Result<TrackedSnapshot> snapshot_with_changes(ChangeTracker& inner_tracker);
  // Writes the dirty entries to the inner backend (not flushing the inner backend itself).
  Status flush_dirty();
  Status close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  BackendStatistics statistics() const;
  WriteBackCacheStatistics cache_statistics() const;

 private:
  // With every_ held (either way): kClosed, or NotFound for a dropped column.
  Status usable(const CachedColumn& column) const;
  Status closed_error() const;
  // With every_ held exclusively.
  Status flush_locked(bool automatic);
  // After a write released its locks: flushes when the dirty bytes reached max_bytes.
  Status flush_if_full();
  // With the shard held: the dirty entry of `key` (created when missing) and its bytes before.
  std::pair<CachedValue*, uint64_t> dirty_entry(CacheShard& shard, BytesView key);
  // With the shard held, after changing `entry` (from dirty_entry): the byte counts, and the
  // clean entry of `key` forgotten.
  void finish_dirty(CacheShard& shard, BytesView key, const CachedValue& entry, uint64_t old_bytes);
  void set_dirty(CacheShard& shard, BytesView key, bool present, BytesView value);
  // With the shard held: remembers what the inner backend holds for `key`, within the shard's share.
  void remember_clean(CacheShard& shard, BytesView key, bool present, BytesView value);
  // With the shard held: reads `key` from the cache or, on a miss, from the inner backend.
  // Returns whether it is present; its value is in *cached or `read`.
  Result<bool> lookup(CachedColumn& column, CacheShard& shard, BytesView key, const CachedValue*& cached,
                      std::string& read);
  void forget_shard(CacheShard& shard);
  void forget_key(CacheShard& shard, BytesView key);
  uint64_t clean_share() const;
  // The registered column `name`, registering it when the inner backend has it; null when
  // neither has it. With every_ held.
  Result<CachedColumn*> find_column(std::string_view name, bool& listed, std::vector<std::string>& inner_columns);

  const std::shared_ptr<StateBackend> inner_;
  const WriteBackCacheOptions options_;
  const uint32_t shard_count_;

  mutable std::shared_mutex every_;
  std::atomic<bool> closed_{false};
  // Guards columns_: taken to change it (with every_ held too) and to read it without every_
  // held exclusively.
  mutable std::mutex columns_mutex_;
  std::map<std::string, std::shared_ptr<CachedColumn>, std::less<>> columns_;
  std::atomic<uint64_t> column_count_{0};
  std::atomic<uint64_t> dirty_bytes_{0};

  std::atomic<uint64_t> scans_{0}, batches_{0}, bulk_puts_{0};
  std::atomic<uint64_t> flushes_{0}, automatic_flushes_{0}, flushed_entries_{0}, bytes_flushed_{0};
  // Counters of dropped columns' shards, kept so that statistics never go backwards.
  std::atomic<uint64_t> dropped_gets_{0}, dropped_hits_{0}, dropped_misses_{0}, dropped_puts_{0},
      dropped_removes_{0}, dropped_cache_hits_{0}, dropped_cache_misses_{0}, dropped_absorbed_{0};
};

}  // namespace streamstate::internal
