#include "backend/memory/memory_snapshot.h"

#include <algorithm>
#include <utility>

namespace streamstate::internal {
namespace {

// Walks one column of the snapshot shard by shard, through a copy of each shard's matches.
class MemorySnapshotIterator final : public SnapshotIterator {
 public:
  MemorySnapshotIterator(std::shared_ptr<SnapshotState> state, size_t column, BytesView prefix, bool release)
      : state_(std::move(state)), column_(*state_->columns()[column]), prefix_(prefix),
        shard_count_(state_->store().options().shard_count), release_(release) {
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
      status_ = state_->store().read_snapshot_shard(shard_, column_, state_->log(), prefix_, state_->taken_at(), entries_,
                                                    release_);
      if (!status_.is_ok() || !entries_.empty()) return;
    }
  }

  std::shared_ptr<SnapshotState> state_;
  const ColumnState& column_;  // owned by state_
  const std::string prefix_;
  const uint32_t shard_count_;
  const bool release_;  // release each shard's part of the column once copied
  uint32_t shard_ = 0;
  SnapshotShardCopy entries_;  // the current shard's matches
  size_t position_ = 0;
  Status status_;
};

}  // namespace

MemorySnapshot::MemorySnapshot(std::shared_ptr<SnapshotState> state) : state_(std::move(state)) {
  names_.reserve(state_->columns().size());
  for (const std::shared_ptr<ColumnState>& column : state_->columns()) names_.push_back(column->name);
  released_.assign(names_.size(), false);
}

Result<size_t> MemorySnapshot::readable_column(std::string_view column) const {
  if (state_->store().is_closed()) return MemoryStore::closed_status();
  const auto it = std::lower_bound(names_.begin(), names_.end(), column);
  if (it == names_.end() || *it != column) {
    return Status::not_found("snapshot has no column '" + std::string(column) +
                             "'; it did not exist when the snapshot was taken");
  }
  const auto index = static_cast<size_t>(it - names_.begin());
  if (released_[index]) {
    return Status::failed_precondition("snapshot column '" + std::string(column) +
                                       "' was read with iterate_once and cannot be read again");
  }
  return index;
}

Status MemorySnapshot::get_many(std::string_view column, std::span<const std::string> keys,
                                const std::function<void(size_t index, BytesView value)>& found) {
  Result<size_t> index = readable_column(column);
  if (!index.is_ok()) return index.status();
  return state_->store().read_snapshot_keys(*state_->columns()[*index], state_->log(), keys, state_->taken_at(), found);
}

Result<std::unique_ptr<SnapshotIterator>> MemorySnapshot::iterate_once(std::string_view column) {
  Result<size_t> index = readable_column(column);
  if (!index.is_ok()) return index.status();
  released_[*index] = true;
  return std::unique_ptr<SnapshotIterator>(std::make_unique<MemorySnapshotIterator>(state_, *index, BytesView(), true));
}

Result<bool> MemorySnapshot::get(std::string_view column, BytesView key, std::string* value) {
  Result<size_t> index = readable_column(column);
  if (!index.is_ok()) return index.status();
  const ColumnState& state = *state_->columns()[*index];
  return state_->store().read_snapshot_key(state, state_->log(), key, state_->taken_at(), value);
}

Result<std::unique_ptr<SnapshotIterator>> MemorySnapshot::iterate(std::string_view column, BytesView prefix) {
  Result<size_t> index = readable_column(column);
  if (!index.is_ok()) return index.status();
  return std::unique_ptr<SnapshotIterator>(std::make_unique<MemorySnapshotIterator>(state_, *index, prefix, false));
}

}  // namespace streamstate::internal
