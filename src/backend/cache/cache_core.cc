// CacheCore: the key operations (reads, writes, batches) and the bookkeeping of dirty and clean
// entries. Flushes, snapshots and the other whole-cache operations are in cache_flush.cc.
#include "backend/cache/cache_core.h"

#include <algorithm>
#include <bit>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/status_macros.h"

namespace streamstate::internal {

namespace {

// The cached entry of `key` (dirty first), or null.
const CachedValue* find_cached(CacheShard& shard, BytesView key) {
  if (auto it = shard.dirty.find(key); it != shard.dirty.end()) return &it->second;
  if (auto it = shard.clean.find(key); it != shard.clean.end()) return &it->second;
  return nullptr;
}

}  // namespace

CacheCore::CacheCore(std::shared_ptr<StateBackend> inner, const WriteBackCacheOptions& options)
    : inner_(std::move(inner)), options_(options), shard_count_(std::bit_ceil(options.shards)) {}

Status CacheCore::closed_error() const {
  return Status::closed("the write-back cache over the " + std::string(inner_->kind()) + " backend is closed");
}

Status CacheCore::usable(const CachedColumn& column) const {
  if (closed()) return closed_error();
  if (column.dropped) {
    return Status::not_found("column '" + column.name + "' was dropped; open it again with column()");
  }
  return Status::ok();
}

uint64_t CacheCore::clean_share() const {
  const uint64_t shards = std::max<uint64_t>(1, column_count_.load(std::memory_order_relaxed)) * shard_count_;
  return options_.max_clean_bytes / shards;
}

std::pair<CachedValue*, uint64_t> CacheCore::dirty_entry(CacheShard& shard, BytesView key) {
  auto it = shard.dirty.find(key);
  if (it != shard.dirty.end()) {
    shard.absorbed.add();
    return {&it->second, cached_bytes(key, it->second)};
  }
  it = shard.dirty.emplace(std::string(key), CachedValue{}).first;
  shard.dirty_entries_now.add();
  return {&it->second, 0};
}

void CacheCore::finish_dirty(CacheShard& shard, BytesView key, const CachedValue& entry, uint64_t old_bytes) {
  const uint64_t new_bytes = cached_bytes(key, entry);
  shard.dirty_bytes = shard.dirty_bytes + new_bytes - old_bytes;
  shard.dirty_bytes_now.count.store(shard.dirty_bytes, std::memory_order_relaxed);
  if (new_bytes >= old_bytes) {
    dirty_bytes_.fetch_add(new_bytes - old_bytes, std::memory_order_relaxed);
  } else {
    dirty_bytes_.fetch_sub(old_bytes - new_bytes, std::memory_order_relaxed);
  }
  forget_key(shard, key);
}

void CacheCore::set_dirty(CacheShard& shard, BytesView key, bool present, BytesView value) {
  auto [entry, old_bytes] = dirty_entry(shard, key);
  entry->present = present;
  entry->value.assign(present ? value : BytesView());
  finish_dirty(shard, key, *entry, old_bytes);
}

void CacheCore::forget_key(CacheShard& shard, BytesView key) {
  auto it = shard.clean.find(key);
  if (it == shard.clean.end()) return;
  shard.clean_bytes -= cached_bytes(key, it->second);
  shard.clean.erase(it);
  shard.clean_entries_now.count.store(shard.clean.size(), std::memory_order_relaxed);
  shard.clean_bytes_now.count.store(shard.clean_bytes, std::memory_order_relaxed);
}

void CacheCore::forget_shard(CacheShard& shard) {
  shard.clean.clear();
  shard.clean_bytes = 0;
  shard.clean_entries_now.count.store(0, std::memory_order_relaxed);
  shard.clean_bytes_now.count.store(0, std::memory_order_relaxed);
}

void CacheCore::remember_clean(CacheShard& shard, BytesView key, bool present, BytesView value) {
  if (options_.max_clean_bytes == 0) return;
  const uint64_t bytes = key.size() + (present ? value.size() : 0) + kCachedEntryOverhead;
  const uint64_t share = clean_share();
  if (bytes > share) return;
  // Over its share, a shard forgets all its clean entries at once: O(1) per read on average,
  // and the hot keys come back with their next read.
  if (shard.clean_bytes + bytes > share) forget_shard(shard);
  shard.clean.insert_or_assign(std::string(key), CachedValue{present ? std::string(value) : std::string(), present});
  shard.clean_bytes += bytes;
  shard.clean_entries_now.count.store(shard.clean.size(), std::memory_order_relaxed);
  shard.clean_bytes_now.count.store(shard.clean_bytes, std::memory_order_relaxed);
}

Result<bool> CacheCore::lookup(CachedColumn& column, CacheShard& shard, BytesView key, const CachedValue*& cached,
                               std::string& read) {
  cached = find_cached(shard, key);
  if (cached != nullptr) {
    shard.cache_hits.add();
    return cached->present;
  }
  shard.cache_misses.add();
  Result<bool> found = column.inner->get_into(key, read);
  if (!found.is_ok()) return found.status();
  remember_clean(shard, key, *found, read);
  return found;
}

Result<bool> CacheCore::get(CachedColumn& column, BytesView key, std::string* value) {
  std::shared_lock<std::shared_mutex> every(every_);
  STREAMSTATE_RETURN_IF_ERROR(usable(column));
  CacheShard& shard = column.shard_for(key);
  std::lock_guard<std::mutex> lock(shard.mutex);
  shard.gets.add();
  const CachedValue* cached = nullptr;
  std::string read;
  Result<bool> found = lookup(column, shard, key, cached, read);
  if (!found.is_ok()) return found.status();
  (*found ? shard.hits : shard.misses).add();
  if (*found && value != nullptr) {
    if (cached != nullptr) {
      value->assign(cached->value);
    } else {
      *value = std::move(read);
    }
  }
  return found;
}

Status CacheCore::put(CachedColumn& column, BytesView key, BytesView value) {
  {
    std::shared_lock<std::shared_mutex> every(every_);
    STREAMSTATE_RETURN_IF_ERROR(usable(column));
    CacheShard& shard = column.shard_for(key);
    std::lock_guard<std::mutex> lock(shard.mutex);
    shard.puts.add();
    set_dirty(shard, key, true, value);
  }
  return flush_if_full();
}

Status CacheCore::remove(CachedColumn& column, BytesView key) {
  {
    std::shared_lock<std::shared_mutex> every(every_);
    STREAMSTATE_RETURN_IF_ERROR(usable(column));
    CacheShard& shard = column.shard_for(key);
    std::lock_guard<std::mutex> lock(shard.mutex);
    shard.removes.add();
    set_dirty(shard, key, false, {});
  }
  return flush_if_full();
}

Status CacheCore::update(CachedColumn& column, BytesView key, const UpdateFunction& fn) {
  {
    std::shared_lock<std::shared_mutex> every(every_);
    STREAMSTATE_RETURN_IF_ERROR(usable(column));
    CacheShard& shard = column.shard_for(key);
    std::lock_guard<std::mutex> lock(shard.mutex);
    const CachedValue* cached = nullptr;
    std::string read;
    Result<bool> found = lookup(column, shard, key, cached, read);
    if (!found.is_ok()) return found.status();
    std::optional<BytesView> current;
    if (*found) current = cached != nullptr ? BytesView(cached->value) : BytesView(read);
    std::optional<std::string> next = fn(current);
    if (next.has_value()) {
      shard.puts.add();
      auto [entry, old_bytes] = dirty_entry(shard, key);  // may be the entry `current` viewed: done with it
      entry->present = true;
      entry->value = std::move(*next);
      finish_dirty(shard, key, *entry, old_bytes);
    } else if (*found) {
      shard.removes.add();
      set_dirty(shard, key, false, {});
    }
  }
  return flush_if_full();
}

Result<CachedColumn*> CacheCore::find_column(std::string_view name, bool& listed,
                                             std::vector<std::string>& inner_columns) {
  {
    std::lock_guard<std::mutex> lock(columns_mutex_);
    auto it = columns_.find(name);
    if (it != columns_.end()) return it->second.get();
  }
  // Opened in the inner backend (an earlier session) but not through this cache yet.
  if (!listed) {
    STREAMSTATE_ASSIGN_OR_RETURN(inner_columns, inner_->list_columns());
    listed = true;
  }
  if (!std::binary_search(inner_columns.begin(), inner_columns.end(), name)) return nullptr;
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> opened, inner_->column(name));
  std::lock_guard<std::mutex> lock(columns_mutex_);
  auto [it, inserted] =
      columns_.try_emplace(std::string(name), std::make_shared<CachedColumn>(std::string(name), opened, shard_count_));
  if (inserted) column_count_.fetch_add(1, std::memory_order_relaxed);
  return it->second.get();
}

