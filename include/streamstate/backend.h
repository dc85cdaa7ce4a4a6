// StateBackend: the byte-level storage interface under all keyed state, and the contract a
// custom backend implements. See docs/backends.md for the full contract and
// examples/custom_backend for a user-defined backend that passes the conformance suite.
//
// A backend holds named columns (one per named state). A column maps byte-string keys to
// byte-string values; keys and values may contain zero bytes, values may be empty.
//
//   auto backend = streamstate::RocksDbBackend::open({.path = "/var/lib/app/state"});  // rocksdb.h
//   auto counts = backend.value()->column("counts");
//   counts.value()->put("user-1", "42");
//
// Errors: every operation returns Status or Result. After close(), every operation on the
// backend, its columns and its snapshots fails with StatusCode::kClosed.
//
// Thread-safety: declared per backend by capabilities().thread_safe; the built-in memory,
// RocksDB and Redis backends are all safe for concurrent use from any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/bytes.h"
#include "streamstate/status.h"
#include "streamstate/write_batch.h"

namespace streamstate {

// What a backend promises; the conformance suite checks each claimed property.
struct BackendCapabilities {
  // scan() and snapshot iterators visit keys in bytewise ascending order.
  bool ordered_scan = false;
  // Data survives close() and a reopen with the same options.
  bool persistent = false;
  // All operations may be called concurrently from several threads.
  bool thread_safe = false;
  // Several processes may use the same data at once (Redis).
  bool shared_between_processes = false;
};

// Counters since open. Backends that cannot know a figure report 0 for it.
struct BackendStatistics {
  uint64_t gets = 0;         // get and contains calls
  uint64_t hits = 0;         // of those, found a live entry
  uint64_t misses = 0;       // of those, found nothing (or an expired entry)
  uint64_t puts = 0;         // put calls, batch puts and updates that stored a value
  uint64_t removes = 0;      // remove calls, batch removes and updates that removed
  uint64_t scans = 0;        // scan calls
  uint64_t batches = 0;      // write calls
  uint64_t evictions = 0;    // entries dropped by a size limit
  uint64_t expirations = 0;  // entries dropped because their TTL passed
  uint64_t live_entries = 0; // entries stored now (an estimate on RocksDB)
  uint64_t bytes_in_use = 0; // bytes of keys and values stored now (approximate)

  double hit_rate() const { return gets == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(gets); }
};

// Called once per entry by scan(); return false to stop early.
using ScanVisitor = std::function<bool(BytesView key, BytesView value)>;

// Given the current value (nullopt when absent), returns the value to store, or nullopt to
// remove the key. Runs while the backend holds a lock for the key: it must be quick and must
// not call back into the same backend.
using UpdateFunction = std::function<std::optional<std::string>(std::optional<BytesView> current)>;

// One named column of a backend. Handles are cheap; they stay valid (but fail with kClosed)
// after the backend is closed.
class StateColumn {
 public:
  virtual ~StateColumn() = default;

  virtual const std::string& name() const = 0;

  // Looks up `key`. Returns true and fills `value` when found, false when absent.
  virtual Result<bool> get_into(BytesView key, std::string& value) = 0;
  virtual Status put(BytesView key, BytesView value) = 0;
  // Removing an absent key is not an error.
  virtual Status remove(BytesView key) = 0;
  virtual Result<bool> contains(BytesView key) = 0;

  // Atomic read-modify-write of one key: no other update() of the same key in this backend
  // can interleave with it (on Redis, also not from other processes). See UpdateFunction.
  virtual Status update(BytesView key, const UpdateFunction& fn) = 0;

  // Visits every entry whose key starts with `prefix` (all entries for an empty prefix).
  // Order is bytewise ascending when capabilities().ordered_scan, unspecified otherwise.
  // A scan is not a snapshot: concurrent writes may or may not be seen, but no entry is
  // visited twice. The visitor runs without backend locks held.
  virtual Status scan(BytesView prefix, const ScanVisitor& visitor) = 0;

  // Removes every entry of this column.
  virtual Status clear() = 0;

  // A hint that about `entries` more entries are about to be written (a restore): a backend may
  // size its structures for them at once instead of growing step by step. The default ignores it.
  virtual void reserve(uint64_t entries) { (void)entries; }

