// MemoryStore: the sharded data of a memory backend. Each column keeps one MemoryTable per
// shard; a shard is a lock, with the shard's recency list (for LRU
// eviction across all its columns), its share of the size limits, its totals and plain
// statistics counters. The store implements every data operation on them: single-key reads
// and writes, atomic batches, scans, TTL expiry, LRU eviction, and the snapshot logs.
//
// A key's shard is picked by its hash, the same in every column; column c's table of shard i
// is guarded by shard i's mutex for writers. Separate tables per column keep a lookup in one
// column from wading through the entries of the others (as a RocksDB column family or a Flink
// state table).
//
// Unlocked reads: get and contains take no mutex in the common case. They pass the store's
// ReadGate (read_gate.h), which counts them in a cache line of their own thread's, and count
// their hits and misses per thread slot (get_counters.h). A writer, under the shard mutex,
// closes the gate of the shard's stripe and waits for the readers inside before it changes a
// table or replaces one (Shard::exclude_readers(), called by make_writable() and every other
// path that changes tables); it reopens the gate when it unlocks the shard. So a table is
// never changed or freed while an unlocked reader uses it. Reads that must change something -
// an expired entry (removed), refresh_ttl_on_read, a size limit (the recency list moves) - and
// reads that meet a closed gate take the mutex as before.
//
// Snapshots (entry-level copy-on-write): a snapshot shares no table. It registers a
// SnapshotLog with every shard (under all shard locks at once, so it sees whole batches), and
// from then on every change of an entry first records the entry's previous state in each
// registered log (record_change(), called by the helpers every change goes through). A
// snapshot reads a shard as its live table with the log's pre-images laid over it, under the
// shard lock. The only shared table is the empty one every column starts with, which
// make_writable() replaces by a table of the column's own before the first change. Unlocked
// readers use the column's table through its pointer and take no reference.
//
// Locking: operations lock one shard at a time, except batches and captures, which lock
// several in increasing index order (and keep every involved stripe's gate closed until all
// of the batch is applied). User callbacks (update functions) run under the shard lock; scan
// visitors run with no lock held.
//
// Thread-safety: all public methods may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "backend/memory/change_set.h"
#include "backend/memory/get_counters.h"
#include "backend/memory/memory_options.h"
#include "backend/memory/memory_table.h"
#include "backend/memory/read_gate.h"
#include "backend/memory/recency_list.h"
#include "backend/memory/shard_mutex.h"
#include "backend/memory/snapshot_log.h"
#include "backend/memory/snapshot_shard_copy.h"
#include "backend/memory/thread_slot.h"
#include "streamstate/backend.h"
#include "streamstate/write_batch.h"

namespace streamstate::internal {

// A column inside the store: its identity and its tables. A new column of the same name is a
// new ColumnState, so entries of a dropped column can never reappear in it.
struct ColumnState {
  // Every table starts as `empty`, a table shared by all columns (and so cloned, like any
  // shared table, before its first change): a column costs no table until it is written.
  ColumnState(std::string column_name, bool carries_expiry, uint32_t shard_count,
              const std::shared_ptr<MemoryTable>& empty)
      : name(std::move(column_name)),
        values_carry_expiry(carries_expiry),
        tables(std::make_unique<std::shared_ptr<MemoryTable>[]>(shard_count)) {
    for (uint32_t i = 0; i < shard_count; ++i) tables[i] = empty;
  }
  const std::string name;
  // ColumnOptions::values_carry_expiry, fixed when the column was created: cleanup also drops
  // entries whose expiry header (src/core/expiring_value.h) has passed.
  const bool values_carry_expiry;
  // Set (before its entries are removed) when the column is dropped; read under shard locks.
  std::atomic<bool> dropped{false};
  // The column's table of each shard; tables[i] is changed under shard i's mutex with the
  // shard's readers excluded, and read under either.
  const std::unique_ptr<std::shared_ptr<MemoryTable>[]> tables;
};

// A batch operation whose column was resolved by the caller.
struct ResolvedOperation {
  const WriteBatch::Operation* operation;
  ColumnState* column;
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
  // After mark_closed(): frees the data of these columns (snapshots of a closed store fail).
  void release_tables(const std::vector<std::shared_ptr<ColumnState>>& columns);
  static Status closed_status();

  // A new, empty column with a table per shard.
  std::shared_ptr<ColumnState> new_column(std::string name, bool values_carry_expiry) const {
    return std::make_shared<ColumnState>(std::move(name), values_carry_expiry, options_.shard_count, empty_table_);
  }

