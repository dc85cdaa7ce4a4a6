#include "custom_backend/ordered_map_backend.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <utility>

namespace streamstate::examples {

namespace {

// std::less<> makes lookups by std::string_view work without building a std::string.
using Entries = std::map<std::string, std::string, std::less<>>;

// A scan copies at most this many entries (or about this many bytes) per turn of the lock, so a
// long scan never holds the lock for long and the visitor always runs with no lock held.
constexpr size_t kScanChunkEntries = 256;
constexpr size_t kScanChunkBytes = size_t{1} << 20;

bool has_prefix(std::string_view key, std::string_view prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

}  // namespace

// One column's data. Guarded by OrderedMapStore::mutex.
struct OrderedMapColumnData {
  explicit OrderedMapColumnData(std::string column_name) : name(std::move(column_name)) {}
  const std::string name;
  Entries entries;
  // Set by drop_column: handles still pointing here report NotFound instead of writing into
  // data nobody can see any more.
  bool dropped = false;
};

struct OrderedMapStore {
  mutable std::shared_mutex mutex;
  // Written under the exclusive lock; atomic so that snapshot iterators, which hold no lock, can
  // notice a close.
  std::atomic<bool> closed{false};
  std::map<std::string, std::shared_ptr<OrderedMapColumnData>, std::less<>> columns;  // guarded by mutex
  uint64_t live_entries = 0;                                                          // guarded by mutex
  uint64_t bytes_in_use = 0;                                                          // guarded by mutex

  // Operation counters are atomics so that reads, which hold only the shared lock, can count.
  std::atomic<uint64_t> gets{0}, hits{0}, misses{0}, puts{0}, removes{0}, scans{0}, batches{0};

  Status check_open() const {
    if (closed.load(std::memory_order_acquire)) {
      return Status::closed("the ordered_map backend is closed; open a new backend to continue");
    }
    return Status::ok();
  }

  // Every column operation runs these checks under the lock, after taking it, so that close()
  // and drop_column() (which hold the exclusive lock) are never observed half done.
  Status check_column(const OrderedMapColumnData& column) const {
    Status status = check_open();
    if (!status.is_ok()) return status;
    if (column.dropped) {
      return Status::not_found("column '" + column.name + "' was dropped; open it again with column()");
    }
    return Status::ok();
  }

  // The two mutations everything else is built from; they keep live_entries and bytes_in_use
  // exact. Callers hold the exclusive lock.
  void put_locked(OrderedMapColumnData& column, BytesView key, BytesView value) {
    auto it = column.entries.find(key);
    if (it == column.entries.end()) {
      column.entries.emplace(std::string(key), std::string(value));
      live_entries += 1;
      bytes_in_use += key.size() + value.size();
      return;
    }
    bytes_in_use += value.size();
    bytes_in_use -= it->second.size();
    it->second.assign(value);
  }

  bool remove_locked(OrderedMapColumnData& column, BytesView key) {
    auto it = column.entries.find(key);
    if (it == column.entries.end()) return false;
    live_entries -= 1;
    bytes_in_use -= it->first.size() + it->second.size();
    column.entries.erase(it);
    return true;
  }

  void clear_locked(OrderedMapColumnData& column) {
    for (const auto& [key, value] : column.entries) bytes_in_use -= key.size() + value.size();
    live_entries -= column.entries.size();
    column.entries.clear();
  }
};

namespace {

class OrderedMapColumn final : public StateColumn {
 public:
  OrderedMapColumn(std::shared_ptr<OrderedMapStore> store, std::shared_ptr<OrderedMapColumnData> data)
      : store_(std::move(store)), data_(std::move(data)) {}

  const std::string& name() const override { return data_->name; }

  Result<bool> get_into(BytesView key, std::string& value) override {
    std::shared_lock lock(store_->mutex);
    Status status = store_->check_column(*data_);
    if (!status.is_ok()) return status;
    auto it = data_->entries.find(key);
    count_lookup(it != data_->entries.end());
    if (it == data_->entries.end()) return false;
    value = it->second;
    return true;
  }

