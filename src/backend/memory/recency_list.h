// RecencyList: the least-recently-used order of the entries of one memory-backend shard,
// across all columns, for eviction under a size limit.
//
// Each entry of a shard that tracks recency has one RecencyNode, and its Entry points to it.
// A node names its entry by column and key (table slots move when a table grows, so it
// cannot point at the entry itself); the eviction of the least recent node looks its entry up
// by that key. Every operation is O(1).
//
// Thread-safety: none; used under the shard's mutex.
#pragma once

#include <cstdint>

#include "backend/memory/stored_key.h"
#include "backend/memory/memory_table.h"

namespace streamstate::internal {

struct ColumnState;

struct RecencyNode {
  RecencyNode(ColumnState* owner, const KeyRef& entry) : column(owner), hash(entry.hash), key(entry.bytes) {}

  RecencyNode* less_recent = nullptr;
  RecencyNode* more_recent = nullptr;
  ColumnState* const column;
  const uint64_t hash;
  const StoredKey key;

  KeyRef key_ref() const { return KeyRef{key.view(), hash}; }
};

class RecencyList {
 public:
  RecencyList() = default;
  RecencyList(const RecencyList&) = delete;
  RecencyList& operator=(const RecencyList&) = delete;
  ~RecencyList() { clear(); }

  // A new node for (column, key), the most recent.
  RecencyNode* add(ColumnState* column, const KeyRef& key);
  // Makes the node the most recent.
  void touch(RecencyNode* node) {
    if (most_recent_ == node) return;
    unlink(node);
    link_most_recent(node);
  }
  // Unlinks and frees the node.
  void remove(RecencyNode* node) {
    unlink(node);
    delete node;
  }
  // The least recently used node, or null when empty.
  RecencyNode* least_recent() const { return least_recent_; }
  // Frees every node.
  void clear();

 private:
  void link_most_recent(RecencyNode* node) {
    node->less_recent = most_recent_;
    node->more_recent = nullptr;
    if (most_recent_ != nullptr) {
      most_recent_->more_recent = node;
    } else {
      least_recent_ = node;
    }
    most_recent_ = node;
  }
  void unlink(RecencyNode* node) {
    if (node->less_recent != nullptr) {
      node->less_recent->more_recent = node->more_recent;
    } else {
      least_recent_ = node->more_recent;
    }
    if (node->more_recent != nullptr) {
      node->more_recent->less_recent = node->less_recent;
    } else {
      most_recent_ = node->less_recent;
    }
    node->less_recent = nullptr;
    node->more_recent = nullptr;
  }

  RecencyNode* least_recent_ = nullptr;
  RecencyNode* most_recent_ = nullptr;
};

}  // namespace streamstate::internal
