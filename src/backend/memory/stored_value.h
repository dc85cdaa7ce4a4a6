// StoredValue: the bytes of a value as the memory backend keeps them in its table slots.
//
// Sixteen bytes: values of up to kInlineCapacity bytes (a counter, a small number, a flag) live
// inside the object, longer ones in one heap allocation of exactly their size, or in a
// ValueSlab when a bulk put carved them there (value_slab.h). Half the size of a std::string,
// so that a table slot (key, value, expiry, recency) fits one cache line.
//
// Thread-safety: a value type; none beyond that of a const object.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <new>

#include "backend/memory/value_slab.h"
#include "streamstate/bytes.h"

namespace streamstate::internal {

class StoredValue {
 public:
  static constexpr size_t kInlineCapacity = 12;

  StoredValue() : size_(0) {}
  explicit StoredValue(BytesView bytes) : size_(0) { assign(bytes); }
  // The bytes carved from `slabs` when they are too long to be inline (and not too long for
  // a slab).
  StoredValue(BytesView bytes, ValueSlabCursor& slabs) : size_(0) {
    if (bytes.size() <= kInlineCapacity || bytes.size() > kMaxSlabValueBytes) {
      assign(bytes);
      return;
    }
    char* carved = slabs.carve(bytes.size());
    std::memcpy(carved, bytes.data(), bytes.size());
    set_heap(carved, true);
    size_ = static_cast<uint32_t>(bytes.size());
  }
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
      set_heap(heap, false);
      size_ = size;
    }
    std::memcpy(heap(), bytes.data(), size);
  }

  BytesView view() const { return BytesView(is_inline() ? storage_ : heap(), size_); }
  size_t size() const { return size_; }
  // True when the bytes live outside the object (view().data() stays put while the value is
  // neither assigned nor destroyed, even if the value object itself moves).
  bool on_heap() const { return !is_inline(); }

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
  void set_heap(char* pointer, bool in_slab) {
    std::memcpy(storage_, &pointer, sizeof(pointer));
    storage_[kSlabFlag] = in_slab ? 1 : 0;
  }
  void release() {
    if (!is_inline()) {
      if (storage_[kSlabFlag] != 0) {
        release_slab_value(heap());
      } else {
        delete[] heap();
      }
    }
    size_ = 0;
  }

  // In storage_ after the heap address: 1 when the bytes were carved from a slab.
  static constexpr size_t kSlabFlag = sizeof(char*);

  uint32_t size_;
  // The bytes themselves when inline, else the address of the heap buffer and the slab flag.
  char storage_[kInlineCapacity] = {};
};

static_assert(sizeof(StoredValue) == 16);

}  // namespace streamstate::internal
