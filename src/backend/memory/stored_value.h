// StoredValue: the bytes of a value as the memory backend keeps them in its table slots.
//
// Sixteen bytes: values of up to kInlineCapacity bytes (a counter, a small number, a flag) live
// inside the object, longer ones in one heap allocation of exactly their size. Half the size
// of a std::string, so that a table slot (key, value, expiry, recency) fits one cache line.
//
// Thread-safety: a value type; none beyond that of a const object.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <new>

#include "streamstate/bytes.h"

namespace streamstate::internal {

class StoredValue {
 public:
  static constexpr size_t kInlineCapacity = 12;

  StoredValue() : size_(0) {}
  explicit StoredValue(BytesView bytes) : size_(0) { assign(bytes); }
  StoredValue(StoredValue&& other) noexcept : size_(other.size_) {
    std::memcpy(storage_, other.storage_, sizeof(storage_));
    other.size_ = 0;  // the heap buffer, if any, now belongs to this value
  }
  StoredValue& operator=(StoredValue&& other) noexcept {
    if (this != &other) {
      release();
      size_ = other.size_;
      std::memcpy(storage_, other.storage_, sizeof(storage_));
      other.size_ = 0;
    }
    return *this;
  }
  StoredValue(const StoredValue& other) : size_(0) { assign(other.view()); }
  StoredValue& operator=(const StoredValue& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  ~StoredValue() { release(); }

  // Replaces the bytes. Reuses the heap buffer when the size is unchanged.
  void assign(BytesView bytes) {
    const uint32_t size = checked_size(bytes.size());
    if (size <= kInlineCapacity) {
      release();
      size_ = size;
      if (size != 0) std::memcpy(storage_, bytes.data(), size);
      return;
    }
    if (size != size_) {
      char* heap = new char[size];
      release();
      set_heap(heap);
      size_ = size;
    }
    std::memcpy(heap(), bytes.data(), size);
  }

  BytesView view() const { return BytesView(is_inline() ? storage_ : heap(), size_); }
  size_t size() const { return size_; }
  // True when the bytes live in a heap buffer (view().data() stays put while the value is
  // neither assigned nor destroyed, even if the value object itself moves).
  bool on_heap() const { return !is_inline(); }

  // Hands the heap buffer (null when the bytes are inline) to the caller, who frees it with
  // delete[]; the value is empty afterwards.
  char* take_heap() {
    if (is_inline()) return nullptr;
    char* pointer = heap();
    size_ = 0;
    return pointer;
  }

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
  void release() {
    if (!is_inline()) delete[] heap();
    size_ = 0;
  }

  uint32_t size_;
  // The bytes themselves when inline, else the address of the heap buffer.
  char storage_[kInlineCapacity] = {};
};

static_assert(sizeof(StoredValue) == 16);

}  // namespace streamstate::internal