  Result<bool> contains(BytesView key) override {
    std::shared_lock lock(store_->mutex);
    Status status = store_->check_column(*data_);
    if (!status.is_ok()) return status;
    const bool found = data_->entries.find(key) != data_->entries.end();
    count_lookup(found);
    return found;
  }

  Status put(BytesView key, BytesView value) override {
    std::unique_lock lock(store_->mutex);
    Status status = store_->check_column(*data_);
    if (!status.is_ok()) return status;
    store_->put_locked(*data_, key, value);
    store_->puts.fetch_add(1, std::memory_order_relaxed);
    return Status::ok();
  }

  Status remove(BytesView key) override {
    std::unique_lock lock(store_->mutex);
    Status status = store_->check_column(*data_);
    if (!status.is_ok()) return status;
    store_->remove_locked(*data_, key);  // removing an absent key is not an error
    store_->removes.fetch_add(1, std::memory_order_relaxed);
    return Status::ok();
  }

  // The exclusive lock is held across the read, the user's function and the write: no other
  // update (or any other write) can slip in between.
  Status update(BytesView key, const UpdateFunction& fn) override {
    std::unique_lock lock(store_->mutex);
    Status status = store_->check_column(*data_);
    if (!status.is_ok()) return status;
    auto it = data_->entries.find(key);
    std::optional<BytesView> current;
    if (it != data_->entries.end()) current = BytesView(it->second);
    // `next` is an owned string, so it stays valid while the map changes below.
    std::optional<std::string> next = fn(current);
    if (next.has_value()) {
      store_->put_locked(*data_, key, *next);
      store_->puts.fetch_add(1, std::memory_order_relaxed);
    } else if (store_->remove_locked(*data_, key)) {
      store_->removes.fetch_add(1, std::memory_order_relaxed);
    }
    return Status::ok();
  }

  // Copies a chunk of matching entries under the shared lock, releases it, visits the chunk, and
  // resumes strictly after the last key visited. Keys only grow along the scan, so no entry is
  // visited twice even when writers change the column between chunks.
  Status scan(BytesView prefix, const ScanVisitor& visitor) override {
    std::vector<std::pair<std::string, std::string>> chunk;
    std::string last_key;
    bool first_chunk = true;
    while (true) {
      chunk.clear();
      {
        std::shared_lock lock(store_->mutex);
        Status status = store_->check_column(*data_);
        if (!status.is_ok()) return status;
        if (first_chunk) store_->scans.fetch_add(1, std::memory_order_relaxed);
        auto it = first_chunk ? data_->entries.lower_bound(prefix) : data_->entries.upper_bound(last_key);
        size_t chunk_bytes = 0;
        for (; it != data_->entries.end() && has_prefix(it->first, prefix); ++it) {
          if (chunk.size() >= kScanChunkEntries || chunk_bytes >= kScanChunkBytes) break;
          chunk.emplace_back(it->first, it->second);
          chunk_bytes += it->first.size() + it->second.size();
        }
      }
      for (const auto& [key, value] : chunk) {
        if (!visitor(key, value)) return Status::ok();
      }
      if (chunk.empty()) return Status::ok();
      last_key = std::move(chunk.back().first);
      first_chunk = false;
    }
  }

  Status clear() override {
    std::unique_lock lock(store_->mutex);
    Status status = store_->check_column(*data_);
    if (!status.is_ok()) return status;
    store_->clear_locked(*data_);
    return Status::ok();
  }

 private:
  void count_lookup(bool found) {
    store_->gets.fetch_add(1, std::memory_order_relaxed);
    (found ? store_->hits : store_->misses).fetch_add(1, std::memory_order_relaxed);
  }

