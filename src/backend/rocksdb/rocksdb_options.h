// Translation of RocksDbBackendOptions into RocksDB's own option structs.
//
// It is the single place that decides how a streamstate option maps onto RocksDB, so that
// the backend and the benchmark's raw rocksdb::DB baseline run with identical settings:
//
//   auto native = streamstate::internal::make_rocksdb_options(options);
//   rocksdb::Options raw(native->db, native->column_family);
//   rocksdb::DB::Open(raw, path, &db);  then db->Get(native->read, ...), db->Put(native->write, ...)
//
// Thread-safety: reentrant. The returned structs hold shared_ptrs to the block cache and the
// write buffer manager, so every DB opened with them shares those.
#pragma once

#include <rocksdb/options.h>

#include "streamstate/rocksdb.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct RocksDbNativeOptions {
  // create_if_missing, max_background_jobs, write_buffer_manager (memory budget), log limits,
  // wal_recovery_mode (to_rocksdb_wal_recovery), statistics (with native_statistics).
  rocksdb::DBOptions db;
  // write_buffer_size, compression, bottommost_compression, block-based table with the block
  // cache and a Bloom filter. Used for every column family of the backend.
  rocksdb::ColumnFamilyOptions column_family;
  // RocksDB's defaults; the backend uses these for every get.
  rocksdb::ReadOptions read;
  // disableWAL = !enable_wal, sync = (sync == kEveryWrite).
  rocksdb::WriteOptions write;
};

// Checks every option; errors are InvalidArgument naming the option, the path and the fix.
Status validate_rocksdb_options(const RocksDbBackendOptions& options);

// Validates `options` and builds the RocksDB options for them (a new LRU block cache of
// block_cache_bytes unless options.shared_cache is set).
Result<RocksDbNativeOptions> make_rocksdb_options(const RocksDbBackendOptions& options);

// RocksDB's WAL recovery mode for ours: kFailOnCorruption is kTolerateCorruptedTailRecords,
// kPointInTime is kPointInTimeRecovery.
rocksdb::WALRecoveryMode to_rocksdb_wal_recovery(WalRecovery recovery);

// RocksDB's compression for ours; InvalidArgument naming `option_name` when the RocksDB
// library in use was built without it.
Result<rocksdb::CompressionType> to_rocksdb_compression(CompressionType type, const char* option_name);

}  // namespace streamstate::internal
