// Decoders never allocate from an unchecked length: a length field claiming a gigabyte, in the
// last record or in the middle of the log, makes open() and replay() allocate no more than
// their read window. This binary's operator new records the largest request while a test
// watches.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>

#include "streamstate/wal.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/wal/wal_test_util.h"

namespace {

std::atomic<bool> watching{false};
std::atomic<size_t> largest{0};

void* allocate(size_t size) {
  if (watching.load(std::memory_order_relaxed)) {
    size_t seen = largest.load(std::memory_order_relaxed);
    while (size > seen && !largest.compare_exchange_weak(seen, size)) {
    }
  }
  void* memory = std::malloc(size == 0 ? 1 : size);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

// Out of line, so that the compiler does not pair an inlined new with free() and warn.
[[gnu::noinline]] void release(void* memory) noexcept { std::free(memory); }

}  // namespace

void* operator new(size_t size) { return allocate(size); }
void* operator new[](size_t size) { return allocate(size); }
void operator delete(void* memory) noexcept { release(memory); }
void operator delete[](void* memory) noexcept { release(memory); }
void operator delete(void* memory, size_t) noexcept { release(memory); }
void operator delete[](void* memory, size_t) noexcept { release(memory); }

namespace streamstate {
namespace {

namespace fs = std::filesystem;

// Largest allocation while `work` runs.
template <typename Work>
size_t largest_allocation(Work work) {
  largest = 0;
  watching = true;
  work();
  watching = false;
  return largest.load();
}

constexpr uint32_t kGigabyte = 1U << 30;
constexpr size_t kAllowed = 4U << 20;  // the 1 MiB read window and change

std::string segment_with_claimed_length(bool in_the_middle) {
  std::string bytes = wal::encode_segment_header({1, 1});
  wal::append_record(bytes, 1, 1, "first");
  size_t damaged = bytes.size();
  wal::append_record(bytes, 1, 2, "second");
  wal::append_record(bytes, 1, 3, "third");
  if (!in_the_middle) damaged = bytes.size() - wal::kRecordOverheadBytes - 5;
  std::string length;
  put_fixed32(length, kGigabyte - 1);
  bytes.replace(damaged, 4, length);
  return bytes;
}

TEST(WalAllocationTest, GigabyteLengthInTheLastRecordAllocatesNothingLikeIt) {
  testing::TempDir root;
  std::string path = root.file("wal");
  fs::create_directories(path);
  testing::write_file(testing::segment_path(path, 1), segment_with_claimed_length(false));
  WalOptions options = testing::wal_options(path);
  options.max_record_bytes = kGigabyte;
  size_t most = largest_allocation([&] {
    auto wal = Wal::open(options);
    ASSERT_OK(wal);
    EXPECT_EQ((*wal)->statistics().last_sequence, 2u);
    EXPECT_EQ(testing::replay_all(**wal).value().size(), 2u);
  });
  EXPECT_LT(most, kAllowed);
}

TEST(WalAllocationTest, GigabyteLengthInAMiddleRecordAllocatesNothingLikeIt) {
  testing::TempDir root;
  std::string path = root.file("wal");
  fs::create_directories(path);
  testing::write_file(testing::segment_path(path, 1), segment_with_claimed_length(true));
  WalOptions options = testing::wal_options(path);
  options.max_record_bytes = kGigabyte;
  size_t most = largest_allocation(
      [&] { EXPECT_STATUS(Wal::open(options), StatusCode::kCorruption, "runs past the end of the file"); });
  EXPECT_LT(most, kAllowed);
}

}  // namespace
}  // namespace streamstate
