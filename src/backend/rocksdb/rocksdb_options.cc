#include "backend/rocksdb/rocksdb_options.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backend/rocksdb/rocksdb_cache.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

constexpr uint64_t kMinWriteBufferBytes = uint64_t{64} << 10;
// Bits per key of the Bloom filter: about 1% false positives, so a get of an absent key
// rarely reads a data block.
constexpr double kBloomBitsPerKey = 10.0;
// RocksDB writes an info LOG into the database directory; keep only a few old ones.
constexpr size_t kKeptInfoLogFiles = 4;

std::string in_path(const RocksDbBackendOptions& options) {
  return " (RocksDB backend at '" + options.path + "')";
}

}  // namespace

Status validate_rocksdb_options(const RocksDbBackendOptions& options) {
  if (options.path.empty()) {
    return Status::invalid_argument(
        "RocksDbBackendOptions.path is empty: set it to the directory of the database");
  }
  if (options.shared_cache == nullptr && options.block_cache_bytes == 0) {
    return Status::invalid_argument("RocksDbBackendOptions.block_cache_bytes is 0" + in_path(options) +
                                    ": give a positive size (default 128 MiB) or a shared_cache");
  }
  if (options.write_buffer_bytes < kMinWriteBufferBytes) {
    return Status::invalid_argument("RocksDbBackendOptions.write_buffer_bytes is " +
                                    std::to_string(options.write_buffer_bytes) + in_path(options) +
                                    ": the minimum is 65536 (64 KiB); the default is 64 MiB");
  }
  if (options.background_threads < 1) {
    return Status::invalid_argument("RocksDbBackendOptions.background_threads is " +
                                    std::to_string(options.background_threads) + in_path(options) +
                                    ": at least 1 thread is needed for flushes and compactions");
  }
  if (options.sync == SyncPolicy::kEveryWrite && !options.enable_wal) {
    return Status::invalid_argument("RocksDbBackendOptions.sync is kEveryWrite but enable_wal is false" +
                                    in_path(options) +
                                    ": syncing each write needs the write-ahead log; enable it or use kNone");
  }
  if (options.wal_recovery != WalRecovery::kFailOnCorruption && options.wal_recovery != WalRecovery::kPointInTime) {
    return Status::invalid_argument("RocksDbBackendOptions.wal_recovery has an unknown value " +
                                    std::to_string(static_cast<int>(options.wal_recovery)) + in_path(options) +
                                    "; use kFailOnCorruption or kPointInTime");
  }
  if (options.sync != SyncPolicy::kNone && options.sync != SyncPolicy::kEveryWrite) {
    return Status::invalid_argument("RocksDbBackendOptions.sync has an unknown value " +
                                    std::to_string(static_cast<int>(options.sync)) + in_path(options) +
                                    "; use kNone or kEveryWrite");
  }
  if (options.shared_cache != nullptr && native_block_cache(*options.shared_cache) == nullptr) {
    return Status::invalid_argument("RocksDbBackendOptions.shared_cache" + in_path(options) +
                                    " was not made by RocksDbCache::create; create it with that function");
  }
  return Status::ok();
}

Result<rocksdb::CompressionType> to_rocksdb_compression(CompressionType type, const char* option_name) {
  rocksdb::CompressionType native = rocksdb::kNoCompression;
  switch (type) {
    case CompressionType::kNone:
      return rocksdb::kNoCompression;
    case CompressionType::kLz4:
      native = rocksdb::kLZ4Compression;
      break;
    case CompressionType::kSnappy:
      native = rocksdb::kSnappyCompression;
      break;
    case CompressionType::kZstd:
      native = rocksdb::kZSTD;
      break;
    default:
      return Status::invalid_argument(std::string("RocksDbBackendOptions.") + option_name +
                                      " has an unknown value " + std::to_string(static_cast<int>(type)) +
                                      "; use kNone, kLz4, kSnappy or kZstd");
  }
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), native) == supported.end()) {
    return Status::invalid_argument(
        std::string("RocksDbBackendOptions.") + option_name + " is " + std::string(compression_name(type)) +
        ", which the installed RocksDB library was built without; choose another");
  }
  return native;
}

rocksdb::WALRecoveryMode to_rocksdb_wal_recovery(WalRecovery recovery) {
  // kAbsoluteConsistency would also refuse the torn last record a crash leaves behind, so a
  // store could not reopen after a kill; kTolerateCorruptedTailRecords accepts that record only.
  return recovery == WalRecovery::kPointInTime ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
                                               : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
}

Result<RocksDbNativeOptions> make_rocksdb_options(const RocksDbBackendOptions& options) {
  STREAMSTATE_RETURN_IF_ERROR(validate_rocksdb_options(options));
  RocksDbNativeOptions native;

  std::shared_ptr<rocksdb::Cache> cache =
      options.shared_cache != nullptr ? native_block_cache(*options.shared_cache)
                                      : rocksdb::NewLRUCache(static_cast<size_t>(options.block_cache_bytes));

  native.db.create_if_missing = options.create_if_missing;
  native.db.create_missing_column_families = true;
  // RocksDB grows its shared background pools to what every open DB asks for.
  native.db.max_background_jobs = options.background_threads;
  native.db.keep_log_file_num = kKeptInfoLogFiles;
  native.db.wal_recovery_mode = to_rocksdb_wal_recovery(options.wal_recovery);
  if (options.native_statistics) native.db.statistics = rocksdb::CreateDBStatistics();
  if (options.memory_budget_bytes > 0) {
    // Charged to the block cache, so memtables and cached blocks share one bound.
    native.db.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
        static_cast<size_t>(options.memory_budget_bytes), cache);
  }

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey));
  native.column_family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  native.column_family.write_buffer_size = static_cast<size_t>(options.write_buffer_bytes);
  STREAMSTATE_ASSIGN_OR_RETURN(native.column_family.compression,
                               to_rocksdb_compression(options.compression, "compression"));
  STREAMSTATE_ASSIGN_OR_RETURN(
      native.column_family.bottommost_compression,
      to_rocksdb_compression(options.bottommost_compression, "bottommost_compression"));

  native.write.disableWAL = !options.enable_wal;
  native.write.sync = options.sync == SyncPolicy::kEveryWrite;
  return native;
}

}  // namespace streamstate::internal
