// TableAllocator: the allocator of the memory backend's hash tables. Small tables come from the
// ordinary heap; a table of kHugePageBytes or more is placed at a 2 MiB boundary and offered to
// the kernel's transparent huge pages (madvise MADV_HUGEPAGE), so that random lookups in a
// table far larger than the CPU caches cost one TLB entry per 2 MiB instead of per 4 KiB - on a
// table of hundreds of megabytes most lookups otherwise pay a page walk beside the cache miss.
// RocksDB offers the same for its memtables (memtable_huge_page_size). Where the kernel has
// transparent huge pages off ("never"), madvise is a no-op and the memory is ordinary.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace streamstate::internal {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

template <typename T>
class TableAllocator {
 public:
  using value_type = T;

  TableAllocator() = default;
  template <typename U>
  TableAllocator(const TableAllocator<U>&) noexcept {}  // NOLINT: allocators convert implicitly

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return std::allocator<T>().allocate(n);
    // aligned_alloc needs a size that is a multiple of the alignment.
    const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* memory = std::aligned_alloc(kHugePageBytes, rounded);
    if (memory == nullptr) throw std::bad_alloc();
    (void)madvise(memory, rounded, MADV_HUGEPAGE);  // advice only: failure leaves small pages
    return static_cast<T*>(memory);
  }

  void deallocate(T* pointer, size_t n) noexcept {
    if (n * sizeof(T) < kHugePageBytes) {
      std::allocator<T>().deallocate(pointer, n);
    } else {
      std::free(pointer);
    }
  }

  template <typename U>
  bool operator==(const TableAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace streamstate::internal
