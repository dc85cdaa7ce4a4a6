// The embedded RocksDB backend, streamstate's persistent default. Each column is a RocksDB
// column family; writes go through RocksDB's write-ahead log (unless disabled) and survive a
// crash; close() and a reopen with the same path give back every acknowledged write. A log
// damaged anywhere but in its torn last record fails open() instead of losing writes silently
// (WalRecovery); docs/backends/rocksdb.md has the details.
//
// No RocksDB header is needed to use it: options are plain fields, and RocksDbCache lets
// several backends share one block cache.
//
// Thread-safety: all methods may be called from any thread. One directory can be open in one
// backend at a time; a second open of the same path fails with IoError naming the lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/clock.h"
#include "streamstate/compression.h"
#include "streamstate/durability.h"
#include "streamstate/key_group.h"
#include "streamstate/status.h"

namespace streamstate {

// A block cache that several RocksDbBackends may share.
class RocksDbCache {
 public:
  // An LRU block cache of `capacity_bytes` (must be > 0).
  static Result<std::shared_ptr<RocksDbCache>> create(uint64_t capacity_bytes);
  virtual ~RocksDbCache() = default;
  virtual uint64_t capacity_bytes() const = 0;
  virtual uint64_t usage_bytes() const = 0;
};

struct RocksDbBackendOptions {
  // Directory of the database. Required.
  std::string path;
  // Create the directory and database when missing. Default: true.
  bool create_if_missing = true;
  // Block cache size when no shared_cache is given; must be > 0. Default: 128 MiB.
  uint64_t block_cache_bytes = uint64_t{128} << 20;
  // A cache shared with other backends; overrides block_cache_bytes. Default: none.
  std::shared_ptr<RocksDbCache> shared_cache;
  // Memtable size per column family; must be >= 64 KiB. Default: 64 MiB.
  uint64_t write_buffer_bytes = uint64_t{64} << 20;
  // Bound on all memtables of this backend (a RocksDB WriteBufferManager charged to the block
  // cache); 0 = no bound. Default: 0.
  uint64_t memory_budget_bytes = 0;
  // Compression of levels 0 and 1 (fast). Default: LZ4.
  CompressionType compression = CompressionType::kLz4;
  // Compression of the bottommost level, where most data lives. Default: Zstd.
  CompressionType bottommost_compression = CompressionType::kZstd;
  // Write through RocksDB's write-ahead log. With false, writes since the last flush() are
  // lost on a crash. Default: true.
  bool enable_wal = true;
  // When a write reaches the disk (RocksDB's WriteOptions::sync; see durability.h).
  // Default: SyncPolicy::kNone.
  SyncPolicy sync = SyncPolicy::kNone;
  // What open() does with a damaged write-ahead log. Default: WalRecovery::kFailOnCorruption.
  WalRecovery wal_recovery = WalRecovery::kFailOnCorruption;
  // Reads every table file (SST) once at open and checks each block's checksum, failing open()
  // with kCorruption naming the file when one does not match. Open then takes time in
  // proportion to the data on disk; without it a damaged block is found when it is first read.
  // Default: false.
  bool verify_checksums_on_open = false;
  // Collects RocksDB's own statistics (tickers such as WAL syncs) for rocksdb_statistics();
  // costs a little on every operation. Default: false.
  bool native_statistics = false;
  // Background compaction and flush threads. Default: 2.
  int background_threads = 2;
  // Source of time for the compaction filter of expiring columns (ColumnOptions::
  // values_carry_expiry): compaction drops their entries whose expiry time has passed by this
  // clock. Default: null, meaning system_clock().
  std::shared_ptr<const Clock> clock;
};

// RocksDB-specific figures, beside the common StateBackend::statistics().
struct RocksDbStatistics {
  // Replay of the write-ahead log at open. wal_bytes_at_open is the size of the log files that
  // open() had to replay (older ones, already flushed to table files, are not counted);
  // wal_bytes_replayed is how far into them replay got, counted from the records RocksDB
  // handed back (their framing included); the difference is wal_bytes_dropped: the torn last
  // record of a crash, or with WalRecovery::kPointInTime everything after a damaged record.
  uint64_t wal_files_at_open = 0;
  uint64_t wal_bytes_at_open = 0;
  uint64_t wal_bytes_replayed = 0;
  uint64_t wal_bytes_dropped = 0;
  uint64_t wal_records_replayed = 0;
  // From RocksDB's statistics when RocksDbBackendOptions::native_statistics is on (0 otherwise):
  // syncs of the log file, bytes written to it, and writes that went through it.
  uint64_t wal_syncs = 0;
  uint64_t wal_bytes_written = 0;
  uint64_t writes_with_wal = 0;
};

// One file of a native checkpoint (RocksDbBackend::create_native_checkpoint).
struct RocksDbCheckpointFile {
  // The file's name in the checkpoint directory: "000012.sst", "MANIFEST-000008", "CURRENT",
  // "OPTIONS-000010".
  std::string name;
  uint64_t size = 0;
  // For table files (.sst): RocksDB's unique id of the table, in hex - the same for every copy
  // of the file in every checkpoint and different for any other table, so storage can keep one
  // copy per id and let later checkpoints refer to it. Empty for the other files, which belong
  // to one checkpoint.
  std::string shared_id;
};

struct RocksDbCheckpointInfo {
  std::string directory;
  std::vector<RocksDbCheckpointFile> files;  // sorted by name
  // RocksDB's sequence number of the last write the checkpoint holds.
  uint64_t sequence = 0;
};

class RocksDbBackend : public StateBackend {
 public:
  // Opens (or creates) the database; errors name the path and the option at fault. A damaged
  // write-ahead log or (with verify_checksums_on_open) table file is kCorruption naming it.
  static Result<std::unique_ptr<RocksDbBackend>> open(const RocksDbBackendOptions& options);

