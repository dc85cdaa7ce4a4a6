// RocksDbBackend::open and the backend object: column management, batches, snapshots,
// statistics and maintenance over a RocksDbEngine. Column operations are in rocksdb_column.cc.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <system_error>

#include "backend/rocksdb/expiry_compaction_filter.h"
#include "backend/rocksdb/rocksdb_column.h"
#include "backend/rocksdb/rocksdb_engine.h"
#include "backend/rocksdb/rocksdb_native_checkpoint.h"
#include "backend/rocksdb/rocksdb_options.h"
#include "backend/rocksdb/rocksdb_snapshot.h"
#include "backend/rocksdb/rocksdb_status.h"
#include "backend/rocksdb/wal_replay_meter.h"
#include "util/status_macros.h"

namespace streamstate {
namespace {

using internal::ColumnEntry;
using internal::OperationCounters;
using internal::RocksDbEngine;

class RocksDbBackendImpl final : public RocksDbBackend {
 public:
  explicit RocksDbBackendImpl(std::shared_ptr<RocksDbEngine> engine) : engine_(std::move(engine)) {}
  ~RocksDbBackendImpl() override { (void)engine_->close(); }
  RocksDbBackendImpl(const RocksDbBackendImpl&) = delete;
  RocksDbBackendImpl& operator=(const RocksDbBackendImpl&) = delete;

  std::string_view kind() const override { return "rocksdb"; }
  BackendCapabilities capabilities() const override {
    return {.ordered_scan = true, .persistent = true, .thread_safe = true, .shared_between_processes = false};
  }
  const std::string& path() const override { return engine_->path(); }

  // Opens an existing column whatever its options, or creates one with default options.
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override {
    return open_column(name, nullptr);
  }

  // As column(), but an existing column must have been created with the same options.
  Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name,
                                                           const ColumnOptions& options) override {
    return open_column(name, &options);
  }

  Result<std::vector<std::string>> list_columns() override {
    auto hold = engine_->hold_shared();
    if (engine_->closed()) return engine_->closed_status();
    return engine_->column_names();
  }

  Status drop_column(std::string_view name) override { return engine_->drop_column(name); }

  Status write(const WriteBatch& batch) override;
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override;
  BackendStatistics statistics() const override;
  Status flush() override;
  Status close() override { return engine_->close(); }
  Result<uint64_t> size_on_disk() override;
  Status compact() override;
  RocksDbStatistics rocksdb_statistics() const override { return engine_->rocksdb_statistics(); }
  Result<RocksDbCheckpointInfo> create_native_checkpoint(const std::string& directory) override {
    return internal::create_native_checkpoint(*engine_, directory);
  }
  Status ingest_sorted(std::string_view column, const std::function<Status(const IngestAdd& add)>& produce) override {
    return internal::ingest_sorted(*engine_, column, produce);
  }
  Status retain_key_groups(const KeyGroupRange& keep, const std::vector<std::string>& columns) override {
    return internal::retain_key_groups(*engine_, keep, columns);
  }

 private:
  Result<std::shared_ptr<StateColumn>> open_column(std::string_view name, const ColumnOptions* options) {
    STREAMSTATE_RETURN_IF_ERROR(validate_column_name(name));
    STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<const ColumnEntry> entry,
                                 engine_->open_column(name, options));
    return std::shared_ptr<StateColumn>(std::make_shared<internal::RocksDbColumn>(engine_, std::move(entry)));
  }

  std::shared_ptr<RocksDbEngine> engine_;
};

Status RocksDbBackendImpl::write(const WriteBatch& batch) {
  auto hold = engine_->hold_shared();
  if (engine_->closed()) return engine_->closed_status();
  rocksdb::WriteBatch native;
  const ColumnEntry* column = nullptr;
  uint64_t puts = 0;
  rocksdb::Status status;
  for (const WriteBatch::Operation& operation : batch.operations()) {
    // Batches usually touch one column many times in a row: look it up only on a change.
    if (column == nullptr || column->name != operation.column) {
      column = engine_->find_column(operation.column);
      if (column == nullptr) {
        return Status::not_found(engine_->describe(operation.column) +
                                 " does not exist; open it with column() before writing to it "
                                 "(nothing of the batch was applied)");
      }
    }
    if (operation.type == WriteBatch::OperationType::kPut) {
      status =
          native.Put(column->handle, internal::to_slice(operation.key), internal::to_slice(operation.value));
      ++puts;
    } else {
      status = native.Delete(column->handle, internal::to_slice(operation.key));
    }
    if (!status.ok()) {
      return internal::from_rocksdb(status, "write batch on " + engine_->describe(operation.column));
    }
  }
  status = engine_->db()->Write(engine_->write_options(), &native);
  if (!status.ok()) {
    return internal::from_rocksdb(status, "write of a batch of " + std::to_string(batch.size()) +
                                              " operations to the RocksDB backend at '" + engine_->path() +
                                              "'");
  }
  OperationCounters& counters = engine_->counters();
  counters.add(OperationCounters::kBatches);
  if (puts > 0) counters.add(OperationCounters::kPuts, puts);
  if (batch.size() > puts) counters.add(OperationCounters::kRemoves, batch.size() - puts);
  return Status::ok();
}

