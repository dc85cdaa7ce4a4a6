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
#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>

#include <atomic>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend/memory/byte_arena.h"
#include "backend/memory/memory_table.h"
#include "streamstate/bytes.h"

namespace streamstate::internal {

struct ColumnState;

// An entry as a snapshot saw it; present = false when the key did not exist. The value's
// bytes live in the log's arena.
struct PreImage {
  // Whether a snapshot taken at `taken_at` shows the entry: present and not expired by then.
  bool visible_at(int64_t taken_at) const { return present && expires_at > taken_at; }

  bool present = false;
  BytesView value;
  int64_t expires_at = kNeverExpires;
};

// One recorded key and its pre-image. The key is looked up by its bytes; once recorded it
// points into the log's arena (mutable so that the slot found by one probe can be filled in:
// the bytes, hence hash and equality, do not change).
struct ImageSlot {
  mutable absl::string_view key;
  mutable PreImage image;
};
struct ImageSlotHash {
  using is_transparent = void;
  size_t operator()(absl::string_view key) const { return absl::Hash<absl::string_view>{}(key); }
  size_t operator()(const ImageSlot& slot) const { return (*this)(slot.key); }
};
struct ImageSlotEq {
  using is_transparent = void;
  static absl::string_view key_of(absl::string_view key) { return key; }
  static absl::string_view key_of(const ImageSlot& slot) { return slot.key; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return key_of(a) == key_of(b);
  }
};

class SnapshotLog {
 public:
  // Pre-images of one column in one shard, by key (the key bytes in the shard's arena).
  using KeyImages = absl::flat_hash_set<ImageSlot, ImageSlotHash, ImageSlotEq>;

  // Per column, the pre-images one shard is expected to collect (the previous snapshot's
  // peak): each shard's map of that column is sized for it at its first record, so writers do
  // not pay for the map growing step by step. Columns not in it grow as needed.
  using ReserveHints = absl::flat_hash_map<const ColumnState*, size_t>;

  explicit SnapshotLog(uint32_t shard_count, ReserveHints reserve_hints = {})
      : shards_(std::make_unique<ShardImages[]>(shard_count)), shard_count_(shard_count),
        reserve_hints_(std::move(reserve_hints)) {}
  SnapshotLog(const SnapshotLog&) = delete;
  SnapshotLog& operator=(const SnapshotLog&) = delete;

  // Under shard's lock, before a change of `key`: keeps `entry` (null when the key is absent)
  // unless the key was recorded already. Returns true when it recorded.
  bool record(uint32_t shard, const ColumnState* column, BytesView key, const Entry* entry) {
    if (!shards_[shard].released.empty() && shards_[shard].released.contains(column)) return false;
    ShardImages& part = shards_[shard];
    KeyImages& images = part.columns[column];
    if (images.empty() && !reserve_hints_.empty()) {
      const auto hint = reserve_hints_.find(column);
      if (hint != reserve_hints_.end()) images.reserve(hint->second);
    }
    const auto [slot, inserted] = images.insert(ImageSlot{lookup_key(key), PreImage{}});
    if (!inserted) return false;
    slot->key = lookup_key(part.arena.copy(key));
    if (entry != nullptr) {
      slot->image.present = true;
      slot->image.value = part.arena.copy(entry->value.view());
      slot->image.expires_at = entry->expires_at;
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
      shards_[shard].released_sizes[column] = images.size();
    }
    return images;
  }

  // Per column, the most pre-images one shard held: hints for the next log. Read after the
  // log was unregistered.
  ReserveHints peak_images() const {
    ReserveHints peaks;
    for (uint32_t i = 0; i < shard_count_; ++i) {
      for (const auto& [column, images] : shards_[i].columns) peaks[column] = std::max(peaks[column], images.size());
      for (const auto& [column, size] : shards_[i].released_sizes) peaks[column] = std::max(peaks[column], size);
    }
    return peaks;
  }

  // How many pre-images were recorded in all.
  uint64_t recorded_entries() const { return recorded_.load(std::memory_order_relaxed); }

 private:
  struct ShardImages {
    absl::flat_hash_map<const ColumnState*, KeyImages> columns;
    absl::flat_hash_set<const ColumnState*> released;
    ByteArena arena;
    absl::flat_hash_map<const ColumnState*, size_t> released_sizes;  // pre-images a release handed back
  };
  std::unique_ptr<ShardImages[]> shards_;
  const uint32_t shard_count_;
  const ReserveHints reserve_hints_;
  std::atomic<uint64_t> recorded_{0};
};

}  // namespace streamstate::internal
