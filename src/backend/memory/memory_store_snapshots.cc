// MemoryStore's support of snapshots and change tracking: registering a snapshot's log,
// recording pre-images and changed keys as writers change entries, and reading a shard or
// keys as a snapshot saw them. See memory_store.h and snapshot_log.h.
#include "backend/memory/memory_store.h"

#include <algorithm>
#include <utility>

namespace streamstate::internal {

void MemoryStore::record_change_slow(Shard& shard, const ColumnState& column, BytesView key, const Entry* entry) {
  for (SnapshotLog* log : shard.snapshots) {
    if (log->record(shard.index, &column, key, entry)) copied_for_snapshots_.fetch_add(1, std::memory_order_relaxed);
  }
  // The epoch changes only while every shard is locked (capture), so under this shard's lock
  // it is the epoch of this change.
  if (options_.track_changes) shard.changes.record(column.name, key, change_epoch_.load(std::memory_order_relaxed));
}

Status MemoryStore::capture(SnapshotLog& log, int64_t& time, uint64_t* epoch) {
  time = now();
  std::vector<std::unique_lock<Shard>> locks;
  locks.reserve(options_.shard_count);
  for (uint32_t i = 0; i < options_.shard_count; ++i) locks.emplace_back(shards_[i]);
  if (closed_.load(std::memory_order_relaxed)) return closed_status();
  for (uint32_t i = 0; i < options_.shard_count; ++i) shards_[i].snapshots.push_back(&log);
  if (epoch != nullptr) *epoch = change_epoch_.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

Status MemoryStore::collect_changes(std::map<std::string, std::vector<std::string>, std::less<>>& out) {
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    std::lock_guard<Shard> lock(shards_[i]);
    if (closed_.load(std::memory_order_relaxed)) return closed_status();
    shards_[i].changes.collect(out);
  }
  return Status::ok();
}

void MemoryStore::forget_changes_through(uint64_t epoch) {
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    std::lock_guard<Shard> lock(shards_[i]);
    shards_[i].changes.forget_through(epoch);
  }
}

void MemoryStore::forget_all_changes() {
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    std::lock_guard<Shard> lock(shards_[i]);
    shards_[i].changes.clear();
  }
}

uint64_t MemoryStore::tracked_keys() const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    std::lock_guard<Shard> lock(shards_[i]);
    total += shards_[i].changes.size();
  }
  return total;
}

void MemoryStore::release(SnapshotLog& log) {
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    std::lock_guard<Shard> lock(shards_[i]);
    std::vector<SnapshotLog*>& logs = shards_[i].snapshots;
    logs.erase(std::remove(logs.begin(), logs.end(), &log), logs.end());
  }
  // The next snapshot sizes its maps for what this one needed (at most 1 Mi per shard).
  SnapshotLog::ReserveHints hints = log.peak_images();
  for (auto& [column, peak] : hints) peak = std::min<size_t>(peak, size_t{1} << 20);
  std::lock_guard<std::mutex> lock(snapshot_hints_mutex_);
  snapshot_hints_ = std::move(hints);
}

Status MemoryStore::read_snapshot_shard(uint32_t index, const ColumnState& column, SnapshotLog& log,
                                        BytesView prefix, int64_t taken_at, SnapshotShardCopy& out, bool release) {
  // Writers wait while the shard is locked, so under the lock the table's slots are only walked
  // in order: keys and short values copied, long values noted by where their heap buffers are
  // (following each pointer is a cache miss). The shard keeps every such buffer alive until
  // this copy is done (value_readers), and the values are copied in with no lock held.
  out.clear();
  // The pre-images this copy shows: those of keys under `prefix` visible at the snapshot.
  auto for_each_visible_image = [&](const SnapshotLog::KeyImages& images, auto&& add) {
    for (const ImageSlot& slot : images) {
      const BytesView key(slot.key.data(), slot.key.size());
      if (key.starts_with(prefix) && slot.image.visible_at(taken_at)) add(key, slot.image.value);
    }
  };
  SnapshotLog::KeyImages released;  // with `release`: the pre-images, now this copy's own
  Shard& shard = shards_[index];
  bool points_into_shard = false;
  {
    std::lock_guard<Shard> lock(shard);
    // After close the tables are gone (the logs did not record their release).
    if (closed_.load(std::memory_order_relaxed)) return closed_status();
    // Without `release` the log keeps recording while the lock is not held, so the entries
    // changed since the snapshot are left out here; with it, after the lock is released.
    const SnapshotLog::KeyImages* images = nullptr;
    if (release) {
      released = log.release(index, &column);
    } else {
      images = log.images(index, &column);
      if (images != nullptr && images->empty()) images = nullptr;
    }
    for (const TableNode& node : column.tables[index]->entries()) {
      const BytesView key = node.key.view();
      if (!key.starts_with(prefix)) continue;
      if (images != nullptr && images->contains(SnapshotLog::lookup_key(key))) continue;  // changed since: its pre-image counts
      if (is_expired(node.entry, taken_at)) continue;
      if (node.entry.value.on_heap()) {
        out.add_deferred(key, node.entry.value.view());
      } else {
        out.add(key, node.entry.value.view());
      }
    }
    // Their bytes live in the log's arena, which stays put.
    if (images != nullptr) for_each_visible_image(*images, [&](BytesView k, BytesView v) { out.add_deferred(k, v); });
    if (out.deferred() != 0) {
      ++shard.value_readers;
      points_into_shard = true;
    }
  }
  // Ends this copy's hold on the shard's buffers, also if copying throws; the last one out
  // frees what writers replaced or removed meanwhile, outside the lock.
  struct ValueReaderRelease {
    Shard& shard;
    bool active;
    ~ValueReaderRelease() {
      if (!active) return;
      MemoryTable::KeptBuffers buffers;
      std::vector<std::shared_ptr<MemoryTable>> tables;
      {
        std::lock_guard<Shard> lock(shard);
        if (--shard.value_readers == 0) {
          buffers.swap(shard.kept_buffers);
          tables.swap(shard.kept_tables);
        }
      }
    }
  } release_values{shard, points_into_shard};

  if (released.empty()) {
    if (out.deferred() != 0) out.resolve([](BytesView) { return false; });
    return Status::ok();
  }
  out.resolve([&](BytesView key) { return released.contains(SnapshotLog::lookup_key(key)); });
  for_each_visible_image(released, [&](BytesView key, BytesView value) { out.add(key, value); });
  return Status::ok();
}