Result<std::unique_ptr<BackendSnapshot>> RocksDbBackendImpl::snapshot() {
  auto hold = engine_->hold_shared();
  if (engine_->closed()) return engine_->closed_status();
  return std::unique_ptr<BackendSnapshot>(std::make_unique<internal::RocksDbSnapshot>(engine_));
}

BackendStatistics RocksDbBackendImpl::statistics() const {
  BackendStatistics statistics;
  engine_->counters().sum_into(statistics);
  auto hold = engine_->hold_shared();
  if (engine_->closed()) return statistics;
  for (rocksdb::ColumnFamilyHandle* handle : engine_->live_handles()) {
    uint64_t value = 0;
    if (engine_->db()->GetIntProperty(handle, rocksdb::DB::Properties::kEstimateNumKeys, &value)) {
      statistics.live_entries += value;
    }
    if (engine_->db()->GetIntProperty(handle, rocksdb::DB::Properties::kLiveSstFilesSize, &value)) {
      statistics.bytes_in_use += value;
    }
    if (engine_->db()->GetIntProperty(handle, rocksdb::DB::Properties::kCurSizeAllMemTables, &value)) {
      statistics.bytes_in_use += value;
    }
  }
  return statistics;
}

Status RocksDbBackendImpl::flush() {
  auto hold = engine_->hold_shared();
  if (engine_->closed()) return engine_->closed_status();
  const std::string context = "flush of the RocksDB backend at '" + engine_->path() + "'";
  if (engine_->options().enable_wal) {
    STREAMSTATE_RETURN_IF_ERROR(internal::from_rocksdb(engine_->db()->FlushWAL(/*sync=*/true), context));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles = engine_->live_handles();
  if (handles.empty()) return Status::ok();
  rocksdb::FlushOptions options;
  options.wait = true;
  return internal::from_rocksdb(engine_->db()->Flush(options, handles), context);
}

Result<uint64_t> RocksDbBackendImpl::size_on_disk() {
  auto hold = engine_->hold_shared();
  if (engine_->closed()) return engine_->closed_status();
  std::error_code error;
  uint64_t total = 0;
  std::filesystem::directory_iterator it(engine_->path(), error);
  for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    // Files come and go under compaction: one that vanished between listing and stat counts 0.
    std::error_code file_error;
    if (!it->is_regular_file(file_error)) continue;
    const uintmax_t size = it->file_size(file_error);
    if (!file_error) total += size;
  }
  if (error) {
    return Status::io_error("cannot list the RocksDB directory '" + engine_->path() +
                            "': " + error.message());
  }
  return total;
}

Status RocksDbBackendImpl::compact() {
  auto hold = engine_->hold_shared();
  if (engine_->closed()) return engine_->closed_status();
  rocksdb::CompactRangeOptions options;
  // Rewrites the bottommost level too, so that its compression and removed entries apply.
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (const std::string& name : engine_->column_names()) {
    const ColumnEntry* column = engine_->find_column(name);
    rocksdb::Status status = engine_->db()->CompactRange(options, column->handle, nullptr, nullptr);
    if (!status.ok()) return internal::from_rocksdb(status, "compaction of " + engine_->describe(name));
  }
  return Status::ok();
}

// The column families stored at options.path ("default" alone for a new database).
Result<std::vector<std::string>> existing_column_families(const RocksDbBackendOptions& options,
                                                          const rocksdb::DBOptions& db_options) {
  std::error_code error;
  const bool exists = std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", error);
  if (!exists) {
    if (!options.create_if_missing) {
      return Status::not_found("no RocksDB database at '" + options.path +
                               "' and create_if_missing is false; check the path or allow creating it");
    }
    return std::vector<std::string>{rocksdb::kDefaultColumnFamilyName};
  }
  std::vector<std::string> families;
  rocksdb::Status status = rocksdb::DB::ListColumnFamilies(db_options, options.path, &families);
  if (!status.ok()) {
    return internal::from_rocksdb(
        status, "cannot list the column families of the RocksDB database at '" + options.path + "'");
  }
  return families;
}

