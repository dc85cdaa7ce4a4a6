// SnapshotShardCopy: the entries of one shard that a memory snapshot iterator walks, copied
// while the shard is locked. All key and value bytes go into one buffer that keeps its capacity
// from shard to shard, so the copy under the lock is a run of memcpy calls with no allocation
// per entry - writers wait for the shard as briefly as possible.
//
// Thread-safety: none; one iterator uses it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "streamstate/bytes.h"

namespace streamstate::internal {

class SnapshotShardCopy {
 public:
  void clear() {
    bytes_.clear();
    spans_.clear();
  }
  void add(BytesView key, BytesView value) {
    spans_.push_back(Span{bytes_.size(), static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())});
    bytes_.append(key.data(), key.size());
    bytes_.append(value.data(), value.size());
  }
  size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  BytesView key(size_t i) const { return BytesView(bytes_).substr(spans_[i].offset, spans_[i].key_size); }
  BytesView value(size_t i) const {
    return BytesView(bytes_).substr(spans_[i].offset + spans_[i].key_size, spans_[i].value_size);
  }

 private:
  struct Span {
    uint64_t offset;  // of the key; the value follows it
    uint32_t key_size;
    uint32_t value_size;
  };
  std::string bytes_;
  std::vector<Span> spans_;
};

}  // namespace streamstate::internal
