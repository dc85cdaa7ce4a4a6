// The ValueState hot path allocates nothing beyond what the backend itself allocates: a
// value() + update() pair is compared with a raw get_into + put of the same bytes, and
// update_with with a raw StateColumn::update storing the same bytes, counting
// heap allocations made by this thread (operator new is replaced in this test binary; the
// counter only counts while a measurement runs on the measuring thread).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "streamstate/keyed_state_store.h"
#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "testutil/status_matchers.h"

// GCC flags free() of memory from operator new even though this file replaces both halves.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

thread_local bool counting = false;
thread_local uint64_t allocations = 0;

}  // namespace

void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

namespace streamstate::testing {
namespace {

constexpr int kRounds = 1000;

template <typename Fn>
uint64_t count_allocations(Fn&& fn) {
  allocations = 0;
  counting = true;
  fn();
  counting = false;
  return allocations;
}

class ValueStateAllocationTest : public ::testing::TestWithParam<bool> {};

TEST(AllocationCounterTest, CountsHeapAllocationsOfThisThread) {
  std::string* volatile sink = nullptr;
  EXPECT_GE(count_allocations([&] { sink = new std::string(100, 'x'); }), 2u);
  delete sink;
}

TEST_P(ValueStateAllocationTest, ReadModifyWriteAllocatesNoMoreThanTheBackend) {
  const bool with_ttl = GetParam();
  auto opened = MemoryBackend::open(MemoryBackendOptions{});
  ASSERT_OK(opened);
  std::shared_ptr<StateBackend> backend(std::move(opened).value());
  auto store = KeyedStateStore::open(backend);
  ASSERT_OK(store);
  StateTtlConfig ttl;
  if (with_ttl) ttl.ttl = std::chrono::hours(1);
  auto counter = store.value()->value_state(ValueStateDescriptor<int64_t>{.name = "counter", .ttl = ttl});
  ASSERT_OK(counter);
  ASSERT_OK(store.value()->set_current_key("user-1"));
  // Warm up: the first calls size the store's buffers.
  for (int i = 0; i < 3; ++i) ASSERT_OK(counter->update(counter->value().value().value_or(0) + 1));

  bool all_ok = true;
  const uint64_t state_allocations = count_allocations([&] {
    for (int i = 0; i < kRounds; ++i) {
      Result<std::optional<int64_t>> value = counter->value();
      all_ok = all_ok && value.is_ok() && counter->update(value.value().value_or(0) + 1).is_ok();
    }
  });
  ASSERT_TRUE(all_ok);
  EXPECT_EQ(counter->value().value(), std::optional<int64_t>(kRounds + 3));

  // The same bytes, straight to the backend.
  auto raw = backend->column("raw");
  ASSERT_OK(raw);
  const std::string key = make_state_key(store.value()->current_key_group(), "user-1");
  const std::string stored((with_ttl ? 8 : 0) + sizeof(int64_t), 'x');
  std::string buffer;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(raw.value()->put(key, stored));
    ASSERT_OK(raw.value()->get_into(key, buffer));
  }
  const uint64_t raw_allocations = count_allocations([&] {
    for (int i = 0; i < kRounds; ++i) {
      all_ok = all_ok && raw.value()->get_into(key, buffer).is_ok() && raw.value()->put(key, stored).is_ok();
    }
  });
  ASSERT_TRUE(all_ok);
  RecordProperty("state_allocations", std::to_string(state_allocations));
  RecordProperty("raw_allocations", std::to_string(raw_allocations));
  EXPECT_LE(state_allocations, raw_allocations)
      << "value()+update() allocated " << state_allocations << " times in " << kRounds
      << " rounds; the raw backend calls allocated " << raw_allocations;
}

TEST_P(ValueStateAllocationTest, UpdateWithAllocatesNoMoreThanABackendUpdate) {
  const bool with_ttl = GetParam();
  auto opened = MemoryBackend::open(MemoryBackendOptions{});
  ASSERT_OK(opened);
  std::shared_ptr<StateBackend> backend(std::move(opened).value());
  auto store = KeyedStateStore::open(backend);
  ASSERT_OK(store);
  StateTtlConfig ttl;
  if (with_ttl) ttl.ttl = std::chrono::hours(1);
  auto counter = store.value()->value_state(
      ValueStateDescriptor<int64_t>{.name = "counter", .default_value = 0, .ttl = ttl});
  ASSERT_OK(counter);
  ASSERT_OK(store.value()->set_current_key("user-1"));
  const auto increment = [](int64_t n) { return n + 1; };
  for (int i = 0; i < 3; ++i) ASSERT_OK(counter->update_with(increment));

  bool all_ok = true;
  const uint64_t state_allocations = count_allocations([&] {
    for (int i = 0; i < kRounds; ++i) all_ok = all_ok && counter->update_with(increment).is_ok();
  });
  ASSERT_TRUE(all_ok);
  EXPECT_EQ(counter->value_or_default().value(), kRounds + 3);

  // The same bytes through the backend's own read-modify-write.
  auto raw = backend->column("raw");
  ASSERT_OK(raw);
  const std::string key = make_state_key(store.value()->current_key_group(), "user-1");
  const std::string stored((with_ttl ? 8 : 0) + sizeof(int64_t), 'x');
  const UpdateFunction rewrite = [&stored](std::optional<BytesView>) { return std::optional<std::string>(stored); };
  for (int i = 0; i < 3; ++i) ASSERT_OK(raw.value()->update(key, rewrite));
  const uint64_t raw_allocations = count_allocations([&] {
    for (int i = 0; i < kRounds; ++i) all_ok = all_ok && raw.value()->update(key, rewrite).is_ok();
  });
  ASSERT_TRUE(all_ok);
  RecordProperty("state_allocations", std::to_string(state_allocations));
  RecordProperty("raw_allocations", std::to_string(raw_allocations));
  EXPECT_LE(state_allocations, raw_allocations)
      << "update_with allocated " << state_allocations << " times in " << kRounds
      << " rounds; the raw backend update allocated " << raw_allocations;
}

INSTANTIATE_TEST_SUITE_P(ttl, ValueStateAllocationTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "with_ttl" : "without_ttl";
                         });

}  // namespace
}  // namespace streamstate::testing
