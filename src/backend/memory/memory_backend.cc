// MemoryBackendImpl: the column registry, batches, snapshots and lifecycle of the memory
// backend; the data itself lives in MemoryStore (see memory_store.h).
//
// Locking: registry_mutex_ guards the column registry. Batches and snapshots hold it shared
// while they resolve columns and lock shards; creating and dropping a column hold it
// exclusively, so a column cannot vanish in the middle of a batch or appear half-way through a
// snapshot. The order is always registry first, then shards in increasing index.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "backend/memory/cleanup_thread.h"
#include "backend/memory/memory_backend_internal.h"
#include "backend/memory/memory_change_tracker.h"
#include "backend/memory/memory_column.h"
#include "backend/memory/memory_options.h"
#include "backend/memory/memory_snapshot.h"
#include "backend/memory/memory_store.h"
#include "streamstate/memory.h"

namespace streamstate {
namespace {

using internal::ColumnState;
using internal::MemoryStore;

class MemoryBackendImpl final : public MemoryBackend {
 public:
  explicit MemoryBackendImpl(internal::ResolvedMemoryOptions options)
      : store_(std::make_shared<MemoryStore>(std::move(options))) {
    if (store_->options().track_changes) {
      change_tracker_ = std::make_unique<internal::MemoryChangeTracker>(
          *store_, [this](uint64_t* epoch) { return take_snapshot(epoch); });
    }
  }
  ~MemoryBackendImpl() override { (void)close(); }

  Status start_cleanup() {
    const int64_t interval = store_->options().cleanup_interval_millis;
    if (interval <= 0) return Status::ok();
    // The thread is stopped in close() (also run by the destructor) before the backend goes away.
    return cleanup_thread_.start(std::chrono::milliseconds(interval), [this] { (void)cleanup_expired(); });
  }

  std::string_view kind() const override { return "memory"; }
  BackendCapabilities capabilities() const override {
    return BackendCapabilities{.ordered_scan = false, .persistent = false, .thread_safe = true,
                               .shared_between_processes = false};
  }

  // Opens an existing column whatever its options, or creates one with default options.
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override {
    return open_column(name, nullptr);
  }

  // As column(), but an existing column must have been created with the same options: a
  // mismatch would make cleanup misread values (or never clean them).
  Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name,
                                                           const ColumnOptions& options) override {
    return open_column(name, &options);
  }

  Result<std::vector<std::string>> list_columns() override {
    std::shared_lock<std::shared_mutex> lock(registry_mutex_);
    if (store_->is_closed()) return MemoryStore::closed_status();
    std::vector<std::string> names;
    names.reserve(columns_.size());
    for (const auto& entry : columns_) names.push_back(entry.first);
    return names;
  }

  Status drop_column(std::string_view name) override {
    std::unique_lock<std::shared_mutex> lock(registry_mutex_);
    if (store_->is_closed()) return MemoryStore::closed_status();
    auto it = columns_.find(name);
    if (it == columns_.end()) {
      return Status::not_found("cannot drop column '" + std::string(name) + "': it does not exist");
    }
    std::shared_ptr<ColumnState> state = it->second;
    // Mark first: a handle's write that takes a shard lock after the sweep passed that shard
    // sees the flag and fails instead of leaving an entry behind.
    state->dropped.store(true, std::memory_order_relaxed);
    columns_.erase(it);
    store_->erase_column(*state);
    return Status::ok();
  }

  Status write(const WriteBatch& batch) override {
    std::shared_lock<std::shared_mutex> lock(registry_mutex_);
    if (store_->is_closed()) return MemoryStore::closed_status();
    std::vector<internal::ResolvedOperation> resolved;
    resolved.reserve(batch.size());
    ColumnState* last = nullptr;  // batches usually name one column many times
    for (const WriteBatch::Operation& operation : batch.operations()) {
      if (last == nullptr || last->name != operation.column) {
        auto it = columns_.find(operation.column);
        if (it == columns_.end()) {
          return Status::not_found("write batch names column '" + operation.column +
                                   "', which does not exist; open it with column() first (nothing was written)");
        }
        last = it->second.get();
      }
      if (operation.type == WriteBatch::OperationType::kPut) {
        Status size = store_->check_entry_size(operation.column, operation.key, operation.value.size());
        if (!size.is_ok()) return size.with_context("write batch (nothing was written)");
      }
      resolved.push_back(internal::ResolvedOperation{&operation, last});
    }
    return store_->apply_batch(resolved);
  }

  Status put_entries(std::string_view column, std::span<const std::pair<BytesView, BytesView>> entries) override {
    std::shared_lock<std::shared_mutex> lock(registry_mutex_);
    if (store_->is_closed()) return MemoryStore::closed_status();
    auto it = columns_.find(column);
    if (it == columns_.end()) {
      return Status::not_found("put_entries names column '" + std::string(column) +
                               "', which does not exist; open it with column() first");
    }
    for (const auto& [key, value] : entries) {
      Status size = store_->check_entry_size(column, key, value.size());
      if (!size.is_ok()) return size.with_context("put_entries (nothing was written)");
    }
    return store_->put_entries(*it->second, entries);
  }

