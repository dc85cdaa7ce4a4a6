#include "backend/memory/recency_list.h"

namespace streamstate::internal {

RecencyNode* RecencyList::add(ColumnState* column, const KeyRef& key) {
  auto* node = new RecencyNode(column, key);
  link_most_recent(node);
  return node;
}

void RecencyList::clear() {
  RecencyNode* node = least_recent_;
  while (node != nullptr) {
    RecencyNode* next = node->more_recent;
    delete node;
    node = next;
  }
  least_recent_ = nullptr;
  most_recent_ = nullptr;
}

}  // namespace streamstate::internal
