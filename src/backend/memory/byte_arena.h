// ByteArena: bump allocation of byte strings in blocks that never move, for the keys and
// values a snapshot log or a change set copies: one copy costs a memcpy, not an allocation,
// and all of them are freed with the arena at once.
//
// Thread-safety: none; each arena is used under one shard's lock.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "streamstate/bytes.h"

namespace streamstate::internal {

class ByteArena {
 public:
  // A copy of `bytes` that stays where it is until the arena is destroyed.
  BytesView copy(BytesView bytes) {
    if (bytes.empty()) return BytesView();
    if (bytes.size() > left_) {
      const size_t size = std::max(kBlockBytes, bytes.size());
      blocks_.push_back(std::make_unique<char[]>(size));
      next_ = blocks_.back().get();
      left_ = size;
    }
    char* at = next_;
    std::memcpy(at, bytes.data(), bytes.size());
    next_ += bytes.size();
    left_ -= bytes.size();
    return BytesView(at, bytes.size());
  }

 private:
  static constexpr size_t kBlockBytes = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace streamstate::internal