  // Looks up a key; fills *value when found and value is not null (contains passes null).
  Result<bool> get(ColumnState& column, BytesView key, std::string* value);
  Status put(ColumnState& column, BytesView key, BytesView value);
  Status remove(ColumnState& column, BytesView key);
  Status update(ColumnState& column, BytesView key, const UpdateFunction& fn);
  Status scan(ColumnState& column, BytesView prefix, const ScanVisitor& visitor);
  Status clear(ColumnState& column);
  // Sizes the column's table in every shard for its share of `entries` more (StateColumn::reserve).
  void reserve(ColumnState& column, uint64_t entries);
  // Removes every entry of a column without any check (drop_column).
  void erase_column(ColumnState& column);
  // Puts every entry, shard by shard (each shard locked once; not atomic). The caller checked
  // the entry sizes and holds the column registry.
  Status put_entries(ColumnState& column, std::span<const std::pair<BytesView, BytesView>> entries);
  // Applies all operations atomically. The caller checked that the columns exist and holds
  // the column registry so that none is dropped meanwhile.
  Status apply_batch(const std::vector<ResolvedOperation>& operations);
  // Removes entries of these columns whose backend TTL passed, and, in columns whose values
  // carry an expiry header, entries whose header passed. Values shorter than the header are
  // left for the reader to report as corrupt.
  Result<uint64_t> cleanup_expired(const std::vector<std::shared_ptr<ColumnState>>& columns);
  BackendStatistics statistics() const;

  // InvalidArgument when an entry of this size can never fit a shard's share of max_bytes.
  Status check_entry_size(std::string_view column, BytesView key, size_t value_size) const;

  // Snapshot support: registers `log` with every shard (all shards locked at once, in order)
  // and sets `now` to the snapshot's clock reading; release() unregisters it. With change
  // tracking, `epoch` (when not null) gets the change epoch the snapshot closes: changes
  // recorded before it carry that epoch or less, changes after it a greater one.
  Status capture(SnapshotLog& log, int64_t& now, uint64_t* epoch = nullptr);
  void release(SnapshotLog& log);
  // Sets `out` to the column's entries of the shard that start with `prefix` and had not
  // expired at `taken_at`, as they were when `log` was captured. Holds the shard's lock only
  // while walking its slots; long values are copied after (see the definition). With
  // `release`, the log releases the column's part of the shard (SnapshotLog::release).
  Status read_snapshot_shard(uint32_t shard, const ColumnState& column, SnapshotLog& log, BytesView prefix,
                             int64_t taken_at, SnapshotShardCopy& out, bool release = false);
  // The column's entry `key` as it was when `log` was captured, unless expired at `taken_at`:
  // true and *value set, or false. Locks the key's shard.
  Result<bool> read_snapshot_key(const ColumnState& column, const SnapshotLog& log, BytesView key, int64_t taken_at,
                                 std::string* value);
  // read_snapshot_key for many keys: each shard locked once, lookups prefetched ahead;
  // found(index, value) for each present key, under the shard's lock.
  Status read_snapshot_keys(const ColumnState& column, const SnapshotLog& log, std::span<const std::string> keys,
                            int64_t taken_at, const std::function<void(size_t, BytesView)>& found);
  // Entries copied into snapshot logs so far (each the first change of a key while a snapshot
  // lived): what snapshots have cost writers, for tests and docs.
  uint64_t entries_copied_for_snapshots() const { return copied_for_snapshots_.load(std::memory_order_relaxed); }
  // How many pre-images a new snapshot's log should expect per shard, by column.
  SnapshotLog::ReserveHints snapshot_images_hints() const {
    std::lock_guard<std::mutex> lock(snapshot_hints_mutex_);
    return snapshot_hints_;
  }

  // Change tracking (options().track_changes), shard by shard under each shard's lock: every
  // tracked key by column; forget the keys last changed at or before `epoch`; forget all.
  Status collect_changes(std::map<std::string, std::vector<std::string>, std::less<>>& out);
  void forget_changes_through(uint64_t epoch);
  void forget_all_changes();
  uint64_t tracked_keys() const;

 private:
  // Keys 0..count-1 grouped by shard, so that a bulk operation locks each shard once: shard s
  // has the keys order[starts[s]] .. order[starts[s + 1] - 1]; hashes[i] is key i's hash.
  struct KeysByShard {
    std::vector<uint64_t> hashes;
    std::vector<uint32_t> starts;  // shard_count + 1 entries
    std::vector<uint32_t> order;
  };
  KeysByShard sort_by_shard(size_t count, const std::function<BytesView(size_t)>& key_of) const;

