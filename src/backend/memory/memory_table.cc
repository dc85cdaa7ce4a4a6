#include "backend/memory/memory_table.h"

namespace streamstate::internal {

std::shared_ptr<MemoryTable> MemoryTable::clone() const {
  auto copy = std::make_shared<MemoryTable>();
  copy->map_ = map_;
  copy->bytes_ = bytes_;
  return copy;
}

TableNode& MemoryTable::insert(const KeyRef& key, std::string value, int64_t expires_at) {
  auto [it, inserted] = map_.emplace(EntryKey{key.hash, StoredKey(key.bytes)}, Entry{std::move(value), expires_at, nullptr});
  (void)inserted;
  bytes_ += entry_bytes(*it);
  return *it;
}

void MemoryTable::erase(TableNode& node) {
  auto it = map_.find(KeyRef{node.first.bytes.view(), node.first.hash});
  bytes_ -= entry_bytes(node);
  map_.erase(it);
}

}  // namespace streamstate::internal