Status open_error(const rocksdb::Status& status, const std::string& path, const internal::WalReplayMeter& meter) {
  const std::string context = "cannot open the RocksDB database at '" + path + "'";
  if (internal::is_lock_error(status)) {
    return Status::io_error(context + ": another process or backend holds its lock (" +
                            internal::rocksdb_message(status) +
                            "); close the other backend first or use another path");
  }
  if (status.IsCorruption()) {
    const internal::DamagedWal damaged = meter.first_damaged();
    if (!damaged.path.empty()) {
      return Status::corruption(
          context + ": its write-ahead log '" + damaged.path + "' is damaged after byte " +
          std::to_string(damaged.replayed_bytes) + " of " + std::to_string(damaged.size) + " (" +
          internal::rocksdb_message(status) +
          "); nothing was dropped. Restore the directory from a copy, or open it with "
          "wal_recovery = WalRecovery::kPointInTime to drop the writes logged after the damage");
    }
  }
  Status error = internal::from_rocksdb(status, context);
  if (error.code() != StatusCode::kIoError) return error;
  return Status::io_error(error.message() + "; check that the path is a directory this process can write to");
}

// Writes the figures of a recovery that dropped log bytes to RocksDB's LOG.
void log_dropped_wal_bytes(rocksdb::DB& db, const RocksDbStatistics& recovery, const internal::WalReplayMeter& meter) {
  const internal::DamagedWal damaged = meter.first_damaged();
  const std::string line = "streamstate: write-ahead log recovery dropped " +
                           std::to_string(recovery.wal_bytes_dropped) + " of " +
                           std::to_string(recovery.wal_bytes_at_open) + " bytes, from '" + damaged.path +
                           "' after byte " + std::to_string(damaged.replayed_bytes);
  rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, db.GetDBOptions().info_log, "%s", line.c_str());
}

// Reads every table file and checks its block checksums (verify_checksums_on_open).
Status verify_table_checksums(rocksdb::DB& db, const std::string& path) {
  rocksdb::Status status = db.VerifyChecksum();
  if (status.ok()) return Status::ok();
  const std::string context = "cannot open the RocksDB database at '" + path + "'";
  if (!status.IsCorruption()) {
    return internal::from_rocksdb(status, context + ": reading table files for verify_checksums_on_open");
  }
  return Status::corruption(context + ": verify_checksums_on_open found a damaged table file (" +
                            internal::rocksdb_message(status) + "); restore the directory from a copy");
}

}  // namespace

Result<std::unique_ptr<RocksDbBackend>> RocksDbBackend::open(const RocksDbBackendOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(internal::RocksDbNativeOptions native,
                               internal::make_rocksdb_options(options));
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<std::string> families,
                               existing_column_families(options, native.db));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(families.size());
  // Expiring columns get their compaction filter from the start, before any compaction runs.
  const rocksdb::ColumnFamilyOptions expiring =
      internal::expiring_column_family_options(native.column_family, options.clock);
  for (const std::string& family : families) {
    const bool is_expiring = family.compare(0, internal::kExpiringColumnFamilyPrefix.size(),
                                            internal::kExpiringColumnFamilyPrefix) == 0;
    descriptors.emplace_back(family, is_expiring ? expiring : native.column_family);
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<internal::WalFile> wal_files, internal::list_wal_files(options.path));
  auto meter = std::make_unique<internal::WalReplayMeter>(std::move(wal_files));
  native.db.wal_filter = meter.get();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(native.db, options.path, descriptors, &handles, &raw_db);
  if (!status.ok()) return open_error(status, options.path, *meter);
  std::unique_ptr<rocksdb::DB> db(raw_db);
  RocksDbStatistics recovery;
  meter->fill(recovery);
  if (recovery.wal_bytes_dropped > 0) log_dropped_wal_bytes(*db, recovery, *meter);
  Status verified = options.verify_checksums_on_open ? verify_table_checksums(*db, options.path) : Status::ok();
  auto engine = std::make_shared<RocksDbEngine>(options, std::move(native), std::move(meter), std::move(db),
                                                families, handles, recovery);
  if (!verified.is_ok()) {
    (void)engine->close();
    return verified;
  }
  return std::unique_ptr<RocksDbBackend>(std::make_unique<RocksDbBackendImpl>(std::move(engine)));
}

}  // namespace streamstate
