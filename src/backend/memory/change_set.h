// ChangeSet: the keys one shard of the memory backend changed since the last confirmed
// checkpoint (MemoryBackendOptions::track_changes), per column, each with the epoch of its last
// change. See streamstate/change_tracking.h for the protocol it serves.
//
// Thread-safety: none; every shard's set is used under that shard's mutex.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "streamstate/bytes.h"

namespace streamstate::internal {

class ChangeSet {
 public:
  // `key` of `column` changed during `epoch`.
  void record(const std::string& column, BytesView key, uint64_t epoch) {
    auto [it, inserted] = columns_[column].try_emplace(absl::string_view(key.data(), key.size()), epoch);
    if (inserted) {
      ++keys_;
    } else {
      it->second = epoch;
    }
  }

  // Appends every tracked key to out[column].
  void collect(std::map<std::string, std::vector<std::string>, std::less<>>& out) const {
    for (const auto& [column, keys] : columns_) {
      if (keys.empty()) continue;
      std::vector<std::string>& target = out[column];
      target.reserve(target.size() + keys.size());
      for (const auto& entry : keys) target.emplace_back(entry.first);
    }
  }

  // Forgets the keys last changed during `epoch` or before.
  void forget_through(uint64_t epoch) {
    for (auto& [column, keys] : columns_) {
      keys_ -= static_cast<uint64_t>(
          absl::erase_if(keys, [epoch](const auto& entry) { return entry.second <= epoch; }));
    }
    absl::erase_if(columns_, [](const auto& column) { return column.second.empty(); });
  }

  void clear() {
    columns_.clear();
    keys_ = 0;
  }

  uint64_t size() const { return keys_; }

 private:
  using Keys = absl::flat_hash_map<std::string, uint64_t>;
  absl::flat_hash_map<std::string, Keys> columns_;
  uint64_t keys_ = 0;
};

}  // namespace streamstate::internal