  // Counted under the shard lock; gets, hits and misses are in get_counters_.
  struct Counters {
    uint64_t puts = 0, removes = 0, scans = 0, batches = 0;
    uint64_t evictions = 0, expirations = 0;
  };
  // Aligned to a cache line so that threads on different shards do not share lines. A lock
  // (std::lock_guard<Shard>): unlock() first reopens the gate if exclude_readers() closed it.
  struct alignas(64) Shard {
    Shard() = default;
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;
    void lock() { mutex.lock(); }
    bool try_lock() { return mutex.try_lock(); }
    void unlock() {
      if (readers_excluded) {
        readers_excluded = false;
        gate->readmit(stripe);
      }
      mutex.unlock();
    }
    // Under the lock, before anything an unlocked reader may read changes: tables (their
    // entries, or which table a column uses).
    void exclude_readers() {
      if (readers_excluded || gate == nullptr) return;
      gate->exclude(stripe);
      readers_excluded = true;
    }

    ShardMutex mutex;
    uint32_t index = 0;
    uint32_t stripe = 0;
    ReadGate* gate = nullptr;  // null when the store has no unlocked reads
    bool readers_excluded = false;  // guarded by mutex
    std::vector<SnapshotLog*> snapshots;  // guarded by mutex: the live snapshots' logs
    Counters counters;
    uint64_t entries = 0;  // live entries and their key + value bytes, over all columns
    uint64_t bytes = 0;
    uint64_t max_entries = 0;  // this shard's share of the limits (0 = none)
    uint64_t max_bytes = 0;
    RecencyList recency;  // used only with a size limit
    ChangeSet changes;    // used only with track_changes
    // Snapshot copies of this shard that still point at entries' value buffers (guarded by
    // mutex, see read_snapshot_shard): while there are any, the buffers of replaced and removed
    // values and detached tables are kept here instead of freed, and freed when the last ends.
    uint32_t value_readers = 0;
    MemoryTable::KeptBuffers kept_buffers;
    std::vector<std::shared_ptr<MemoryTable>> kept_tables;
  };
  // Under the shard lock: gives the column the empty table in the shard and returns the one it
  // had, also kept by the shard while snapshot copies may point into it (value_readers).
  std::shared_ptr<MemoryTable> take_table(Shard& shard, std::shared_ptr<MemoryTable>& table) {
    if (shard.value_readers != 0) shard.kept_tables.push_back(table);
    return std::exchange(table, empty_table_);
  }
  // Where a change of the shard puts a value buffer it replaces or removes: null (free it)
  // unless a snapshot copy may point at it.
  static MemoryTable::KeptBuffers* kept_buffers(Shard& shard) {
    return shard.value_readers == 0 ? nullptr : &shard.kept_buffers;
  }

  uint32_t shard_index(uint64_t hash) const { return static_cast<uint32_t>(hash >> 40) & shard_mask_; }
  int64_t now() const { return options_.ttl_millis > 0 ? options_.clock->now_millis() : 0; }
  // Saturates, so that a huge ttl means "never" instead of overflowing.
  int64_t expiry_for_write(int64_t now) const {
    if (options_.ttl_millis == 0 || now > kNeverExpires - options_.ttl_millis) return kNeverExpires;
    return now + options_.ttl_millis;
  }
  bool tracks_recency() const { return options_.has_size_limit(); }
  // Under the shard lock: neither closed nor the column dropped.
  bool usable(const ColumnState& column) const {
    return !closed_.load(std::memory_order_relaxed) && !column.dropped.load(std::memory_order_relaxed);
  }
  Status unusable_status(const ColumnState& column) const;

  // Under the shard lock: the column's table of the shard, made the column's own first if it
  // is still the shared empty table. (Inline, like the other helpers of the hot path: calls
  // within a shared library are not inlined otherwise.)
  [[gnu::always_inline]] static MemoryTable& make_writable(Shard& shard, ColumnState& column) {
    shard.exclude_readers();
    std::shared_ptr<MemoryTable>& table = column.tables[shard.index];
    if (table.use_count() > 1) table = table->clone();
    return *table;
  }
  // As above, and returns where `node` (found by `key`) lives in the writable table.
  [[gnu::always_inline]] static TableNode* make_writable(Shard& shard, ColumnState& column, const KeyRef& key,
                                                        TableNode* node) {
    shard.exclude_readers();
    std::shared_ptr<MemoryTable>& table = column.tables[shard.index];
    if (table.use_count() == 1) return node;
    table = table->clone();
    return table->find(key);
  }

