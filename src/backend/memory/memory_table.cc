#include "backend/memory/memory_table.h"

namespace streamstate::internal {

std::shared_ptr<MemoryTable> MemoryTable::clone() const {
  auto copy = std::make_shared<MemoryTable>();
  copy->map_ = map_;
  copy->bytes_ = bytes_;
  return copy;
}

TableNode& MemoryTable::insert(const KeyRef& key, BytesView value, int64_t expires_at, ValueSlabCursor* slabs) {
  // lazy_emplace: one lookup with the hash the caller has, the node built in its slot.
  auto it = map_.lazy_emplace(key, [&](const Map::constructor& construct) {
    if (slabs != nullptr) {
      construct(key.bytes, value, expires_at, *slabs);
    } else {
      construct(key.bytes, value, expires_at);
    }
  });
  bytes_ += entry_bytes(*it);
  return const_cast<TableNode&>(*it);
}

void MemoryTable::erase(TableNode& node, KeptBuffers* keep) {
  const BytesView key = node.key.view();
  auto it = map_.find(KeyRef{key, memory_key_hash(key)});
  bytes_ -= entry_bytes(node);
  keep_value(node, keep);
  map_.erase(it);
}

}  // namespace streamstate::internal