  std::shared_ptr<OrderedMapStore> store_;
  std::shared_ptr<OrderedMapColumnData> data_;
};

// Walks one column of a snapshot. It shares the copied entries, so it stays valid even if the
// snapshot object is destroyed first.
class OrderedMapSnapshotIterator final : public SnapshotIterator {
 public:
  OrderedMapSnapshotIterator(std::shared_ptr<const OrderedMapStore> store,
                             std::shared_ptr<const Entries> entries, BytesView prefix)
      : store_(std::move(store)),
        entries_(std::move(entries)),
        prefix_(prefix),
        position_(entries_->lower_bound(prefix_)) {}

  bool valid() const override {
    return status_.is_ok() && position_ != entries_->end() && has_prefix(position_->first, prefix_);
  }
  BytesView key() const override { return position_->first; }
  BytesView value() const override { return position_->second; }
  void next() override {
    if (!valid()) return;
    ++position_;
    // The contract: after close(), operations on snapshots fail with kClosed.
    Status open = store_->check_open();
    if (!open.is_ok()) status_ = std::move(open);
  }
  Status status() const override { return status_; }

 private:
  std::shared_ptr<const OrderedMapStore> store_;
  std::shared_ptr<const Entries> entries_;
  std::string prefix_;
  Entries::const_iterator position_;
  Status status_;
};

class OrderedMapSnapshot final : public BackendSnapshot {
 public:
  OrderedMapSnapshot(std::shared_ptr<const OrderedMapStore> store,
                     std::map<std::string, std::shared_ptr<const Entries>, std::less<>> columns)
      : store_(std::move(store)), columns_(std::move(columns)) {
    for (const auto& entry : columns_) names_.push_back(entry.first);  // std::map: already sorted
  }

  const std::vector<std::string>& columns() const override { return names_; }

  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override {
    Status status = store_->check_open();
    if (!status.is_ok()) return status;
    auto it = columns_.find(column);
    if (it == columns_.end()) {
      return Status::not_found("column '" + std::string(column) +
                               "' did not exist when the snapshot was taken");
    }
    return std::unique_ptr<SnapshotIterator>(
        std::make_unique<OrderedMapSnapshotIterator>(store_, it->second, prefix));
  }

