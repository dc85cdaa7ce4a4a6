// SnapshotLog: what a memory-backend snapshot keeps of the data - only the entries writers
// changed after it was taken, each as it was at that moment (its "pre-image": the value and
// expiry, or absent). A snapshot reads a shard as the live table with these pre-images laid
// over it, which is exactly the table at the snapshot's moment: every key changed since has
// its first pre-image here, every other key is unchanged in the live table.
//
// So a snapshot costs writers one entry copy for the first change of each key while it lives
// (and nothing for later changes of the same key), and memory grows by the entries written,
// never by a shard or by the state (the entry-level copy-on-write of docs/backends/memory.md).
//
// Thread-safety: the part of shard i is used under shard i's mutex only (MemoryStore records
// under it, snapshot iterators read under it); recorded_entries() may be read from any thread.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/strings/string_view.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "backend/memory/memory_table.h"
#include "streamstate/bytes.h"

namespace streamstate::internal {

struct ColumnState;

// An entry as a snapshot saw it; present = false when the key did not exist.
struct PreImage {
  bool present = false;
  std::string value;
  int64_t expires_at = kNeverExpires;
};

class SnapshotLog {
 public:
  // Pre-images of one column in one shard, by key.
  using KeyImages = absl::flat_hash_map<std::string, PreImage>;

  explicit SnapshotLog(uint32_t shard_count) : shards_(std::make_unique<ShardImages[]>(shard_count)) {}
  SnapshotLog(const SnapshotLog&) = delete;
  SnapshotLog& operator=(const SnapshotLog&) = delete;

  // Under shard's lock, before a change of `key`: keeps `entry` (null when the key is absent)
  // unless the key was recorded already. Returns true when it recorded.
  bool record(uint32_t shard, const ColumnState* column, BytesView key, const Entry* entry) {
    if (!shards_[shard].released.empty() && shards_[shard].released.contains(column)) return false;
    KeyImages& images = shards_[shard].columns[column];
    if (images.contains(lookup_key(key))) return false;
    PreImage& image = images[std::string(key)];
    if (entry != nullptr) {
      image.present = true;
      image.value.assign(entry->value.view().data(), entry->value.size());
      image.expires_at = entry->expires_at;
    }
    recorded_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // A key as the maps look it up (Abseil's string_view need not be std::string_view).
  static absl::string_view lookup_key(BytesView key) { return absl::string_view(key.data(), key.size()); }

  // Under shard's lock: the column's pre-images in the shard, or null when none.
  const KeyImages* images(uint32_t shard, const ColumnState* column) const {
    const auto& columns = shards_[shard].columns;
    const auto it = columns.find(column);
    return it == columns.end() ? nullptr : &it->second;
  }

  // Under shard's lock: the snapshot will not read the column's part of this shard again (its
  // single pass moved on, MemorySnapshot::iterate_once): later changes are no longer recorded,
  // and its pre-images are handed back (for the caller to free once it released the lock).
  KeyImages release(uint32_t shard, const ColumnState* column) {
    shards_[shard].released.insert(column);
    KeyImages images;
    auto found = shards_[shard].columns.find(column);
    if (found != shards_[shard].columns.end()) {
      images = std::move(found->second);
      shards_[shard].columns.erase(found);
    }
    return images;
  }

  // How many pre-images were recorded in all.
  uint64_t recorded_entries() const { return recorded_.load(std::memory_order_relaxed); }

 private:
  struct ShardImages {
    absl::flat_hash_map<const ColumnState*, KeyImages> columns;
    absl::flat_hash_set<const ColumnState*> released;
  };
  std::unique_ptr<ShardImages[]> shards_;
  std::atomic<uint64_t> recorded_{0};
};

}  // namespace streamstate::internal