  // Under the shard lock, before an entry changes (entry null: the key is absent): gives
  // every live snapshot the entry's state, once per key and snapshot.
  void record_change(Shard& shard, const ColumnState& column, BytesView key, const Entry* entry) {
    if (shard.snapshots.empty() && !options_.track_changes) return;
    record_change_slow(shard, column, key, entry);
  }
  void record_change_slow(Shard& shard, const ColumnState& column, BytesView key, const Entry* entry);

  // Under the shard lock, on a writable table: every change of an entry goes through these,
  // which keep the shard's totals, recency list and snapshot logs in step with the tables.
  TableNode& insert_entry(Shard& shard, ColumnState& column, MemoryTable& table, const KeyRef& key,
                          BytesView value, int64_t expires_at, ValueSlabCursor* slabs = nullptr);
  void assign_entry(Shard& shard, const ColumnState& column, MemoryTable& table, TableNode& node, BytesView value,
                    int64_t expires_at) {
    record_change(shard, column, node.key.view(), &node.entry);
    shard.bytes = shard.bytes - node.entry.value.size() + value.size();
    table.assign(node, value, expires_at, kept_buffers(shard));
    if (node.entry.recency != nullptr) shard.recency.touch(node.entry.recency);
  }
  void erase_entry(Shard& shard, const ColumnState& column, MemoryTable& table, TableNode& node);
  template <typename Predicate>
  uint64_t erase_entries_if(Shard& shard, const ColumnState& column, MemoryTable& table, Predicate pred) {
    return table.erase_if(
        pred,
        [this, &shard, &column](const TableNode& node) {
          record_change(shard, column, node.key.view(), &node.entry);
          forget_entry(shard, node);
        },
        kept_buffers(shard));
  }
  // Takes an entry about to leave its table out of the shard's totals and recency list.
  static void forget_entry(Shard& shard, const TableNode& node) {
    --shard.entries;
    shard.bytes -= entry_bytes(node);
    if (node.entry.recency != nullptr) shard.recency.remove(node.entry.recency);
  }

  // Under the shard lock: takes the column's entries of the shard out of the shard's totals
  // and recency list and gives the column the empty table; returns the old table (null when
  // it was empty) for the caller to free outside the lock.
  std::shared_ptr<MemoryTable> detach_table(Shard& shard, ColumnState& column);

  // get() under the shard lock, for reads the gate did not let through or that change entries.
  Result<bool> get_locked(Shard& shard, ColumnState& column, const KeyRef& key, std::string* value, int64_t now,
                          uint32_t slot);

  // Under the shard lock; the entry size was checked.
  // With `slabs` (bulk puts), a new entry's long value is carved from them.
  void put_locked(Shard& shard, ColumnState& column, const KeyRef& key, BytesView value, int64_t now,
                  ValueSlabCursor* slabs = nullptr);
  void remove_locked(Shard& shard, ColumnState& column, const KeyRef& key, int64_t now);
  // Evicts least recently used entries until the shard is within its limits; never `keep`.
  void enforce_limits(Shard& shard, const TableNode* keep, int64_t now) {
    if (options_.has_size_limit()) evict_over_limits(shard, keep, now);
  }
  void evict_over_limits(Shard& shard, const TableNode* keep, int64_t now);

  const ResolvedMemoryOptions options_;
  // Never changed: every table that holds nothing yet, or again (see ColumnState). The store's
  // own reference keeps its use count above one, so make_writable() always clones it.
  const std::shared_ptr<MemoryTable> empty_table_ = std::make_shared<MemoryTable>();
  const uint32_t shard_mask_;
  // Gets may skip the mutex: they change nothing (no recency list, no TTL refresh).
  const bool unlocked_reads_;
  ReadGate gate_;
  GetCounters get_counters_;
  std::atomic<uint64_t> copied_for_snapshots_{0};
  // The last released snapshot's peak pre-images per shard, by column (SnapshotLog hints).
  mutable std::mutex snapshot_hints_mutex_;
  SnapshotLog::ReserveHints snapshot_hints_;  // guarded by snapshot_hints_mutex_
  // The change epoch of writes now (track_changes); advanced by capture() under every shard
  // lock, so a writer reads a stable value under its one shard lock.
  std::atomic<uint64_t> change_epoch_{1};
  std::unique_ptr<Shard[]> shards_;
  alignas(64) std::atomic<bool> closed_{false};
};

}  // namespace streamstate::internal