Status CacheCore::write(const WriteBatch& batch) {
  {
    std::shared_lock<std::shared_mutex> every(every_);
    if (closed()) return closed_error();
    // Every column first: a batch naming an unknown column changes nothing.
    std::vector<CachedColumn*> targets;
    targets.reserve(batch.size());
    std::map<std::string_view, CachedColumn*> resolved;
    bool listed = false;
    std::vector<std::string> inner_columns;
    for (const WriteBatch::Operation& operation : batch.operations()) {
      auto it = resolved.find(operation.column);
      if (it == resolved.end()) {
        STREAMSTATE_ASSIGN_OR_RETURN(CachedColumn * column, find_column(operation.column, listed, inner_columns));
        if (column == nullptr) {
          return Status::not_found("write batch: column '" + operation.column +
                                   "' does not exist; open it with column() before writing to it (nothing of the "
                                   "batch was applied)");
        }
        it = resolved.emplace(operation.column, column).first;
      }
      targets.push_back(it->second);
    }
    // The shards of its keys, locked in one global order.
    std::vector<std::pair<CachedColumn*, uint32_t>> shards;
    shards.reserve(batch.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      shards.emplace_back(targets[i], targets[i]->shard_index(batch.operations()[i].key));
    }
    std::sort(shards.begin(), shards.end(), [](const auto& a, const auto& b) {
      return std::less<CachedColumn*>()(a.first, b.first) || (a.first == b.first && a.second < b.second);
    });
    shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(shards.size());
    for (const auto& [column, index] : shards) locks.emplace_back(column->shards[index].mutex);
    batches_.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i < targets.size(); ++i) {
      const WriteBatch::Operation& operation = batch.operations()[i];
      CacheShard& shard = targets[i]->shard_for(operation.key);
      const bool put = operation.type == WriteBatch::OperationType::kPut;
      (put ? shard.puts : shard.removes).add();
      set_dirty(shard, operation.key, put, operation.value);
    }
  }
  return flush_if_full();
}

