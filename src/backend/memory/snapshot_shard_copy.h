// SnapshotShardCopy: the entries of one shard that a memory snapshot iterator walks. All key
// and value bytes end in one buffer that keeps its capacity from shard to shard, so copying
// costs memcpy calls and no allocation per entry.
//
// Writers wait while a shard is locked, so the copy is made in two steps. Under the lock,
// add() copies what lives in the table's slots (keys, short values) and add_deferred() notes
// where a long value's heap buffer is - no cache miss per value there; the shard keeps those
// buffers alive meanwhile (MemoryStore::read_snapshot_shard). With no lock held, resolve()
// copies the noted values in and drops the entries the caller says to skip.
//
// Thread-safety: none; one iterator uses it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/bytes.h"

namespace streamstate::internal {

class SnapshotShardCopy {
 public:
  void clear() {
    bytes_.clear();
    spans_.clear();
    deferred_ = 0;
  }
  void add(BytesView key, BytesView value) {
    spans_.push_back(Span{bytes_.size(), static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size()), nullptr});
    bytes_.append(key.data(), key.size());
    bytes_.append(value.data(), value.size());
  }
  // The key now, the value's bytes (which must stay unchanged until resolve()) later.
  void add_deferred(BytesView key, BytesView value) {
    spans_.push_back(Span{bytes_.size(), static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size()),
                          value.data()});
    bytes_.append(key.data(), key.size());
    ++deferred_;
  }
  // Entries added since the last clear() or resolve() whose value is deferred.
  size_t deferred() const { return deferred_; }

  // Copies the deferred values in and drops every entry with skip(key); afterwards key() and
  // value() may be read.
  template <typename Skip>
  void resolve(Skip skip) {
    resolved_bytes_.clear();
    resolved_spans_.clear();
    for (const Span& span : spans_) {
      const BytesView key(bytes_.data() + span.offset, span.key_size);
      if (skip(key)) continue;
      const char* value = span.deferred_value != nullptr ? span.deferred_value : key.data() + key.size();
      resolved_spans_.push_back(Span{resolved_bytes_.size(), span.key_size, span.value_size, nullptr});
      resolved_bytes_.append(key.data(), key.size());
      resolved_bytes_.append(value, span.value_size);
    }
    std::swap(bytes_, resolved_bytes_);
    std::swap(spans_, resolved_spans_);
    deferred_ = 0;
  }

  size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  BytesView key(size_t i) const { return BytesView(bytes_).substr(spans_[i].offset, spans_[i].key_size); }
  BytesView value(size_t i) const {
    return BytesView(bytes_).substr(spans_[i].offset + spans_[i].key_size, spans_[i].value_size);
  }

 private:
  struct Span {
    uint64_t offset;  // of the key; the value follows it unless deferred
    uint32_t key_size;
    uint32_t value_size;
    const char* deferred_value;  // until resolve(): where the value's bytes are, when not in bytes_
  };
  std::string bytes_;
  std::vector<Span> spans_;
  size_t deferred_ = 0;
  std::string resolved_bytes_;  // resolve()'s output buffers, kept for their capacity
  std::vector<Span> resolved_spans_;
};

}  // namespace streamstate::internal