  Result<std::unique_ptr<BackendSnapshot>> snapshot() override { return take_snapshot(nullptr); }

  ChangeTracker* change_tracker() override { return change_tracker_.get(); }

  // A snapshot; with `epoch`, also the change epoch it closes (change tracking).
  Result<std::unique_ptr<BackendSnapshot>> take_snapshot(uint64_t* epoch) {
    auto log = std::make_unique<internal::SnapshotLog>(store_->options().shard_count, store_->snapshot_images_hints());
    std::vector<std::shared_ptr<ColumnState>> columns;
    int64_t taken_at = 0;
    {
      std::shared_lock<std::shared_mutex> lock(registry_mutex_);
      if (store_->is_closed()) return MemoryStore::closed_status();
      columns = registered_columns();
      Status status = store_->capture(*log, taken_at, epoch);
      if (!status.is_ok()) return status;
    }
    // From here on the state unregisters the log when the last iterator goes.
    auto state = std::make_shared<internal::SnapshotState>(store_, std::move(columns), std::move(log), taken_at);
    return std::unique_ptr<BackendSnapshot>(std::make_unique<internal::MemorySnapshot>(std::move(state)));
  }

  BackendStatistics statistics() const override { return store_->statistics(); }
  const MemoryStore& store() const { return *store_; }

  Status flush() override { return store_->is_closed() ? MemoryStore::closed_status() : Status::ok(); }

  Status close() override {
    if (!store_->mark_closed()) return Status::ok();
    cleanup_thread_.stop();
    std::unique_lock<std::shared_mutex> lock(registry_mutex_);
    store_->release_tables(registered_columns());
    columns_.clear();
    return Status::ok();
  }

  Result<uint64_t> cleanup_expired() override {
    std::vector<std::shared_ptr<ColumnState>> columns;
    {
      // A column dropped after this list was made is skipped (its entries are gone already).
      std::shared_lock<std::shared_mutex> lock(registry_mutex_);
      if (store_->is_closed()) return MemoryStore::closed_status();
      columns = registered_columns();
    }
    return store_->cleanup_expired(columns);
  }

 private:
  Result<std::shared_ptr<StateColumn>> open_column(std::string_view name, const ColumnOptions* options) {
    Status valid = validate_column_name(name);
    if (!valid.is_ok()) return valid;
    const bool carries_expiry = options != nullptr && options->values_carry_expiry;
    std::unique_lock<std::shared_mutex> lock(registry_mutex_);
    if (store_->is_closed()) return MemoryStore::closed_status();
    auto it = columns_.find(name);
    if (it == columns_.end()) {
      it = columns_.emplace(std::string(name), store_->new_column(std::string(name), carries_expiry)).first;
    } else if (options != nullptr && it->second->values_carry_expiry != carries_expiry) {
      return Status::invalid_argument("column '" + std::string(name) + "' was created with values_carry_expiry=" +
                                      (it->second->values_carry_expiry ? "true" : "false") +
                                      " and cannot be opened with values_carry_expiry=" +
                                      (carries_expiry ? "true" : "false") +
                                      "; open it with the options it was created with, or drop it first");
    }
    return std::shared_ptr<StateColumn>(std::make_shared<internal::MemoryColumn>(store_, it->second));
  }

  // Under registry_mutex_: the columns, sorted by name.
  std::vector<std::shared_ptr<ColumnState>> registered_columns() const {
    std::vector<std::shared_ptr<ColumnState>> columns;
    columns.reserve(columns_.size());
    for (const auto& entry : columns_) columns.push_back(entry.second);
    return columns;
  }

  const std::shared_ptr<MemoryStore> store_;
  internal::CleanupThread cleanup_thread_;
  std::unique_ptr<internal::MemoryChangeTracker> change_tracker_;  // with track_changes only
  std::shared_mutex registry_mutex_;
  std::map<std::string, std::shared_ptr<ColumnState>, std::less<>> columns_;
};

}  // namespace

uint64_t internal::entries_copied_for_snapshots(const MemoryBackend& backend) {
  return static_cast<const MemoryBackendImpl&>(backend).store().entries_copied_for_snapshots();
}

Result<std::unique_ptr<MemoryBackend>> MemoryBackend::open(const MemoryBackendOptions& options) {
  Result<internal::ResolvedMemoryOptions> resolved = internal::resolve_memory_options(options);
  if (!resolved.is_ok()) return resolved.status();
  auto backend = std::make_unique<MemoryBackendImpl>(std::move(resolved).value());
  Status started = backend->start_cleanup();
  if (!started.is_ok()) return started;
  return std::unique_ptr<MemoryBackend>(std::move(backend));
}

}  // namespace streamstate
