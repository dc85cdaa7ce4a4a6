#include "backend/rocksdb/rocksdb_snapshot.h"

#include <rocksdb/iterator.h>

#include "backend/rocksdb/rocksdb_column.h"
#include "backend/rocksdb/rocksdb_status.h"

namespace streamstate::internal {
namespace {

class RocksDbSnapshotIterator final : public SnapshotIterator, public CloseResource {
 public:
  // With the gate held shared and the engine open.
  RocksDbSnapshotIterator(std::shared_ptr<RocksDbEngine> engine, std::shared_ptr<SnapshotHandle> snapshot,
                          std::shared_ptr<const ColumnEntry> column, BytesView prefix)
      : engine_(std::move(engine)),
        snapshot_(std::move(snapshot)),
        column_(std::move(column)),
        prefix_(prefix) {
    rocksdb::ReadOptions read = engine_->read_options();
    read.snapshot = snapshot_->native();
    read.fill_cache = false;
    if (prefix_upper_bound(prefix_, upper_bound_)) {
      upper_bound_slice_ = to_slice(upper_bound_);
      read.iterate_upper_bound = &upper_bound_slice_;
    }
    iterator_.reset(engine_->db()->NewIterator(read, column_->handle));
    engine_->register_resource(this);
    iterator_->Seek(to_slice(prefix_));
    load_current();
  }

  ~RocksDbSnapshotIterator() override { engine_->release(this); }
  RocksDbSnapshotIterator(const RocksDbSnapshotIterator&) = delete;
  RocksDbSnapshotIterator& operator=(const RocksDbSnapshotIterator&) = delete;

  void release_native() override { iterator_.reset(); }

  bool valid() const override { return valid_; }
  BytesView key() const override { return key_; }
  BytesView value() const override { return value_; }
  Status status() const override { return status_; }

  void next() override {
    if (!valid_) return;
    auto hold = engine_->hold_shared();
    if (engine_->closed()) {
      valid_ = false;
      status_ = engine_->closed_status();
      return;
    }
    iterator_->Next();
    load_current();
  }

 private:
  // With the gate held shared: copies the entry under the iterator, or ends iteration.
  void load_current() {
    valid_ = false;
    if (iterator_->Valid()) {
      const BytesView key = to_view(iterator_->key());
      if (key.substr(0, prefix_.size()) == prefix_) {
        key_.assign(key);
        const rocksdb::Slice value = iterator_->value();
        value_.assign(value.data(), value.size());
        valid_ = true;
        return;
      }
    }
    if (!iterator_->status().ok()) {
      status_ =
          from_rocksdb(iterator_->status(), "snapshot iteration of " + engine_->describe(column_->name));
    }
  }

  std::shared_ptr<RocksDbEngine> engine_;
  std::shared_ptr<SnapshotHandle> snapshot_;
  std::shared_ptr<const ColumnEntry> column_;
  std::string prefix_;
  std::string upper_bound_;
  rocksdb::Slice upper_bound_slice_;
  std::unique_ptr<rocksdb::Iterator> iterator_;
  std::string key_;
  std::string value_;
  bool valid_ = false;
  Status status_;
};

}  // namespace

SnapshotHandle::SnapshotHandle(std::shared_ptr<RocksDbEngine> engine)
    : engine_(std::move(engine)), snapshot_(engine_->db()->GetSnapshot()) {
  engine_->register_resource(this);
}

SnapshotHandle::~SnapshotHandle() { engine_->release(this); }

void SnapshotHandle::release_native() {
  engine_->db()->ReleaseSnapshot(snapshot_);
  snapshot_ = nullptr;
}

RocksDbSnapshot::RocksDbSnapshot(std::shared_ptr<RocksDbEngine> engine)
    : engine_(std::move(engine)),
      handle_(std::make_shared<SnapshotHandle>(engine_)),
      columns_(engine_->column_entries()) {
  column_names_.reserve(columns_.size());
  for (const auto& [name, entry] : columns_) column_names_.push_back(name);
}

Result<std::unique_ptr<SnapshotIterator>> RocksDbSnapshot::iterate(std::string_view column,
                                                                   BytesView prefix) {
  auto hold = engine_->hold_shared();
  if (engine_->closed()) return engine_->closed_status();
  auto it = columns_.find(column);
  if (it == columns_.end()) {
    return Status::not_found(engine_->describe(column) +
                             " is not in this snapshot: it did not exist when the snapshot was taken");
  }
  return std::unique_ptr<SnapshotIterator>(
      std::make_unique<RocksDbSnapshotIterator>(engine_, handle_, it->second, prefix));
}

}  // namespace streamstate::internal
