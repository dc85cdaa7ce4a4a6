// MemoryTable: the entries of one column within one shard of the memory backend.
//
// An open-addressing hash table (absl::flat_hash_map) with the key bytes (StoredKey, inline up
// to 28 bytes), the key's 64-bit hash, the value and its expiry in the table's own slots: a
// lookup of a key that is not in any CPU cache costs two dependent memory accesses (control
// bytes, then the slot), where a node-based table costs three or four. Slots move when the
// table grows, so nothing outside the table keeps a pointer to an entry across an insert; the
// least-recently-used order lives in the shard's RecencyList, whose nodes name entries by key.
//
// A table belongs to one column in one shard; the one exception is the store's empty table,
// shared by every column until its first write there (MemoryStore clones it first).
//
// Thread-safety: that of absl::flat_hash_map: const methods may run concurrently with each
// other, any mutation needs exclusive access (the shard mutex with its readers excluded, see
// memory_store.h).
#pragma once

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "backend/memory/stored_key.h"
#include "streamstate/bytes.h"

namespace streamstate::internal {

struct RecencyNode;

// Hash of a key; it picks the shard and the slot.
inline uint64_t memory_key_hash(BytesView key) { return XXH3_64bits(key.data(), key.size()); }

// The key as stored in a table.
struct EntryKey {
  uint64_t hash = 0;
  StoredKey bytes;
};

// A key to look up: a view of the bytes and its memory_key_hash.
struct KeyRef {
  BytesView bytes;
  uint64_t hash = 0;
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
    return a.hash == b.hash && key_bytes(a) == key_bytes(b);
  }
};

inline constexpr int64_t kNeverExpires = INT64_MAX;

struct Entry {
  std::string value;
  // Milliseconds since the epoch at which the entry expires; kNeverExpires without a TTL.
  int64_t expires_at = kNeverExpires;
  // The entry's place in its shard's recency order; null when the shard does not track
  // recency (no size limit).
  RecencyNode* recency = nullptr;
};

using TableNode = std::pair<const EntryKey, Entry>;
// The slot size docs/backends/memory.md quotes.
static_assert(sizeof(TableNode) == 88);

// True when an entry with this expiry time is expired at `now` (expiry is inclusive: an entry
// written at t with ttl d is visible up to t+d-1 and gone at t+d).
inline bool is_expired(const Entry& entry, int64_t now) { return now >= entry.expires_at; }

inline uint64_t entry_bytes(const TableNode& node) { return node.first.bytes.size() + node.second.value.size(); }

class MemoryTable {
 public:
  using Map = absl::flat_hash_map<EntryKey, Entry, EntryKeyHash, EntryKeyEqual>;

  MemoryTable() = default;
  MemoryTable(const MemoryTable&) = delete;
  MemoryTable& operator=(const MemoryTable&) = delete;

  // A deep copy. The copy's entries name the same recency nodes.
  std::shared_ptr<MemoryTable> clone() const;

  // The entry of `key`, or null. The pointer is valid until the next insert.
  TableNode* find(const KeyRef& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &*it;
  }
  const TableNode* find(const KeyRef& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &*it;
  }

  // Precondition: the key is absent.
  TableNode& insert(const KeyRef& key, std::string value, int64_t expires_at);
  // Replaces the value and expiry of an entry.
  void assign(TableNode& node, BytesView value, int64_t expires_at);
  void assign(TableNode& node, std::string&& value, int64_t expires_at);
  void erase(TableNode& node);

  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  uint64_t bytes() const { return bytes_; }
  const Map& entries() const { return map_; }

  // Removes every entry matching pred(node), calling on_erase(node) just before each removal;
  // returns how many were removed.
  template <typename Predicate, typename OnErase>
  uint64_t erase_if(Predicate pred, OnErase on_erase) {
    uint64_t removed = 0;
    for (auto it = map_.begin(); it != map_.end();) {
      if (pred(*it)) {
        on_erase(*it);
        bytes_ -= entry_bytes(*it);
        map_.erase(it++);  // erasing leaves the other slots in place
        ++removed;
      } else {
        ++it;
      }
    }
    return removed;
  }

 private:
  Map map_;
  uint64_t bytes_ = 0;
};

// Inline: these run on every write.
inline void MemoryTable::assign(TableNode& node, BytesView value, int64_t expires_at) {
  bytes_ = bytes_ - node.second.value.size() + value.size();
  node.second.value.assign(value.data(), value.size());
  node.second.expires_at = expires_at;
}

inline void MemoryTable::assign(TableNode& node, std::string&& value, int64_t expires_at) {
  bytes_ = bytes_ - node.second.value.size() + value.size();
  node.second.value = std::move(value);
  node.second.expires_at = expires_at;
}

}  // namespace streamstate::internal
