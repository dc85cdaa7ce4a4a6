// MemoryTable: the hash table of one shard of the memory backend, plus the intrusive
// least-recently-used list threaded through its nodes.
//
// Entries of all columns share one table; an entry is keyed by (column id, key bytes) and the
// key's 64-bit hash is stored with it, so lookups take a KeyRef (a view plus the hash computed
// once by the caller) and never allocate. std::unordered_map keeps node addresses stable, so
// the LRU list links nodes directly and every list operation is O(1).
//
// A table is either owned by its shard alone (mutable, under the shard's mutex) or shared with
// snapshots (immutable from then on; the shard clones it before the next mutation).
//
// Thread-safety: none; callers hold the shard mutex or own an immutable shared table.
#pragma once

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "backend/memory/stored_key.h"
#include "streamstate/bytes.h"

namespace streamstate::internal {

// Hash of a key within a column. The column id seeds XXH3 so equal keys of different columns
// land in unrelated buckets and shards.
inline uint64_t memory_key_hash(uint32_t column_id, BytesView key) {
  return XXH3_64bits_withSeed(key.data(), key.size(), column_id);
}

// The key as stored in a table. The fields a lookup compares share the node's first cache line.
struct EntryKey {
  uint64_t hash = 0;
  uint32_t column = 0;
  StoredKey bytes;
};

// A key to look up: a view of the bytes and its memory_key_hash.
struct KeyRef {
  BytesView bytes;
  uint64_t hash = 0;
  uint32_t column = 0;
};

inline BytesView key_bytes(const EntryKey& key) { return key.bytes.view(); }
inline BytesView key_bytes(const KeyRef& key) { return key.bytes; }

struct EntryKeyHash {
  using is_transparent = void;
  size_t operator()(const EntryKey& key) const noexcept { return static_cast<size_t>(key.hash); }
  size_t operator()(const KeyRef& key) const noexcept { return static_cast<size_t>(key.hash); }
};

struct EntryKeyEqual {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const noexcept {
    return a.hash == b.hash && a.column == b.column && key_bytes(a) == key_bytes(b);
  }
};

inline constexpr int64_t kNeverExpires = INT64_MAX;

struct Entry;
using TableNode = std::pair<const EntryKey, Entry>;

struct Entry {
  std::string value;
  // Milliseconds since the epoch at which the entry expires; kNeverExpires without a TTL.
  int64_t expires_at = kNeverExpires;
  // Neighbours in the recency list (null at the ends, and always when recency is not tracked).
  TableNode* less_recent = nullptr;
  TableNode* more_recent = nullptr;
};

// True when an entry with this expiry time is expired at `now` (expiry is inclusive: an entry
// written at t with ttl d is visible up to t+d-1 and gone at t+d).
inline bool is_expired(const Entry& entry, int64_t now) { return now >= entry.expires_at; }

inline uint64_t entry_bytes(const TableNode& node) { return node.first.bytes.size() + node.second.value.size(); }

class MemoryTable {
 public:
  using Map = std::unordered_map<EntryKey, Entry, EntryKeyHash, EntryKeyEqual>;

  // track_recency: keep the LRU list (only needed when a size limit can evict).
  explicit MemoryTable(bool track_recency) : track_recency_(track_recency) {}
  MemoryTable(const MemoryTable&) = delete;
  MemoryTable& operator=(const MemoryTable&) = delete;

  // A deep copy with the same recency order, for copy-on-write.
  std::shared_ptr<MemoryTable> clone() const;

  TableNode* find(const KeyRef& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &*it;
  }
  const TableNode* find(const KeyRef& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &*it;
  }

  // Precondition: the key is absent. The new entry becomes the most recent.
  TableNode& insert(const KeyRef& key, std::string value, int64_t expires_at);
  // Replaces the value and expiry of an entry and makes it the most recent.
  void assign(TableNode& node, BytesView value, int64_t expires_at);
  void assign(TableNode& node, std::string&& value, int64_t expires_at);
  void erase(TableNode& node);
  // Makes the entry the most recent.
  void touch(TableNode& node);
  // The least recently used entry, or null when empty or recency is not tracked.
  TableNode* least_recent() const { return least_recent_; }

  size_t size() const { return map_.size(); }
  uint64_t bytes() const { return bytes_; }
  const Map& entries() const { return map_; }

  // Removes every entry matching pred(node); returns how many were removed.
  template <typename Predicate>
  uint64_t erase_if(Predicate pred) {
    uint64_t removed = 0;
    for (auto it = map_.begin(); it != map_.end();) {
      if (pred(*it)) {
        unlink(*it);
        bytes_ -= entry_bytes(*it);
        it = map_.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
    return removed;
  }

 private:
  void link_most_recent(TableNode& node);
  void unlink(TableNode& node);

  const bool track_recency_;
  Map map_;
  uint64_t bytes_ = 0;
  TableNode* least_recent_ = nullptr;
  TableNode* most_recent_ = nullptr;
};

// Inline: these run on every write (and on reads with a size limit).
inline void MemoryTable::assign(TableNode& node, BytesView value, int64_t expires_at) {
  bytes_ = bytes_ - node.second.value.size() + value.size();
  node.second.value.assign(value.data(), value.size());
  node.second.expires_at = expires_at;
  touch(node);
}

inline void MemoryTable::assign(TableNode& node, std::string&& value, int64_t expires_at) {
  bytes_ = bytes_ - node.second.value.size() + value.size();
  node.second.value = std::move(value);
  node.second.expires_at = expires_at;
  touch(node);
}

inline void MemoryTable::touch(TableNode& node) {
  if (!track_recency_ || most_recent_ == &node) return;
  unlink(node);
  link_most_recent(node);
}

inline void MemoryTable::link_most_recent(TableNode& node) {
  if (!track_recency_) return;
  node.second.less_recent = most_recent_;
  node.second.more_recent = nullptr;
  if (most_recent_ != nullptr) {
    most_recent_->second.more_recent = &node;
  } else {
    least_recent_ = &node;
  }
  most_recent_ = &node;
}

inline void MemoryTable::unlink(TableNode& node) {
  if (!track_recency_) return;
  Entry& entry = node.second;
  if (entry.less_recent != nullptr) {
    entry.less_recent->second.more_recent = entry.more_recent;
  } else {
    least_recent_ = entry.more_recent;
  }
  if (entry.more_recent != nullptr) {
    entry.more_recent->second.less_recent = entry.less_recent;
  } else {
    most_recent_ = entry.less_recent;
  }
  entry.less_recent = nullptr;
  entry.more_recent = nullptr;
}

}  // namespace streamstate::internal
