// ChangeSet: the keys one shard of the memory backend changed since the last confirmed
// checkpoint (MemoryBackendOptions::track_changes), per column, each with the epoch of its last
// change. See streamstate/change_tracking.h for the protocol it serves.
//
// Thread-safety: none; every shard's set is used under that shard's mutex.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/strings/string_view.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backend/memory/byte_arena.h"
#include "streamstate/bytes.h"

namespace streamstate::internal {

class ChangeSet {
 public:
  // `key` of `column` changed during `epoch`. A key already tracked costs one probe; a new one
  // a copy into the column's arena (no allocation per key).
  void record(const std::string& column, BytesView key, uint64_t epoch) {
    ColumnChanges& changes = columns_[column];
    const absl::string_view lookup(key.data(), key.size());
    const auto found = changes.keys.find(lookup);
    if (found != changes.keys.end()) {
      found->second = epoch;
      return;
    }
    changes.add(key, epoch);
    ++keys_;
  }

  // Appends every tracked key to out[column].
  void collect(std::map<std::string, std::vector<std::string>, std::less<>>& out) const {
    for (const auto& [column, changes] : columns_) {
      if (changes.keys.empty()) continue;
      std::vector<std::string>& target = out[column];
      for (const auto& entry : changes.keys) target.emplace_back(entry.first);
    }
  }

  // Forgets the keys last changed during `epoch` or before. A column none of whose keys changed
  // later is dropped whole; otherwise the later keys move to a fresh arena.
  void forget_through(uint64_t epoch) {
    for (auto it = columns_.begin(); it != columns_.end();) {
      ColumnChanges& changes = it->second;
      size_t later = 0;
      for (const auto& entry : changes.keys) later += entry.second > epoch ? 1 : 0;
      keys_ -= changes.keys.size() - later;
      if (later == 0) {
        columns_.erase(it++);
        continue;
      }
      if (later < changes.keys.size()) {
        ColumnChanges kept;
        kept.keys.reserve(later);
        for (const auto& [key, key_epoch] : changes.keys) {
          if (key_epoch > epoch) kept.add(BytesView(key.data(), key.size()), key_epoch);
        }
        changes = std::move(kept);
      }
      ++it;
    }
  }

  void clear() {
    columns_.clear();
    keys_ = 0;
  }

  uint64_t size() const { return keys_; }

 private:
  // A column's tracked keys (viewing the bytes in its arena) with the epoch of their last change.
  struct ColumnChanges {
    // Precondition: `key` is not tracked yet.
    void add(BytesView key, uint64_t epoch) {
      const BytesView stored = arena.copy(key);
      keys.emplace(absl::string_view(stored.data(), stored.size()), epoch);
    }

    absl::flat_hash_map<absl::string_view, uint64_t> keys;
    ByteArena arena;
  };
  absl::flat_hash_map<std::string, ColumnChanges> columns_;
  uint64_t keys_ = 0;
};

}  // namespace streamstate::internal