BackendStatistics CacheCore::statistics() const {
  BackendStatistics stats;
  if (!closed()) {
    const BackendStatistics below = inner_->statistics();
    stats.evictions = below.evictions;
    stats.expirations = below.expirations;
    stats.live_entries = below.live_entries;
    stats.bytes_in_use = below.bytes_in_use;
  }
  stats.gets = dropped_gets_.load();
  stats.hits = dropped_hits_.load();
  stats.misses = dropped_misses_.load();
  stats.puts = dropped_puts_.load() + bulk_puts_.load();
  stats.removes = dropped_removes_.load();
  stats.scans = scans_.load();
  stats.batches = batches_.load();
  std::lock_guard<std::mutex> lock(columns_mutex_);
  for (const auto& [name, column] : columns_) {
    for (uint32_t i = 0; i < column->shard_count(); ++i) {
      const CacheShard& shard = column->shards[i];
      stats.gets += shard.gets.get();
      stats.hits += shard.hits.get();
      stats.misses += shard.misses.get();
      stats.puts += shard.puts.get();
      stats.removes += shard.removes.get();
    }
  }
  return stats;
}

WriteBackCacheStatistics CacheCore::cache_statistics() const {
  WriteBackCacheStatistics stats;
  stats.hits = dropped_cache_hits_.load();
  stats.misses = dropped_cache_misses_.load();
  stats.absorbed_writes = dropped_absorbed_.load();
  stats.flushes = flushes_.load();
  stats.automatic_flushes = automatic_flushes_.load();
  stats.flushed_entries = flushed_entries_.load();
  stats.bytes_flushed = bytes_flushed_.load();
  std::lock_guard<std::mutex> lock(columns_mutex_);
  for (const auto& [name, column] : columns_) {
    for (uint32_t i = 0; i < column->shard_count(); ++i) {
      const CacheShard& shard = column->shards[i];
      stats.hits += shard.cache_hits.get();
      stats.misses += shard.cache_misses.get();
      stats.absorbed_writes += shard.absorbed.get();
      stats.dirty_entries += shard.dirty_entries_now.get();
      stats.dirty_bytes += shard.dirty_bytes_now.get();
      stats.clean_entries += shard.clean_entries_now.get();
      stats.clean_bytes += shard.clean_bytes_now.get();
    }
  }
  return stats;
}

}  // namespace streamstate::internal
