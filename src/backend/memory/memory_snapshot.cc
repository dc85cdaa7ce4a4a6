#include "backend/memory/memory_snapshot.h"

#include <algorithm>
#include <utility>

namespace streamstate::internal {
namespace {

// Walks one column of the snapshot shard by shard, through a copy of each shard's matches.
class MemorySnapshotIterator final : public SnapshotIterator {
 public:
  MemorySnapshotIterator(std::shared_ptr<SnapshotState> state, size_t column, BytesView prefix)
      : state_(std::move(state)), column_(*state_->columns()[column]), prefix_(prefix),
        shard_count_(state_->store().options().shard_count) {
    load_from(0);
  }

  bool valid() const override { return status_.is_ok() && position_ < entries_.size() && !state_->store().is_closed(); }
  BytesView key() const override { return entries_.key(position_); }
  BytesView value() const override { return entries_.value(position_); }
  void next() override {
    if (!valid()) return;
    if (++position_ == entries_.size()) load_from(shard_ + 1);
  }
  Status status() const override {
    if (state_->store().is_closed()) return MemoryStore::closed_status();
    return status_;
  }

 private:
  // Loads the matches of the first shard from `shard` on that has any.
  void load_from(uint32_t shard) {
    entries_.clear();
    position_ = 0;
    for (shard_ = shard; shard_ < shard_count_; ++shard_) {
      status_ = state_->store().read_snapshot_shard(shard_, column_, state_->log(), prefix_, state_->taken_at(), entries_);
      if (!status_.is_ok() || !entries_.empty()) return;
    }
  }

  std::shared_ptr<SnapshotState> state_;
  const ColumnState& column_;  // owned by state_
  const std::string prefix_;
  const uint32_t shard_count_;
  uint32_t shard_ = 0;
  SnapshotShardCopy entries_;  // the current shard's matches
  size_t position_ = 0;
  Status status_;
};

}  // namespace

MemorySnapshot::MemorySnapshot(std::shared_ptr<SnapshotState> state) : state_(std::move(state)) {
  names_.reserve(state_->columns().size());
  for (const std::shared_ptr<ColumnState>& column : state_->columns()) names_.push_back(column->name);
}

Result<bool> MemorySnapshot::get(std::string_view column, BytesView key, std::string* value) {
  if (state_->store().is_closed()) return MemoryStore::closed_status();
  const auto it = std::lower_bound(names_.begin(), names_.end(), column);
  if (it == names_.end() || *it != column) {
    return Status::not_found("snapshot has no column '" + std::string(column) +
                             "'; it did not exist when the snapshot was taken");
  }
  const ColumnState& state = *state_->columns()[static_cast<size_t>(it - names_.begin())];
  return state_->store().read_snapshot_key(state, state_->log(), key, state_->taken_at(), value);
}

Result<std::unique_ptr<SnapshotIterator>> MemorySnapshot::iterate(std::string_view column, BytesView prefix) {
  if (state_->store().is_closed()) return MemoryStore::closed_status();
  const auto it = std::lower_bound(names_.begin(), names_.end(), column);
  if (it == names_.end() || *it != column) {
    return Status::not_found("snapshot has no column '" + std::string(column) +
                             "'; it did not exist when the snapshot was taken");
  }
  const auto index = static_cast<size_t>(it - names_.begin());
  return std::unique_ptr<SnapshotIterator>(std::make_unique<MemorySnapshotIterator>(state_, index, prefix));
}

}  // namespace streamstate::internal