  virtual const std::string& path() const = 0;
  // Bytes of all live files of the database (SST, WAL, manifest).
  virtual Result<uint64_t> size_on_disk() = 0;
  // Compacts all columns fully (useful before measuring size or after mass deletes).
  virtual Status compact() = 0;
  // Recovery figures of the last open and RocksDB's own counters; still answers after close().
  virtual RocksDbStatistics rocksdb_statistics() const = 0;

  // ---- Native checkpoints (incremental checkpoints of RocksDB state; docs/backends/rocksdb.md)
  // Writes RocksDB's own checkpoint of the database into `directory`, which must not exist
  // (AlreadyExists otherwise): memtables are flushed first, then the live table files are
  // hard-linked (copied when `directory` is on another file system) and MANIFEST, OPTIONS and
  // CURRENT copied, so the directory alone opens as a database holding every write made
  // before the call (RocksDbBackend::open with that path). Writers go on meanwhile. The files
  // are listed with their sizes and, for tables, the id under which storage can share them.
  virtual Result<RocksDbCheckpointInfo> create_native_checkpoint(const std::string& directory) = 0;
  // Deletes every entry whose key group lies outside `keep` in the named columns (RocksDB
  // DeleteRange on the two-byte key-group prefix of state keys, docs/formats.md "State key";
  // cheap however many entries it covers). For a database restored from a checkpoint of a
  // wider key-group range. The columns must hold state keys only: name keyed-state columns,
  // never "_ss.states" or a ScratchState column. NotFound for a column that does not exist.
  virtual Status retain_key_groups(const KeyGroupRange& keep, const std::vector<std::string>& columns) = 0;

  // Bulk-loads entries into an existing column, which may hold others (restores that combine
  // checkpoints): `produce` calls `add` with keys in strictly ascending byte order; they go into
  // one table file beside the database, which RocksDB then ingests (IngestExternalFile), with
  // no memtable and no write-ahead log in between. An ingested key replaces the column's entry
  // of that key. A key out of order is InvalidArgument and nothing is loaded; an error `produce`
  // returns is returned and nothing is loaded. NotFound for a column that does not exist.
  using IngestAdd = std::function<Status(BytesView key, BytesView value)>;
  virtual Status ingest_sorted(std::string_view column, const std::function<Status(const IngestAdd& add)>& produce) = 0;
};

}  // namespace streamstate
