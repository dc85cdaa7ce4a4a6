// ValueSlab: 64 KiB blocks that bulk puts (restores) carve values out of, instead of one heap
// allocation per value. A restore of a million entries otherwise spends a large share of its
// time in malloc; carving is a pointer bump.
//
// A slab counts the values carved from it that are still alive (plus one for the cursor that
// is carving it) and frees itself when the count reaches zero, so a value's owner releases it
// with release_slab_value(data) without knowing the slab (slabs are aligned to their size; the
// count sits at the start). A slab lives while any of its values does: values that are later
// replaced by ones of another size, or removed, leave their bytes unused until the slab's last
// value goes (StoredValue reuses a value's bytes for a new value of the same size).
//
// Thread-safety: the count is atomic, so values of one slab may be released from any thread
// (values of one slab sit in many shards). A ValueSlabCursor is used by one thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace streamstate::internal {

inline constexpr size_t kValueSlabBytes = 64 * 1024;
// Longer values get a heap allocation of their own.
inline constexpr size_t kMaxSlabValueBytes = 1024;

struct alignas(16) ValueSlabHeader {
  std::atomic<uint32_t> references{1};  // live values + the cursor while it carves
};

inline void release_slab(ValueSlabHeader* slab) {
  if (slab->references.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    slab->~ValueSlabHeader();
    std::free(slab);
  }
}

// Releases a value carved from a slab, given its bytes.
inline void release_slab_value(const char* data) {
  auto* slab = reinterpret_cast<ValueSlabHeader*>(reinterpret_cast<uintptr_t>(data) & ~(kValueSlabBytes - 1));
  release_slab(slab);
}

class ValueSlabCursor {
 public:
  ValueSlabCursor() = default;
  ValueSlabCursor(const ValueSlabCursor&) = delete;
  ValueSlabCursor& operator=(const ValueSlabCursor&) = delete;
  ~ValueSlabCursor() {
    if (slab_ != nullptr) release_slab(slab_);
  }

  // Room for `size` bytes (1..kMaxSlabValueBytes) in the current slab or a new one; the slab
  // counts the value.
  char* carve(size_t size) {
    if (slab_ == nullptr || size > left_) {
      if (slab_ != nullptr) release_slab(slab_);
      void* memory = std::aligned_alloc(kValueSlabBytes, kValueSlabBytes);
      if (memory == nullptr) throw std::bad_alloc();
      slab_ = new (memory) ValueSlabHeader();
      next_ = static_cast<char*>(memory) + sizeof(ValueSlabHeader);
      left_ = kValueSlabBytes - sizeof(ValueSlabHeader);
    }
    slab_->references.fetch_add(1, std::memory_order_relaxed);
    char* at = next_;
    next_ += size;
    left_ -= size;
    return at;
  }

 private:
  ValueSlabHeader* slab_ = nullptr;
  char* next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace streamstate::internal
