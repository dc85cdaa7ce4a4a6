#include "backend/rocksdb/rocksdb_engine.h"

#include <rocksdb/statistics.h>

#include <cstdint>
#include <utility>

#include "backend/rocksdb/expiry_compaction_filter.h"
#include "backend/rocksdb/rocksdb_status.h"

namespace streamstate::internal {
namespace {

// The innermost scan the current thread is running (its visitor may start another).
thread_local const RocksDbEngine::ActiveScan* t_innermost_scan = nullptr;

bool has_prefix(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

RocksDbEngine::RocksDbEngine(RocksDbBackendOptions options, RocksDbNativeOptions native,
                             std::unique_ptr<WalReplayMeter> meter, std::unique_ptr<rocksdb::DB> db,
                             const std::vector<std::string>& family_names,
                             const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                             const RocksDbStatistics& recovery)
    : options_(std::move(options)),
      native_(std::move(native)),
      expiring_family_options_(expiring_column_family_options(native_.column_family, options_.clock)),
      recovery_(recovery),
      meter_(std::move(meter)),
      db_(std::move(db)) {
  for (size_t i = 0; i < handles.size(); ++i) {
    const std::string& family = family_names[i];
    const bool expiring = has_prefix(family, kExpiringColumnFamilyPrefix);
    std::string name;
    if (expiring || has_prefix(family, kColumnFamilyPrefix)) {
      name = family.substr(expiring ? kExpiringColumnFamilyPrefix.size() : kColumnFamilyPrefix.size());
    }
    // A name present under both prefixes cannot be made by this backend; the second family
    // stays hidden like a foreign one rather than shadowing the first.
    if (!name.empty() && columns_.find(name) == columns_.end()) {
      auto entry = std::make_shared<ColumnEntry>();
      entry->name = std::move(name);
      entry->handle = handles[i];
      entry->values_carry_expiry = expiring;
      columns_.emplace(entry->name, std::move(entry));
    } else {
      // "default", or a family some other program created: opened (RocksDB requires it) but
      // never shown as a column.
      other_handles_.push_back(handles[i]);
    }
  }
}

RocksDbEngine::~RocksDbEngine() {
  // Errors cannot be reported from a destructor; close() explicitly to see them.
  (void)close();
}

RocksDbStatistics RocksDbEngine::rocksdb_statistics() const {
  RocksDbStatistics statistics = recovery_;
  if (const rocksdb::Statistics* native = native_.db.statistics.get(); native != nullptr) {
    statistics.wal_syncs = native->getTickerCount(rocksdb::WAL_FILE_SYNCED);
    statistics.wal_bytes_written = native->getTickerCount(rocksdb::WAL_FILE_BYTES);
    statistics.writes_with_wal = native->getTickerCount(rocksdb::WRITE_WITH_WAL);
  }
  return statistics;
}

Status RocksDbEngine::closed_status() const {
  return Status::closed("the RocksDB backend at '" + options_.path +
                        "' is closed; open it again to use its data");
}

std::string RocksDbEngine::describe(std::string_view column) const {
  return "column '" + std::string(column) + "' of the RocksDB backend at '" + options_.path + "'";
}

const ColumnEntry* RocksDbEngine::find_column(std::string_view name) const {
  auto it = columns_.find(name);
  return it == columns_.end() ? nullptr : it->second.get();
}

std::vector<std::string> RocksDbEngine::column_names() const {
  std::vector<std::string> names;
  names.reserve(columns_.size());
  for (const auto& [name, entry] : columns_) names.push_back(name);
  return names;
}

std::vector<rocksdb::ColumnFamilyHandle*> RocksDbEngine::live_handles() const {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  handles.reserve(columns_.size());
  for (const auto& [name, entry] : columns_) handles.push_back(entry->handle);
  return handles;
}

std::map<std::string, std::shared_ptr<const ColumnEntry>, std::less<>> RocksDbEngine::column_entries() const {
  std::map<std::string, std::shared_ptr<const ColumnEntry>, std::less<>> entries;
  for (const auto& [name, entry] : columns_) entries.emplace(name, entry);
  return entries;
}

Result<std::shared_ptr<const ColumnEntry>> RocksDbEngine::open_column(std::string_view name,
                                                                     const ColumnOptions* options) {
  const bool expiring = options != nullptr && options->values_carry_expiry;
  // An existing column, or an error when its fixed options differ from the requested ones.
  const auto existing =
      [&](const std::shared_ptr<ColumnEntry>& entry) -> Result<std::shared_ptr<const ColumnEntry>> {
    if (options != nullptr && entry->values_carry_expiry != expiring) {
      return Status::invalid_argument(describe(name) + " was created with values_carry_expiry=" +
                                      (entry->values_carry_expiry ? "true" : "false") +
                                      " and cannot be opened with values_carry_expiry=" +
                                      (expiring ? "true" : "false") +
                                      "; open it with the options it was created with, or drop it first");
    }
    return std::shared_ptr<const ColumnEntry>(entry);
  };
  {
    auto hold = gate_.shared();
    if (closed_) return closed_status();
    auto it = columns_.find(name);
    if (it != columns_.end()) return existing(it->second);
  }
  auto hold = gate_.exclusive();
  if (closed_) return closed_status();
  auto it = columns_.find(name);
  if (it != columns_.end()) return existing(it->second);
  auto entry = std::make_shared<ColumnEntry>();
  entry->name = std::string(name);
  entry->values_carry_expiry = expiring;
  // The prefix records the flag on disk, so a reopen installs the filter again.
  const std::string family =
      std::string(expiring ? kExpiringColumnFamilyPrefix : kColumnFamilyPrefix) + entry->name;
  const rocksdb::ColumnFamilyOptions& family_options =
      expiring ? expiring_family_options_ : native_.column_family;
  rocksdb::Status status = db_->CreateColumnFamily(family_options, family, &entry->handle);
  if (!status.ok()) return from_rocksdb(status, "cannot create " + describe(name));
  columns_.emplace(entry->name, entry);
  return std::shared_ptr<const ColumnEntry>(std::move(entry));
}

Status RocksDbEngine::drop_column(std::string_view name) {
  auto hold = gate_.exclusive();
  if (closed_) return closed_status();
  auto it = columns_.find(name);
  if (it == columns_.end()) {
    return Status::not_found("cannot drop " + describe(name) + ": no such column");
  }
  rocksdb::Status status = db_->DropColumnFamily(it->second->handle);
  if (!status.ok()) return from_rocksdb(status, "cannot drop " + describe(name));
  it->second->dropped = true;
  // Snapshots taken before the drop may still read through this handle; it is destroyed
  // with the others at close().
  other_handles_.push_back(it->second->handle);
  columns_.erase(it);
  return Status::ok();
}

std::mutex& RocksDbEngine::update_mutex(const ColumnEntry& column, BytesView key) {
  const size_t key_hash = std::hash<std::string_view>{}(key);
  const auto column_hash = static_cast<size_t>(reinterpret_cast<uintptr_t>(&column) >> 4);
  return update_stripes_[(key_hash ^ (column_hash * 0x9E3779B97F4A7C15ULL)) % kUpdateStripes].mutex;
}

void RocksDbEngine::register_resource(CloseResource* resource) {
  std::lock_guard<std::mutex> lock(registry_mutex_);
  resources_.insert(resource);
}

void RocksDbEngine::release(CloseResource* resource) {
  std::lock_guard<std::mutex> lock(registry_mutex_);
  if (resources_.erase(resource) > 0) resource->release_native();
}

RocksDbEngine::ActiveScan::ActiveScan(RocksDbEngine& engine)
    : engine_(&engine), stripe_(this_thread_stripe()), outer_(t_innermost_scan) {
  engine_->scan_stripes_[stripe_].active.fetch_add(1, std::memory_order_seq_cst);
  t_innermost_scan = this;
}

RocksDbEngine::ActiveScan::~ActiveScan() {
  t_innermost_scan = outer_;
  engine_->scan_stripes_[stripe_].active.fetch_sub(1, std::memory_order_seq_cst);
  if (engine_->closing_.load(std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> lock(engine_->scans_done_mutex_);
    engine_->scans_done_.notify_all();
  }
}

bool RocksDbEngine::in_scan_on_this_thread() const {
  for (const ActiveScan* scan = t_innermost_scan; scan != nullptr; scan = scan->outer_) {
    if (scan->engine_ == this) return true;
  }
  return false;
}

int64_t RocksDbEngine::active_scans() const {
  int64_t total = 0;
  for (const ScanStripe& stripe : scan_stripes_) total += stripe.active.load(std::memory_order_seq_cst);
  return total;
}

Status RocksDbEngine::close() {
  if (in_scan_on_this_thread()) {
    return Status::failed_precondition("close() of the RocksDB backend at '" + options_.path +
                                       "' was called from inside a scan visitor; stop the scan first");
  }
  std::lock_guard<std::mutex> lock(close_mutex_);
  if (torn_down_) return Status::ok();
  {
    // Waits for every operation in flight; later ones see closed_ and touch nothing.
    auto hold = gate_.exclusive();
    closed_ = true;
    closing_.store(true, std::memory_order_seq_cst);
  }
  {
    std::unique_lock<std::mutex> wait_lock(scans_done_mutex_);
    scans_done_.wait(wait_lock, [this] { return active_scans() == 0; });
  }
  torn_down_ = true;
  return teardown();
}

Status RocksDbEngine::teardown() {
  Status result;
  if (!options_.enable_wal) {
    // Without a log, memtables hold the only copy of recent writes: persist them.
    std::vector<rocksdb::ColumnFamilyHandle*> handles = live_handles();
    if (!handles.empty()) {
      rocksdb::FlushOptions flush;
      flush.wait = true;
      result = from_rocksdb(db_->Flush(flush, handles),
                            "close of the RocksDB backend at '" + options_.path + "': flushing memtables");
    }
  }
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    for (CloseResource* resource : resources_) resource->release_native();
    resources_.clear();
  }
  for (auto& [name, entry] : columns_) {
    (void)db_->DestroyColumnFamilyHandle(entry->handle);
    entry->handle = nullptr;
  }
  for (rocksdb::ColumnFamilyHandle* handle : other_handles_) (void)db_->DestroyColumnFamilyHandle(handle);
  other_handles_.clear();
  rocksdb::Status closed = db_->Close();
  db_.reset();
  if (result.is_ok() && !closed.ok()) {
    result = from_rocksdb(closed, "close of the RocksDB backend at '" + options_.path + "'");
  }
  return result;
}

}  // namespace streamstate::internal
