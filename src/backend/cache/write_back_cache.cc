// The WriteBackCache backend object, its column handles and change tracker: thin forwarders to
// CacheCore (cache_core.h), which they share so that handles outlive the backend object.
#include "streamstate/write_back_cache.h"

#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "backend/cache/cache_core.h"

namespace streamstate {

namespace {

using internal::CacheCore;
using internal::CachedColumn;

class CacheColumn final : public StateColumn {
 public:
  CacheColumn(std::shared_ptr<CacheCore> core, std::shared_ptr<CachedColumn> column)
      : core_(std::move(core)), column_(std::move(column)) {}

  const std::string& name() const override { return column_->name; }
  Result<bool> get_into(BytesView key, std::string& value) override { return core_->get(*column_, key, &value); }
  Status put(BytesView key, BytesView value) override { return core_->put(*column_, key, value); }
  Status remove(BytesView key) override { return core_->remove(*column_, key); }
  Result<bool> contains(BytesView key) override { return core_->get(*column_, key, nullptr); }
  Status update(BytesView key, const UpdateFunction& fn) override { return core_->update(*column_, key, fn); }
  Status scan(BytesView prefix, const ScanVisitor& visitor) override { return core_->scan(*column_, prefix, visitor); }
  Status clear() override { return core_->clear(*column_); }
  void reserve(uint64_t entries) override { column_->inner->reserve(entries); }

 private:
  std::shared_ptr<CacheCore> core_;
  std::shared_ptr<CachedColumn> column_;
};

// The inner backend's tracker, whose snapshots are taken after a flush, as snapshot()'s are.
class CacheChangeTracker final : public ChangeTracker {
 public:
  CacheChangeTracker(ChangeTracker& inner, std::shared_ptr<CacheCore> core) : inner_(inner), core_(std::move(core)) {}

  Result<TrackedSnapshot> snapshot_with_changes() override { return core_->snapshot_with_changes(inner_); }
  using ChangeTracker::confirm_changes;
  Status confirm_changes(uint64_t epoch, std::string base_label) override {
    return inner_.confirm_changes(epoch, std::move(base_label));
  }
  Status reset_changes() override { return inner_.reset_changes(); }
  uint64_t tracked_keys() const override { return inner_.tracked_keys(); }

 private:
  ChangeTracker& inner_;
  std::shared_ptr<CacheCore> core_;
};

class WriteBackCacheBackend final : public WriteBackCache {
 public:
  explicit WriteBackCacheBackend(std::shared_ptr<CacheCore> core) : core_(std::move(core)) {}
  // A cache dropped without close() still hands its writes to the inner backend.
  ~WriteBackCacheBackend() override {
    if (!core_->closed()) (void)core_->flush_dirty();
  }

  std::string_view kind() const override { return core_->inner().kind(); }
  // The inner backend's, except sharing between processes: another process does not see the
  // writes this cache holds, and this cache would not see its writes.
  BackendCapabilities capabilities() const override {
    BackendCapabilities capabilities = core_->inner().capabilities();
    capabilities.shared_between_processes = false;
    return capabilities;
  }
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override { return open(name, nullptr); }
  Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name,
                                                           const ColumnOptions& options) override {
    return open(name, &options);
  }
  Result<std::vector<std::string>> list_columns() override { return core_->list_columns(); }
  Status drop_column(std::string_view name) override { return core_->drop_column(name); }
  Status write(const WriteBatch& batch) override { return core_->write(batch); }
  Status put_entries(std::string_view column,
                     std::span<const std::pair<BytesView, BytesView>> entries) override {
    return core_->put_entries(column, entries);
  }
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override { return core_->snapshot(); }
  ChangeTracker* change_tracker() override {
    std::call_once(tracker_once_, [this] {
      if (ChangeTracker* inner = core_->inner().change_tracker()) {
        tracker_ = std::make_unique<CacheChangeTracker>(*inner, core_);
      }
    });
    return tracker_.get();
  }
  BackendStatistics statistics() const override { return core_->statistics(); }
  Status flush() override {
    if (Status status = core_->flush_dirty(); !status.is_ok()) return status;
    return core_->inner().flush();
  }
  Status close() override { return core_->close(); }

  Status write_back() override { return core_->flush_dirty(); }
  WriteBackCacheStatistics cache_statistics() const override { return core_->cache_statistics(); }
  StateBackend& inner() override { return core_->inner(); }

 private:
  Result<std::shared_ptr<StateColumn>> open(std::string_view name, const ColumnOptions* options) {
    Result<std::shared_ptr<CachedColumn>> column = core_->open_column(name, options);
    if (!column.is_ok()) return column.status();
    return std::shared_ptr<StateColumn>(std::make_shared<CacheColumn>(core_, std::move(column).value()));
  }

  std::shared_ptr<CacheCore> core_;
  std::once_flag tracker_once_;
  std::unique_ptr<ChangeTracker> tracker_;
};

}  // namespace

Result<std::shared_ptr<WriteBackCache>> open_write_back_cache(std::shared_ptr<StateBackend> inner,
                                                             const WriteBackCacheOptions& options) {
  if (inner == nullptr) return Status::invalid_argument("open_write_back_cache: the inner backend is null");
  if (options.max_bytes < 4096 || options.max_bytes > (uint64_t{1} << 40)) {
    return Status::invalid_argument("WriteBackCacheOptions.max_bytes is " + std::to_string(options.max_bytes) +
                                    "; use 4096 .. 2^40 (default 64 MiB)");
  }
  if (options.shards < 1 || options.shards > 4096) {
    return Status::invalid_argument("WriteBackCacheOptions.shards is " + std::to_string(options.shards) +
                                    "; use 1..4096 (default 16)");
  }
  auto core = std::make_shared<CacheCore>(std::move(inner), options);
  return std::shared_ptr<WriteBackCache>(std::make_shared<WriteBackCacheBackend>(std::move(core)));
}

}  // namespace streamstate
