// MemoryStore: the sharded data of a memory backend. It owns the shards (each a ShardMutex, a
// copy-on-write MemoryTable, its share of the size limits and plain statistics counters) and
// implements every data operation on them: single-key reads and writes, atomic batches, scans,
// TTL expiry, LRU eviction, and the capture/release of tables for snapshots.
//
// Copy-on-write: a shard's table may be shared with snapshots. Every mutation first calls
// make_writable(), which clones the table when anyone else still holds it. Snapshots take and
// drop their references only under the shard mutex, so the use count read under that mutex is
// exact and the drop happens-before any later in-place mutation.
//
// Locking: operations lock one shard at a time, except batches and captures, which lock
// several in increasing index order. User callbacks (update functions) run under the shard
// lock; scan visitors run with no lock held.
//
// Thread-safety: all public methods may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "backend/memory/shard_mutex.h"
#include <string>
#include <vector>

#include "backend/memory/memory_options.h"
#include "backend/memory/memory_table.h"
#include "streamstate/backend.h"
#include "streamstate/write_batch.h"

namespace streamstate::internal {

// The identity of a column inside the store. Ids are never reused, so entries of a dropped
// column can never reappear in a new column of the same name.
struct ColumnState {
  ColumnState(std::string column_name, uint32_t column_id, bool carries_expiry = false)
      : name(std::move(column_name)), id(column_id), values_carry_expiry(carries_expiry) {}
  const std::string name;
  const uint32_t id;
  // ColumnOptions::values_carry_expiry, fixed when the column was created: cleanup also drops
  // entries whose expiry header (src/core/expiring_value.h) has passed.
  const bool values_carry_expiry;
  // Set (before its entries are removed) when the column is dropped; read under shard locks.
  std::atomic<bool> dropped{false};
};

// A batch operation whose column was resolved by the caller.
struct ResolvedOperation {
  const WriteBatch::Operation* operation;
  uint32_t column;
};

class MemoryStore {
 public:
  explicit MemoryStore(ResolvedMemoryOptions options);
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  const ResolvedMemoryOptions& options() const { return options_; }
  bool is_closed() const { return closed_.load(std::memory_order_acquire); }
  // Marks the store closed; true only for the first call.
  bool mark_closed() { return !closed_.exchange(true, std::memory_order_acq_rel); }
  // After mark_closed(): frees every shard's data (snapshots keep what they hold).
  void release_tables();
  static Status closed_status();

  // Looks up a key; fills *value when found and value is not null (contains passes null).
  Result<bool> get(const ColumnState& column, BytesView key, std::string* value);
  Status put(const ColumnState& column, BytesView key, BytesView value);
  Status remove(const ColumnState& column, BytesView key);
  Status update(const ColumnState& column, BytesView key, const UpdateFunction& fn);
  Status scan(const ColumnState& column, BytesView prefix, const ScanVisitor& visitor);
  Status clear(const ColumnState& column);
  // Removes every entry of a column without any check (drop_column).
  void erase_column(uint32_t column_id);
  // Applies all operations atomically. The caller checked that the columns exist and holds
  // the column registry so that none is dropped meanwhile.
  Status apply_batch(const std::vector<ResolvedOperation>& operations);
  // Removes entries whose backend TTL passed, and entries of the columns in
  // `expiring_columns` (ids sorted ascending) whose expiry header passed. Values shorter than
  // the header are left for the reader to report as corrupt.
  Result<uint64_t> cleanup_expired(const std::vector<uint32_t>& expiring_columns);
  BackendStatistics statistics() const;

  // InvalidArgument when an entry of this size can never fit a shard's share of max_bytes.
  Status check_entry_size(std::string_view column, BytesView key, size_t value_size) const;

  // Snapshot support: shares every shard's table (all shards locked at once, in order), and
  // gives the references back under the shard locks.
  Status capture(std::vector<std::shared_ptr<const MemoryTable>>& tables, int64_t& now);
  void release(std::vector<std::shared_ptr<const MemoryTable>>& tables);

 private:
  struct Counters {
    uint64_t gets = 0, hits = 0, misses = 0, puts = 0, removes = 0, scans = 0, batches = 0;
    uint64_t evictions = 0, expirations = 0;
  };
  // Aligned to a cache line so that threads on different shards do not share lines.
  struct alignas(64) Shard {
    ShardMutex mutex;
    std::shared_ptr<MemoryTable> table;
    Counters counters;
    uint64_t max_entries = 0;  // this shard's share of the limits (0 = none)
    uint64_t max_bytes = 0;
  };

  Shard& shard_for(uint64_t hash) { return shards_[shard_index(hash)]; }
  uint32_t shard_index(uint64_t hash) const { return static_cast<uint32_t>(hash >> 40) & shard_mask_; }
  int64_t now() const { return options_.ttl_millis > 0 ? options_.clock->now_millis() : 0; }
  // Saturates, so that a huge ttl means "never" instead of overflowing.
  int64_t expiry_for_write(int64_t now) const {
    if (options_.ttl_millis == 0 || now > kNeverExpires - options_.ttl_millis) return kNeverExpires;
    return now + options_.ttl_millis;
  }
  // Under the shard lock: neither closed nor the column dropped.
  bool usable(const ColumnState& column) const {
    return !closed_.load(std::memory_order_relaxed) && !column.dropped.load(std::memory_order_relaxed);
  }
  Status unusable_status(const ColumnState& column) const;

  // Under the shard lock: the shard's table, cloned first if a snapshot shares it. (Inline,
  // like the other helpers of the hot path: calls within a shared library are not inlined
  // otherwise.)
  MemoryTable& make_writable(Shard& shard) {
    if (shard.table.use_count() > 1) shard.table = shard.table->clone();
    return *shard.table;
  }
  // As above, and returns where `node` (found by `key`) lives in the writable table.
  TableNode* make_writable(Shard& shard, const KeyRef& key, TableNode* node) {
    if (shard.table.use_count() == 1) return node;
    shard.table = shard.table->clone();
    return shard.table->find(key);
  }
  // Under the shard lock; the entry size was checked.
  void put_locked(Shard& shard, const KeyRef& key, BytesView value, int64_t now);
  void remove_locked(Shard& shard, const KeyRef& key, int64_t now);
  // Evicts least recently used entries until the shard is within its limits; never `keep`.
  void enforce_limits(Shard& shard, const TableNode* keep, int64_t now) {
    if (options_.has_size_limit()) evict_over_limits(shard, keep, now);
  }
  void evict_over_limits(Shard& shard, const TableNode* keep, int64_t now);

  const ResolvedMemoryOptions options_;
  const uint32_t shard_mask_;
  std::unique_ptr<Shard[]> shards_;
  alignas(64) std::atomic<bool> closed_{false};
};

}  // namespace streamstate::internal