 private:
  std::shared_ptr<const OrderedMapStore> store_;
  std::map<std::string, std::shared_ptr<const Entries>, std::less<>> columns_;
  std::vector<std::string> names_;
};

}  // namespace

OrderedMapBackend::OrderedMapBackend() : store_(std::make_shared<OrderedMapStore>()) {}

OrderedMapBackend::~OrderedMapBackend() { static_cast<void>(close()); }

std::string_view OrderedMapBackend::kind() const { return "ordered_map"; }

BackendCapabilities OrderedMapBackend::capabilities() const {
  BackendCapabilities capabilities;
  capabilities.ordered_scan = true;
  capabilities.persistent = false;
  capabilities.thread_safe = true;
  capabilities.shared_between_processes = false;
  return capabilities;
}

Result<std::shared_ptr<StateColumn>> OrderedMapBackend::column(std::string_view name) {
  Status status = validate_column_name(name);  // the library's rule, so every backend agrees
  if (!status.is_ok()) return status;
  std::unique_lock lock(store_->mutex);
  status = store_->check_open();
  if (!status.is_ok()) return status;
  auto it = store_->columns.find(name);
  if (it == store_->columns.end()) {
    it = store_->columns.emplace(std::string(name), std::make_shared<OrderedMapColumnData>(std::string(name)))
             .first;
  }
  return std::shared_ptr<StateColumn>(std::make_shared<OrderedMapColumn>(store_, it->second));
}

Result<std::vector<std::string>> OrderedMapBackend::list_columns() {
  std::shared_lock lock(store_->mutex);
  Status status = store_->check_open();
  if (!status.is_ok()) return status;
  std::vector<std::string> names;
  for (const auto& entry : store_->columns) names.push_back(entry.first);
  return names;
}

Status OrderedMapBackend::drop_column(std::string_view name) {
  std::unique_lock lock(store_->mutex);
  Status status = store_->check_open();
  if (!status.is_ok()) return status;
  auto it = store_->columns.find(name);
  if (it == store_->columns.end()) {
    return Status::not_found("cannot drop column '" + std::string(name) + "': it does not exist");
  }
  store_->clear_locked(*it->second);
  it->second->dropped = true;
  store_->columns.erase(it);
  return Status::ok();
}

// Checks every operation's column before applying any: a batch naming an unknown column changes
// nothing. The exclusive lock makes the whole batch appear at once to readers and snapshots.
Status OrderedMapBackend::write(const WriteBatch& batch) {
  std::unique_lock lock(store_->mutex);
  Status status = store_->check_open();
  if (!status.is_ok()) return status;
  std::vector<OrderedMapColumnData*> targets;
  targets.reserve(batch.size());
  for (const WriteBatch::Operation& operation : batch.operations()) {
    auto it = store_->columns.find(operation.column);
    if (it == store_->columns.end()) {
      return Status::not_found("write batch names column '" + operation.column +
                               "', which does not exist; open it with column() first (nothing was written)");
    }
    targets.push_back(it->second.get());
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    const WriteBatch::Operation& operation = batch.operations()[i];
    if (operation.type == WriteBatch::OperationType::kPut) {
      store_->put_locked(*targets[i], operation.key, operation.value);
      store_->puts.fetch_add(1, std::memory_order_relaxed);
    } else {
      store_->remove_locked(*targets[i], operation.key);
      store_->removes.fetch_add(1, std::memory_order_relaxed);
    }
  }
  store_->batches.fetch_add(1, std::memory_order_relaxed);
  return Status::ok();
}

Result<std::unique_ptr<BackendSnapshot>> OrderedMapBackend::snapshot() {
  std::shared_lock lock(store_->mutex);
  Status status = store_->check_open();
  if (!status.is_ok()) return status;
  std::map<std::string, std::shared_ptr<const Entries>, std::less<>> copies;
  for (const auto& [name, data] : store_->columns)
    copies.emplace(name, std::make_shared<const Entries>(data->entries));
  return std::unique_ptr<BackendSnapshot>(std::make_unique<OrderedMapSnapshot>(store_, std::move(copies)));
}

BackendStatistics OrderedMapBackend::statistics() const {
  BackendStatistics statistics;
  statistics.gets = store_->gets.load(std::memory_order_relaxed);
  statistics.hits = store_->hits.load(std::memory_order_relaxed);
  statistics.misses = store_->misses.load(std::memory_order_relaxed);
  statistics.puts = store_->puts.load(std::memory_order_relaxed);
  statistics.removes = store_->removes.load(std::memory_order_relaxed);
  statistics.scans = store_->scans.load(std::memory_order_relaxed);
  statistics.batches = store_->batches.load(std::memory_order_relaxed);
  std::shared_lock lock(store_->mutex);
  statistics.live_entries = store_->live_entries;
  statistics.bytes_in_use = store_->bytes_in_use;
  return statistics;
}

Status OrderedMapBackend::flush() {
  std::shared_lock lock(store_->mutex);
  return store_->check_open();
}

// Frees the data now rather than when the last handle goes away; handles and snapshots keep only
// the (empty) store to answer kClosed. Snapshots keep their own copies until destroyed.
Status OrderedMapBackend::close() {
  std::unique_lock lock(store_->mutex);
  if (store_->closed.load(std::memory_order_acquire)) return Status::ok();
  store_->closed.store(true, std::memory_order_release);
  for (auto& entry : store_->columns) store_->clear_locked(*entry.second);
  store_->columns.clear();
  return Status::ok();
}

Result<std::unique_ptr<StateBackend>> open_ordered_map_backend() {
  return std::unique_ptr<StateBackend>(std::make_unique<OrderedMapBackend>());
}

}  // namespace streamstate::examples
