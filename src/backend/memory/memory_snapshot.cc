#include "backend/memory/memory_snapshot.h"

#include <algorithm>

namespace streamstate::internal {
namespace {

// Walks the captured tables shard by shard, stopping at entries of one column that start with
// the prefix and had not expired when the snapshot was taken.
class MemorySnapshotIterator final : public SnapshotIterator {
 public:
  MemorySnapshotIterator(std::shared_ptr<SnapshotState> state, uint32_t column, BytesView prefix)
      : state_(std::move(state)), column_(column), prefix_(prefix) {
    if (!state_->tables().empty()) position_ = state_->tables()[0]->entries().begin();
    skip_to_match();
  }

  bool valid() const override { return shard_ < state_->tables().size() && !state_->store().is_closed(); }
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
    return node.first.column == column_ && node.first.bytes.view().starts_with(prefix_) &&
           !is_expired(node.second, state_->taken_at());
  }

  void skip_to_match() {
    const auto& tables = state_->tables();
    while (shard_ < tables.size()) {
      const auto end = tables[shard_]->entries().end();
      while (position_ != end && !matches(*position_)) ++position_;
      if (position_ != end) return;
      if (++shard_ < tables.size()) position_ = tables[shard_]->entries().begin();
    }
  }

  std::shared_ptr<SnapshotState> state_;
  const uint32_t column_;
  const std::string prefix_;
  size_t shard_ = 0;
  MemoryTable::Map::const_iterator position_;
};

}  // namespace

MemorySnapshot::MemorySnapshot(std::shared_ptr<SnapshotState> state, std::vector<SnapshotColumn> columns)
    : state_(std::move(state)) {
  names_.reserve(columns.size());
  ids_.reserve(columns.size());
  for (SnapshotColumn& column : columns) {
    names_.push_back(std::move(column.name));
    ids_.push_back(column.id);
  }
}

Result<std::unique_ptr<SnapshotIterator>> MemorySnapshot::iterate(std::string_view column, BytesView prefix) {
  if (state_->store().is_closed()) return MemoryStore::closed_status();
  const auto it = std::lower_bound(names_.begin(), names_.end(), column);
  if (it == names_.end() || *it != column) {
    return Status::not_found("snapshot has no column '" + std::string(column) +
                             "'; it did not exist when the snapshot was taken");
  }
  const uint32_t id = ids_[static_cast<size_t>(it - names_.begin())];
  return std::unique_ptr<SnapshotIterator>(std::make_unique<MemorySnapshotIterator>(state_, id, prefix));
}

}  // namespace streamstate::internal
