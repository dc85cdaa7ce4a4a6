// MemoryTable: the entries of one column within one shard of the memory backend.
//
// An open-addressing hash table (absl::flat_hash_set of TableNode) with the key bytes
// (StoredKey, inline up to 28 bytes), the value (StoredValue, inline up to 12 bytes) and its
// expiry in the table's own slots, one 64-byte cache line per slot. A lookup of a key that is
// in no CPU cache touches the slot's control bytes and the one line of its slot, and the slot
// the probe starts at is prefetched beside the control bytes, so the two accesses mostly
// overlap; a node-based table costs three or four dependent accesses. Slots move when the
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

#include <absl/container/flat_hash_set.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backend/memory/stored_key.h"
#include "backend/memory/stored_value.h"
#include "backend/memory/table_allocator.h"
#include "streamstate/bytes.h"

namespace streamstate::internal {

struct RecencyNode;

// Hash of a key; it picks the shard and the slot.
inline uint64_t memory_key_hash(BytesView key) { return XXH3_64bits(key.data(), key.size()); }

// A key to look up: a view of the bytes and its memory_key_hash.
struct KeyRef {
  BytesView bytes;
  uint64_t hash = 0;
};

// Equality of two byte strings of the same length `n`, inline: keys of up to 32 bytes (nearly
// all) are compared with at most four 8-byte loads per side instead of a call to memcmp. The
// loads overlap where n is not a multiple of 8 and never reach outside the n bytes.
inline bool same_bytes(const char* a, const char* b, size_t n) noexcept {
  auto load64 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  auto load32 = [](const char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  if (n >= 8) {
    if (n > 32) return std::memcmp(a, b, n) == 0;
    uint64_t diff = (load64(a) ^ load64(b)) | (load64(a + n - 8) ^ load64(b + n - 8));
    if (n > 16) diff |= (load64(a + 8) ^ load64(b + 8)) | (load64(a + n - 16) ^ load64(b + n - 16));
    return diff == 0;
  }
  if (n >= 4) return ((load32(a) ^ load32(b)) | (load32(a + n - 4) ^ load32(b + n - 4))) == 0;
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

inline constexpr int64_t kNeverExpires = INT64_MAX;

struct Entry {
  StoredValue value;
  // Milliseconds since the epoch at which the entry expires; kNeverExpires without a TTL.
  int64_t expires_at = kNeverExpires;
  // The entry's place in its shard's recency order; null when the shard does not track
  // recency (no size limit).
  RecencyNode* recency = nullptr;
};

// One slot of a table: exactly one cache line. The key's hash is not kept (the control bytes
// hold 7 bits of it, enough to skip nearly every other key); growing a table hashes the keys
// again.
struct alignas(64) TableNode {
  TableNode(BytesView key_bytes, BytesView value, int64_t expires_at)
      : key(key_bytes), entry{StoredValue(value), expires_at, nullptr} {}
  TableNode(BytesView key_bytes, BytesView value, int64_t expires_at, ValueSlabCursor& slabs)
      : key(key_bytes), entry{StoredValue(value, slabs), expires_at, nullptr} {}

  StoredKey key;
  // Mutable: the set's elements are const, and only the key must never change in place.
  mutable Entry entry;
};
// The slot size docs/backends/memory.md quotes.
static_assert(sizeof(TableNode) == 64);

inline BytesView key_bytes(const TableNode& node) { return node.key.view(); }
inline BytesView key_bytes(const KeyRef& key) { return key.bytes; }

struct TableNodeHash {
  using is_transparent = void;
  size_t operator()(const TableNode& node) const noexcept { return static_cast<size_t>(memory_key_hash(node.key.view())); }
  size_t operator()(const KeyRef& key) const noexcept { return static_cast<size_t>(key.hash); }
};

struct TableNodeEqual {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const noexcept {
    const BytesView x = key_bytes(a);
    const BytesView y = key_bytes(b);
    return x.size() == y.size() && same_bytes(x.data(), y.data(), x.size());
  }
};

// True when an entry with this expiry time is expired at `now` (expiry is inclusive: an entry
// written at t with ttl d is visible up to t+d-1 and gone at t+d).
inline bool is_expired(const Entry& entry, int64_t now) { return now >= entry.expires_at; }

inline uint64_t entry_bytes(const TableNode& node) { return node.key.size() + node.entry.value.size(); }

class MemoryTable {
 public:
  using Map = absl::flat_hash_set<TableNode, TableNodeHash, TableNodeEqual, TableAllocator<TableNode>>;

  MemoryTable() = default;
  MemoryTable(const MemoryTable&) = delete;
  MemoryTable& operator=(const MemoryTable&) = delete;

  // A deep copy. The copy's entries name the same recency nodes.
  std::shared_ptr<MemoryTable> clone() const;

  // The entry of `key`, or null. The pointer is valid until the next insert. (The set hands
  // out const elements; the node is not a const object, and callers change only its entry.)
  [[gnu::always_inline]] TableNode* find(const KeyRef& key) {
    map_.prefetch(key);  // the key's first slot, loaded beside its control bytes
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : const_cast<TableNode*>(&*it);
  }
  [[gnu::always_inline]] const TableNode* find(const KeyRef& key) const {
    map_.prefetch(key);
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &*it;
  }

  // Starts loading the memory a find(key) will touch.
  [[gnu::always_inline]] void prefetch(const KeyRef& key) const { map_.prefetch(key); }

  // Where assign and erase move the values they replace or remove instead of freeing them
  // (null: freed), for a snapshot copy that still points at their bytes.
  using KeptBuffers = std::vector<StoredValue>;

  // Precondition: the key is absent. With `slabs`, a long value is carved from them.
  TableNode& insert(const KeyRef& key, BytesView value, int64_t expires_at, ValueSlabCursor* slabs = nullptr);
  // Replaces the value and expiry of an entry.
  void assign(TableNode& node, BytesView value, int64_t expires_at, KeptBuffers* keep = nullptr);
  void erase(TableNode& node, KeptBuffers* keep = nullptr);

  size_t size() const { return map_.size(); }
  // Room for `entries` in all without growing.
  void reserve(size_t entries) { map_.reserve(entries); }
  bool empty() const { return map_.empty(); }
  uint64_t bytes() const { return bytes_; }
  const Map& entries() const { return map_; }

  // Removes every entry matching pred(node), calling on_erase(node) just before each removal;
  // returns how many were removed.
  template <typename Predicate, typename OnErase>
  uint64_t erase_if(Predicate pred, OnErase on_erase, KeptBuffers* keep = nullptr) {
    uint64_t removed = 0;
    for (auto it = map_.begin(); it != map_.end();) {
      if (pred(*it)) {
        on_erase(*it);
        bytes_ -= entry_bytes(*it);
        keep_value(*it, keep);
        map_.erase(it++);  // erasing leaves the other slots in place
        ++removed;
      } else {
        ++it;
      }
    }
    return removed;
  }

 private:
  static void keep_value(const TableNode& node, KeptBuffers* keep) {
    if (keep == nullptr || !node.entry.value.on_heap()) return;
    keep->push_back(std::move(node.entry.value));  // leaves the node's value empty
  }

  Map map_;
  uint64_t bytes_ = 0;
};

// Inline: these run on every write.
inline void MemoryTable::assign(TableNode& node, BytesView value, int64_t expires_at, KeptBuffers* keep) {
  bytes_ = bytes_ - node.entry.value.size() + value.size();
  keep_value(node, keep);
  node.entry.value.assign(value);
  node.entry.expires_at = expires_at;
}

}  // namespace streamstate::internal