Result<bool> MemoryStore::read_snapshot_key(const ColumnState& column, const SnapshotLog& log, BytesView key,
                                            int64_t taken_at, std::string* value) {
  const KeyRef ref{key, memory_key_hash(key)};
  Shard& shard = shards_[shard_index(ref.hash)];
  std::lock_guard<Shard> lock(shard);
  if (closed_.load(std::memory_order_relaxed)) return closed_status();
  if (const SnapshotLog::KeyImages* images = log.images(shard.index, &column)) {
    const auto found = images->find(SnapshotLog::lookup_key(key));
    if (found != images->end()) {  // changed since: its pre-image counts
      const PreImage& image = found->image;
      if (!image.visible_at(taken_at)) return false;
      if (value != nullptr) value->assign(image.value.data(), image.value.size());
      return true;
    }
  }
  const TableNode* node = std::as_const(*column.tables[shard.index]).find(ref);
  if (node == nullptr || is_expired(node->entry, taken_at)) return false;
  if (value != nullptr) value->assign(node->entry.value.view().data(), node->entry.value.view().size());
  return true;
}

Status MemoryStore::read_snapshot_keys(const ColumnState& column, const SnapshotLog& log,
                                       std::span<const std::string> keys, int64_t taken_at,
                                       const std::function<void(size_t, BytesView)>& found) {
  const KeysByShard by_shard = sort_by_shard(keys.size(), [&](size_t i) { return BytesView(keys[i]); });
  const std::vector<uint64_t>& hashes = by_shard.hashes;
  const std::vector<uint32_t>& starts = by_shard.starts;
  const std::vector<uint32_t>& order = by_shard.order;
  constexpr uint32_t kAhead = 8;  // lookups prefetched ahead of the one being made
  for (uint32_t s = 0; s < options_.shard_count; ++s) {
    if (starts[s] == starts[s + 1]) continue;
    Shard& shard = shards_[s];
    std::lock_guard<Shard> lock(shard);
    if (closed_.load(std::memory_order_relaxed)) return closed_status();
    const MemoryTable& table = *column.tables[s];
    const SnapshotLog::KeyImages* images = log.images(s, &column);
    for (uint32_t at = starts[s]; at < starts[s] + kAhead && at < starts[s + 1]; ++at) {
      table.prefetch(KeyRef{keys[order[at]], hashes[order[at]]});
    }
    for (uint32_t at = starts[s]; at < starts[s + 1]; ++at) {
      if (at + kAhead < starts[s + 1]) {
        const uint32_t ahead = order[at + kAhead];
        table.prefetch(KeyRef{keys[ahead], hashes[ahead]});
      }
      const uint32_t i = order[at];
      const KeyRef ref{keys[i], hashes[i]};
      if (images != nullptr) {
        const auto image = images->find(SnapshotLog::lookup_key(ref.bytes));
        if (image != images->end()) {  // changed since: its pre-image counts
          if (image->image.visible_at(taken_at)) found(i, image->image.value);
          continue;
        }
      }
      const TableNode* node = table.find(ref);
      if (node != nullptr && !is_expired(node->entry, taken_at)) found(i, node->entry.value.view());
    }
  }
  return Status::ok();
}

}  // namespace streamstate::internal
