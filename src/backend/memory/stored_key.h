// StoredKey: the bytes of a key as the memory backend keeps them in its table nodes.
//
// Keys of up to kInlineCapacity bytes (a 16-byte user key with its key group, length and a
// short namespace) are stored inside the object itself, so a lookup compares them without
// following another pointer - on a table far larger than the CPU caches that saves a cache
// miss per operation. Longer keys live in one heap allocation.
//
// Thread-safety: a value type; none beyond that of a const object.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <new>

#include "streamstate/bytes.h"

namespace streamstate::internal {

class StoredKey {
 public:
  static constexpr size_t kInlineCapacity = 28;

  explicit StoredKey(BytesView bytes) : size_(checked_size(bytes.size())) {
    if (is_inline()) {
      if (size_ != 0) std::memcpy(storage_, bytes.data(), size_);
    } else {
      char* heap = new char[size_];
      std::memcpy(heap, bytes.data(), size_);
      set_heap(heap);
    }
  }
  StoredKey(StoredKey&& other) noexcept : size_(other.size_) {
    std::memcpy(storage_, other.storage_, sizeof(storage_));
    other.size_ = 0;  // the heap buffer, if any, now belongs to this key
  }
  StoredKey(const StoredKey& other) : StoredKey(other.view()) {}
  StoredKey& operator=(const StoredKey&) = delete;
  StoredKey& operator=(StoredKey&&) = delete;
  ~StoredKey() {
    if (!is_inline()) delete[] heap();
  }

  BytesView view() const { return BytesView(is_inline() ? storage_ : heap(), size_); }
  size_t size() const { return size_; }

 private:
  static uint32_t checked_size(size_t size) {
    if (size > std::numeric_limits<uint32_t>::max()) throw std::bad_alloc();
    return static_cast<uint32_t>(size);
  }
  bool is_inline() const { return size_ <= kInlineCapacity; }
  char* heap() const {
    char* pointer;
    std::memcpy(&pointer, storage_, sizeof(pointer));
    return pointer;
  }
  void set_heap(char* pointer) { std::memcpy(storage_, &pointer, sizeof(pointer)); }

  uint32_t size_;
  // The bytes themselves when inline, else the address of the heap buffer.
  char storage_[kInlineCapacity];
};

static_assert(sizeof(StoredKey) == 32);

}  // namespace streamstate::internal
