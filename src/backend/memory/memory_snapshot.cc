#include "backend/memory/memory_snapshot.h"

#include <algorithm>

namespace streamstate::internal {
namespace {

// Walks the captured tables of one column shard by shard, stopping at entries that start with
// the prefix and had not expired when the snapshot was taken.
class MemorySnapshotIterator final : public SnapshotIterator {
 public:
  MemorySnapshotIterator(std::shared_ptr<SnapshotState> state, size_t column, BytesView prefix)
      : state_(std::move(state)), tables_(state_->columns()[column].tables), prefix_(prefix) {
    if (!tables_.empty()) position_ = tables_[0]->entries().begin();
    skip_to_match();
  }

  bool valid() const override { return shard_ < tables_.size() && !state_->store().is_closed(); }
  BytesView key() const override { return position_->first.bytes.view(); }
  BytesView value() const override { return position_->second.value; }
  void next() override {
    if (!valid()) return;
    ++position_;
    skip_to_match();
  }
  Status status() const override {
    return state_->store().is_closed() ? MemoryStore::closed_status() : Status::ok();
  }

 private:
  bool matches(const TableNode& node) const {
    return node.first.bytes.view().starts_with(prefix_) && !is_expired(node.second, state_->taken_at());
  }

  void skip_to_match() {
    while (shard_ < tables_.size()) {
      const auto end = tables_[shard_]->entries().end();
      while (position_ != end && !matches(*position_)) ++position_;
      if (position_ != end) return;
      if (++shard_ < tables_.size()) position_ = tables_[shard_]->entries().begin();
    }
  }

  std::shared_ptr<SnapshotState> state_;
  const std::vector<std::shared_ptr<const MemoryTable>>& tables_;  // owned by state_
  const std::string prefix_;
  size_t shard_ = 0;
  MemoryTable::Map::const_iterator position_;
};

}  // namespace

MemorySnapshot::MemorySnapshot(std::shared_ptr<SnapshotState> state) : state_(std::move(state)) {
  names_.reserve(state_->columns().size());
  for (const CapturedColumn& column : state_->columns()) names_.push_back(column.column->name);
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