  // Convenience over get_into.
  Result<std::optional<std::string>> get(BytesView key) {
    std::string value;
    Result<bool> found = get_into(key, value);
    if (!found.is_ok()) return found.status();
    if (!*found) return std::optional<std::string>();
    return std::optional<std::string>(std::move(value));
  }
};

// Iterates the entries of one column as they were when the snapshot was taken.
// Usage: for (; it->valid(); it->next()) { use it->key(), it->value() }; then check status().
class SnapshotIterator {
 public:
  virtual ~SnapshotIterator() = default;
  virtual bool valid() const = 0;
  // Views valid until the next call to next().
  virtual BytesView key() const = 0;
  virtual BytesView value() const = 0;
  virtual void next() = 0;
  // OK, or why iteration stopped early.
  virtual Status status() const = 0;
};

// A consistent point-in-time view of all columns of a backend. Taking one blocks writers no
// longer than a pointer swap (memory) or a RocksDB snapshot; Redis copies the state on the
// server (see redis.h). Writes made after it was taken are never visible through it. It may be read from another thread than the
// one that took it (checkpoints read it in the background). Destroying it releases its
// resources. Caveat: on RocksDB, entries of expiring columns (ColumnOptions::values_carry_expiry)
// may disappear from an earlier snapshot once compaction drops them, because RocksDB's
// compaction filters ignore snapshots.
class BackendSnapshot {
 public:
  virtual ~BackendSnapshot() = default;
  // The columns that existed when the snapshot was taken, sorted by name.
  virtual const std::vector<std::string>& columns() const = 0;
  // Entries of `column` whose key starts with `prefix`. NotFound for an unknown column.
  // Ordered as the backend's capabilities().ordered_scan says.
  virtual Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix = {}) = 0;
  // The value of one key as the snapshot holds it: true and *value set, or false when absent.
  // NotFound for an unknown column. The default looks the key up through iterate(column, key);
  // backends override it with a point lookup (the memory backend does), since incremental
  // checkpoints read each changed key this way.
  virtual Result<bool> get(std::string_view column, BytesView key, std::string* value);
  // Looks up every key of `keys` in `column` and calls found(index, value) for each one the
  // snapshot holds, in no particular order (absent keys get no call). `found` may run under a
  // backend lock: it must not call into the backend, and `value` is valid only during the
  // call. The memory backend locks each shard once and prefetches; the default calls get().
  virtual Status get_many(std::string_view column, std::span<const std::string> keys,
                          const std::function<void(size_t index, BytesView value)>& found);
  // Iterates all of `column` for the last time: the backend may release what it keeps of the
  // column for this snapshot as the iterator moves on (the memory backend stops copying the
  // entries writers change in the parts it has passed), so the column cannot be read from this
  // snapshot again (kFailedPrecondition), and no other iterator of it may be live. For readers
  // that take each column once, as checkpoints do. The default is iterate(column).
  virtual Result<std::unique_ptr<SnapshotIterator>> iterate_once(std::string_view column) { return iterate(column); }
  // For a backend that logs its changes (LoggedBackend, streamstate/logged_backend.h): the log
  // position the snapshot includes - every change logged at or before it is in the snapshot,
  // none after it - so a checkpoint of the snapshot can record where replay resumes. nullopt
  // (the default) for backends without a log.
  virtual std::optional<uint64_t> log_position() const { return std::nullopt; }
};

// Per-column settings, fixed when a column is first opened.
struct ColumnOptions {
  // Every value of the column starts with an 8-byte little-endian expiry time (milliseconds
  // since the epoch; INT64_MAX = never; see docs/formats.md, "Expiring value"). Backends may
  // then drop entries whose expiry has passed on their own: RocksDB in compaction, the memory
  // backend in its background cleanup. Keyed state with a TTL sets this. Default: false.
  bool values_carry_expiry = false;
};

class ChangeTracker;

class StateBackend {
 public:
  virtual ~StateBackend() = default;

  // A short name of the implementation: "memory", "rocksdb", "redis", or a custom one.
  virtual std::string_view kind() const = 0;
  virtual BackendCapabilities capabilities() const = 0;

  // Opens the named column, creating it if needed. Names are 1..200 characters of
  // [A-Za-z0-9_.-]; anything else is InvalidArgument naming the column.
  virtual Result<std::shared_ptr<StateColumn>> column(std::string_view name) = 0;
  // As column(name), with settings. A backend without native expiry support may ignore
  // values_carry_expiry (the default implementation does): readers still filter expired values.
  virtual Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name, const ColumnOptions& options) {
    (void)options;
    return column(name);
  }
  // Names of the existing columns, sorted.
  virtual Result<std::vector<std::string>> list_columns() = 0;
  // Removes a column and its data. NotFound if it does not exist.
  virtual Status drop_column(std::string_view name) = 0;

  // Applies every operation of `batch` or none of them.
  virtual Status write(const WriteBatch& batch) = 0;

  // Puts many entries into one existing column, for restores and bulk loads: faster than a
  // WriteBatch where the backend can skip copying them into one (the memory backend inserts
  // them shard by shard). Not atomic: after an error, some of the entries may be written.
  // NotFound for a column that does not exist. The default writes them as one WriteBatch.
  virtual Status put_entries(std::string_view column, std::span<const std::pair<BytesView, BytesView>> entries);

  virtual Result<std::unique_ptr<BackendSnapshot>> snapshot() = 0;

  // The backend's change tracking for incremental checkpoints (streamstate/change_tracking.h),
  // or null when it has none or it is off (the default). Owned by the backend.
  virtual ChangeTracker* change_tracker() { return nullptr; }

  virtual BackendStatistics statistics() const = 0;

  // Makes acknowledged writes durable where the backend buffers them (no-op otherwise).
  virtual Status flush() = 0;

  // Releases resources; further operations fail with kClosed. Idempotent.
  virtual Status close() = 0;
};

// Checks a column name against the rule in StateBackend::column.
Status validate_column_name(std::string_view name);

}  // namespace streamstate
