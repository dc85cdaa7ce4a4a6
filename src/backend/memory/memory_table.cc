#include "backend/memory/memory_table.h"

namespace streamstate::internal {

std::shared_ptr<MemoryTable> MemoryTable::clone() const {
  auto copy = std::make_shared<MemoryTable>(track_recency_);
  copy->map_.reserve(map_.size());
  auto copy_node = [&copy](const TableNode& node) {
    const EntryKey& key = node.first;
    copy->insert(KeyRef{key.bytes.view(), key.hash, key.column}, node.second.value, node.second.expires_at);
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
  auto [it, inserted] = map_.emplace(EntryKey{key.hash, key.column, StoredKey(key.bytes)},
                                     Entry{std::move(value), expires_at, nullptr, nullptr});
  (void)inserted;
  bytes_ += entry_bytes(*it);
  link_most_recent(*it);
  return *it;
}

void MemoryTable::erase(TableNode& node) {
  auto it = map_.find(KeyRef{node.first.bytes.view(), node.first.hash, node.first.column});
  unlink(node);
  bytes_ -= entry_bytes(node);
  map_.erase(it);
}

}  // namespace streamstate::internal
