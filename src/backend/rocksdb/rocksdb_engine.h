// RocksDbEngine: the state shared by a RocksDB backend and every handle it gave out
// (columns, snapshots, iterators): the rocksdb::DB, its column families, the lifecycle gate
// and the bookkeeping that lets close() tear the DB down safely while handles live on.
//
// Lifecycle rules (RocksDB requires all of them before a DB is deleted):
//  * Every operation holds gate() shared and first checks closed(); close() sets closed
//    under the gate held exclusively, so it waits for operations in flight and no new one
//    touches the DB afterwards.
//  * scan() does not hold the gate while its visitor runs (the visitor may call back into
//    the backend); it registers as an active scan instead, and close() waits for active
//    scans, which stop at the next entry once closing() is set.
//  * Snapshots and snapshot iterators outlive operations; they register as a
//    CloseResource. Whoever unregisters one (its destructor or close()) releases its
//    RocksDB object, under the registry mutex, while the DB is still alive.
//  * Column family handles of dropped columns are kept until close(), so a snapshot or scan
//    still reading a dropped column never sees a destroyed handle.
//
// Thread-safety: all methods may be called from any thread, following the rules above.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "backend/rocksdb/lifecycle_gate.h"
#include "backend/rocksdb/operation_counters.h"
#include "backend/rocksdb/rocksdb_options.h"
#include "backend/rocksdb/wal_replay_meter.h"
#include "streamstate/rocksdb.h"

namespace streamstate::internal {

// Column families of user columns are named with this prefix, so that RocksDB's own
// "default" column family can never collide with a user column.
inline constexpr std::string_view kColumnFamilyPrefix = "s.";

struct ColumnEntry {
  std::string name;
  // Owned by the engine; valid until close() even after the column is dropped.
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  // Set under the exclusive gate when the column is dropped.
  bool dropped = false;
  // ColumnOptions::values_carry_expiry, fixed at creation: the family is then named with
  // kExpiringColumnFamilyPrefix and compaction drops expired entries (expiry_compaction_filter.h).
  bool values_carry_expiry = false;
};

// A RocksDB object that close() must release before deleting the DB.
class CloseResource {
 public:
  virtual ~CloseResource() = default;
  // Releases the RocksDB object; called once, with the registry mutex held.
  virtual void release_native() = 0;
};

class RocksDbEngine {
 public:
  // Takes ownership of `db` and of `handles` (every column family the DB was opened with,
  // in the order of `family_names`), and of the `meter` the DB was opened with (its options
  // keep pointing at it). `recovery` holds the figures of the open.
  RocksDbEngine(RocksDbBackendOptions options, RocksDbNativeOptions native, std::unique_ptr<WalReplayMeter> meter,
                std::unique_ptr<rocksdb::DB> db, const std::vector<std::string>& family_names,
                const std::vector<rocksdb::ColumnFamilyHandle*>& handles, const RocksDbStatistics& recovery);
  ~RocksDbEngine();
  RocksDbEngine(const RocksDbEngine&) = delete;
  RocksDbEngine& operator=(const RocksDbEngine&) = delete;

  const std::string& path() const { return options_.path; }
  const RocksDbBackendOptions& options() const { return options_; }
  rocksdb::DB* db() const { return db_.get(); }
  const rocksdb::ReadOptions& read_options() const { return native_.read; }
  const rocksdb::WriteOptions& write_options() const { return native_.write; }
  OperationCounters& counters() { return counters_; }
  // The recovery figures of the open and RocksDB's tickers (when collected); any time.
  RocksDbStatistics rocksdb_statistics() const;

  LifecycleGate::SharedHold hold_shared() { return gate_.shared(); }
  // With the gate held shared.
  bool closed() const { return closed_; }
  // Set as soon as close() starts; checked by scans between entries.
  bool closing() const { return closing_.load(std::memory_order_relaxed); }
  Status closed_status() const;
  // "column 'x' of the RocksDB backend at '/path'".
  std::string describe(std::string_view column) const;

  // With the gate held shared: the live column, or nullptr.
  const ColumnEntry* find_column(std::string_view name) const;
  std::vector<std::string> column_names() const;
  std::vector<rocksdb::ColumnFamilyHandle*> live_handles() const;
  // A snapshot's view of the columns: name -> entry, for every live column.
  std::map<std::string, std::shared_ptr<const ColumnEntry>, std::less<>> column_entries() const;

  // Takes the gate itself. Returns the column, creating its column family when needed (with
  // the options given, or the defaults). With `options`, an existing column created with
  // another values_carry_expiry is InvalidArgument; without, any existing column is returned.
  Result<std::shared_ptr<const ColumnEntry>> open_column(std::string_view name, const ColumnOptions* options);
  Status drop_column(std::string_view name);

  // The mutex that serializes update() calls of `key` in `column`.
  std::mutex& update_mutex(const ColumnEntry& column, BytesView key);

  // With the gate held shared: registers a resource (its destructor must call release()).
  void register_resource(CloseResource* resource);
  // Releases the resource unless close() already did; safe to call at any time.
  void release(CloseResource* resource);

  // Marks a scan active for its lifetime: created with the gate held shared, destroyed on
  // the same thread (with or without the gate). close() waits until none is left.
  class ActiveScan {
   public:
    explicit ActiveScan(RocksDbEngine& engine);
    ~ActiveScan();
    ActiveScan(const ActiveScan&) = delete;
    ActiveScan& operator=(const ActiveScan&) = delete;

   private:
    friend class RocksDbEngine;
    RocksDbEngine* engine_;
    size_t stripe_;
    const ActiveScan* outer_;  // the scan this thread was in when this one began
  };
  // True when the calling thread is inside a scan of this engine (in its visitor).
  bool in_scan_on_this_thread() const;

  Status close();

 private:
  struct alignas(64) UpdateStripe {
    std::mutex mutex;
  };
  struct alignas(64) ScanStripe {
    std::atomic<int64_t> active{0};
  };
  static constexpr size_t kUpdateStripes = 64;

  int64_t active_scans() const;
  Status teardown();

  const RocksDbBackendOptions options_;
  const RocksDbNativeOptions native_;
  // native_.column_family plus the expiry compaction filter, for new expiring columns.
  const rocksdb::ColumnFamilyOptions expiring_family_options_;
  const RocksDbStatistics recovery_;
  // Declared before db_, so that it outlives the DB whose options point at it.
  const std::unique_ptr<WalReplayMeter> meter_;
  std::unique_ptr<rocksdb::DB> db_;

  LifecycleGate gate_;
  bool closed_ = false;  // guarded by gate_
  std::atomic<bool> closing_{false};
  std::mutex close_mutex_;  // serializes close() calls
  bool torn_down_ = false;  // guarded by close_mutex_

  // Guarded by gate_ (changed only while it is held exclusively).
  std::map<std::string, std::shared_ptr<ColumnEntry>, std::less<>> columns_;
  std::vector<rocksdb::ColumnFamilyHandle*> other_handles_;  // default, foreign and dropped families

  std::array<UpdateStripe, kUpdateStripes> update_stripes_;
  std::array<ScanStripe, kLifecycleStripes> scan_stripes_;
  std::mutex scans_done_mutex_;
  std::condition_variable scans_done_;

  std::mutex registry_mutex_;
  std::unordered_set<CloseResource*> resources_;  // guarded by registry_mutex_

  OperationCounters counters_;
};

}  // namespace streamstate::internal
