// CacheCore: what needs the whole cache at once - flushes, snapshots, scans, clear, columns,
// bulk puts and close - each with every_ held exclusively while it touches cached entries.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backend/cache/cache_core.h"
#include "util/status_macros.h"

namespace streamstate::internal {

namespace {

bool has_dirty(const CachedColumn& column) {
  for (uint32_t i = 0; i < column.shard_count(); ++i) {
    if (column.shards[i].dirty_entries_now.get() != 0) return true;
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<CachedColumn>> CacheCore::open_column(std::string_view name, const ColumnOptions* options) {
  std::shared_lock<std::shared_mutex> every(every_);
  if (closed()) return closed_error();
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> opened,
                               options != nullptr ? inner_->column_with_options(name, *options) : inner_->column(name));
  std::lock_guard<std::mutex> lock(columns_mutex_);
  auto [it, inserted] =
      columns_.try_emplace(std::string(name), std::make_shared<CachedColumn>(std::string(name), opened, shard_count_));
  if (inserted) column_count_.fetch_add(1, std::memory_order_relaxed);
  return it->second;
}

Result<std::vector<std::string>> CacheCore::list_columns() {
  {
    std::shared_lock<std::shared_mutex> every(every_);
    if (closed()) return closed_error();
  }
  return inner_->list_columns();
}

Status CacheCore::drop_column(std::string_view name) {
  std::unique_lock<std::shared_mutex> every(every_);
  if (closed()) return closed_error();
  STREAMSTATE_RETURN_IF_ERROR(inner_->drop_column(name));
  std::lock_guard<std::mutex> lock(columns_mutex_);
  auto it = columns_.find(name);
  if (it == columns_.end()) return Status::ok();
  CachedColumn& column = *it->second;
  for (uint32_t i = 0; i < column.shard_count(); ++i) {
    CacheShard& shard = column.shards[i];
    dirty_bytes_.fetch_sub(shard.dirty_bytes, std::memory_order_relaxed);
    dropped_gets_ += shard.gets.get();
    dropped_hits_ += shard.hits.get();
    dropped_misses_ += shard.misses.get();
    dropped_puts_ += shard.puts.get();
    dropped_removes_ += shard.removes.get();
    dropped_cache_hits_ += shard.cache_hits.get();
    dropped_cache_misses_ += shard.cache_misses.get();
    dropped_absorbed_ += shard.absorbed.get();
  }
  column.dropped = true;
  columns_.erase(it);
  column_count_.fetch_sub(1, std::memory_order_relaxed);
  return Status::ok();
}

Status CacheCore::scan(CachedColumn& column, BytesView prefix, const ScanVisitor& visitor) {
  bool flush = false;
  {
    std::shared_lock<std::shared_mutex> every(every_);
    STREAMSTATE_RETURN_IF_ERROR(usable(column));
    flush = has_dirty(column);
  }
  if (flush) {
    // Writes acknowledged before the scan began reach the inner backend before it is scanned;
    // later ones may or may not be seen, as a scan promises.
    std::unique_lock<std::shared_mutex> every(every_);
    STREAMSTATE_RETURN_IF_ERROR(usable(column));
    STREAMSTATE_RETURN_IF_ERROR(flush_locked(false));
  }
  scans_.fetch_add(1, std::memory_order_relaxed);
  return column.inner->scan(prefix, visitor);
}

Status CacheCore::clear(CachedColumn& column) {
  std::unique_lock<std::shared_mutex> every(every_);
  STREAMSTATE_RETURN_IF_ERROR(usable(column));
  STREAMSTATE_RETURN_IF_ERROR(column.inner->clear());
  for (uint32_t i = 0; i < column.shard_count(); ++i) {
    CacheShard& shard = column.shards[i];
    dirty_bytes_.fetch_sub(shard.dirty_bytes, std::memory_order_relaxed);
    shard.dirty.clear();
    shard.dirty_bytes = 0;
    shard.dirty_entries_now.count.store(0, std::memory_order_relaxed);
    shard.dirty_bytes_now.count.store(0, std::memory_order_relaxed);
    forget_shard(shard);
  }
  return Status::ok();
}

Status CacheCore::put_entries(std::string_view column_name,
                              std::span<const std::pair<BytesView, BytesView>> entries) {
  std::unique_lock<std::shared_mutex> every(every_);
  if (closed()) return closed_error();
  STREAMSTATE_RETURN_IF_ERROR(inner_->put_entries(column_name, entries));
  bulk_puts_.fetch_add(entries.size(), std::memory_order_relaxed);
  auto it = columns_.find(column_name);
  if (it == columns_.end()) return Status::ok();
  // The entries replace whatever the cache held for their keys.
  CachedColumn& column = *it->second;
  for (const auto& [key, value] : entries) {
    CacheShard& shard = column.shard_for(key);
    if (shard.dirty.empty() && shard.clean.empty()) continue;
    auto dirty = shard.dirty.find(key);
    if (dirty != shard.dirty.end()) {
      const uint64_t bytes = cached_bytes(key, dirty->second);
      shard.dirty_bytes -= bytes;
      dirty_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      shard.dirty.erase(dirty);
      shard.dirty_entries_now.count.store(shard.dirty.size(), std::memory_order_relaxed);
      shard.dirty_bytes_now.count.store(shard.dirty_bytes, std::memory_order_relaxed);
    }
    forget_key(shard, key);
  }
  return Status::ok();
}

Status CacheCore::flush_locked(bool automatic) {
  if (dirty_bytes_.load(std::memory_order_relaxed) == 0) return Status::ok();
  WriteBatch batch;
  for (const auto& [name, column] : columns_) {
    for (uint32_t i = 0; i < column->shard_count(); ++i) {
      for (const auto& [key, entry] : column->shards[i].dirty) {
        if (entry.present) {
          batch.put(name, key, entry.value);
        } else {
          batch.remove(name, key);
        }
      }
    }
  }
  if (Status status = inner_->write(batch); !status.is_ok()) {
    return status.with_context("write-back cache: flushing " + std::to_string(batch.size()) + " dirty entries (" +
                               std::to_string(batch.payload_bytes()) + " bytes) to the " +
                               std::string(inner_->kind()) +
                               " backend failed; they stay cached and the next flush tries again");
  }
  // Flushed entries become clean ones, while they fit in their shard's share.
  const uint64_t share = options_.max_clean_bytes == 0 ? 0 : clean_share();
  for (const auto& [name, column] : columns_) {
    for (uint32_t i = 0; i < column->shard_count(); ++i) {
      CacheShard& shard = column->shards[i];
      for (auto it = shard.dirty.begin(); it != shard.dirty.end();) {
        const uint64_t bytes = cached_bytes(it->first, it->second);
        auto node = shard.dirty.extract(it++);
        if (shard.clean_bytes + bytes > share) continue;
        shard.clean_bytes += bytes;
        shard.clean.insert(std::move(node));
      }
      shard.dirty.clear();
      shard.dirty_bytes = 0;
      shard.dirty_entries_now.count.store(0, std::memory_order_relaxed);
      shard.dirty_bytes_now.count.store(0, std::memory_order_relaxed);
      shard.clean_entries_now.count.store(shard.clean.size(), std::memory_order_relaxed);
      shard.clean_bytes_now.count.store(shard.clean_bytes, std::memory_order_relaxed);
    }
  }
  dirty_bytes_.store(0, std::memory_order_relaxed);
  flushes_.fetch_add(1, std::memory_order_relaxed);
  if (automatic) automatic_flushes_.fetch_add(1, std::memory_order_relaxed);
  flushed_entries_.fetch_add(batch.size(), std::memory_order_relaxed);
  bytes_flushed_.fetch_add(batch.payload_bytes(), std::memory_order_relaxed);
  return Status::ok();
}

Status CacheCore::flush_if_full() {
  if (dirty_bytes_.load(std::memory_order_relaxed) < options_.max_bytes) return Status::ok();
  std::unique_lock<std::shared_mutex> every(every_);
  if (closed() || dirty_bytes_.load(std::memory_order_relaxed) < options_.max_bytes) return Status::ok();
  return flush_locked(true);
}

Status CacheCore::flush_dirty() {
  std::unique_lock<std::shared_mutex> every(every_);
  if (closed()) return closed_error();
  return flush_locked(false);
}

Result<std::unique_ptr<BackendSnapshot>> CacheCore::snapshot() {
  std::unique_lock<std::shared_mutex> every(every_);
  if (closed()) return closed_error();
  STREAMSTATE_RETURN_IF_ERROR(flush_locked(false));
  return inner_->snapshot();
}

Result<TrackedSnapshot> CacheCore::snapshot_with_changes(ChangeTracker& inner_tracker) {
  std::unique_lock<std::shared_mutex> every(every_);
  if (closed()) return closed_error();
  STREAMSTATE_RETURN_IF_ERROR(flush_locked(false));
  return inner_tracker.snapshot_with_changes();
}

Status CacheCore::close() {
  std::unique_lock<std::shared_mutex> every(every_);
  if (closed()) return Status::ok();
  STREAMSTATE_RETURN_IF_ERROR(flush_locked(false).with_context("closing the write-back cache (still open)"));
  closed_.store(true, std::memory_order_release);
  for (const auto& [name, column] : columns_) {
    for (uint32_t i = 0; i < column->shard_count(); ++i) forget_shard(column->shards[i]);
  }
  return inner_->close();
}

}  // namespace streamstate::internal
