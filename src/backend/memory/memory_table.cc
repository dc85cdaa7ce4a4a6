#include "backend/memory/memory_table.h"

namespace streamstate::internal {

std::shared_ptr<MemoryTable> MemoryTable::clone() const {
  auto copy = std::make_shared<MemoryTable>(track_recency_);
  copy->map_.reserve(map_.size());
  auto copy_node = [&copy](const TableNode& node) {
    const EntryKey& key = node.first;
    copy->insert(KeyRef{key.bytes, key.hash, key.column}, node.second.value, node.second.expires_at);
  };
  if (track_recency_) {
    // Inserting from least to most recent rebuilds the same order in the copy.
    for (const TableNode* node = least_recent_; node != nullptr; node = node->second.more_recent) copy_node(*node);
  } else {
    for (const TableNode& node : map_) copy_node(node);
  }
  return copy;
}

TableNode& MemoryTable::insert(const KeyRef& key, std::string value, int64_t expires_at) {
  auto [it, inserted] = map_.emplace(EntryKey{std::string(key.bytes), key.hash, key.column},
                                     Entry{std::move(value), expires_at, nullptr, nullptr});
  (void)inserted;
  bytes_ += entry_bytes(*it);
  link_most_recent(*it);
  return *it;
}

void MemoryTable::assign(TableNode& node, BytesView value, int64_t expires_at) {
  bytes_ = bytes_ - node.second.value.size() + value.size();
  node.second.value.assign(value.data(), value.size());
  node.second.expires_at = expires_at;
  touch(node);
}

void MemoryTable::assign(TableNode& node, std::string&& value, int64_t expires_at) {
  bytes_ = bytes_ - node.second.value.size() + value.size();
  node.second.value = std::move(value);
  node.second.expires_at = expires_at;
  touch(node);
}

void MemoryTable::erase(TableNode& node) {
  auto it = map_.find(KeyRef{node.first.bytes, node.first.hash, node.first.column});
  unlink(node);
  bytes_ -= entry_bytes(node);
  map_.erase(it);
}

void MemoryTable::touch(TableNode& node) {
  if (!track_recency_ || most_recent_ == &node) return;
  unlink(node);
  link_most_recent(node);
}

void MemoryTable::link_most_recent(TableNode& node) {
  if (!track_recency_) return;
  node.second.less_recent = most_recent_;
  node.second.more_recent = nullptr;
  if (most_recent_ != nullptr) {
    most_recent_->second.more_recent = &node;
  } else {
    least_recent_ = &node;
  }
  most_recent_ = &node;
}

void MemoryTable::unlink(TableNode& node) {
  if (!track_recency_) return;
  Entry& entry = node.second;
  if (entry.less_recent != nullptr) {
    entry.less_recent->second.more_recent = entry.more_recent;
  } else {
    least_recent_ = entry.more_recent;
  }
  if (entry.more_recent != nullptr) {
    entry.more_recent->second.less_recent = entry.less_recent;
  } else {
    most_recent_ = entry.less_recent;
  }
  entry.less_recent = nullptr;
  entry.more_recent = nullptr;
}

}  // namespace streamstate::internal
