// TTL cleanup strategies carried out by the backends: (d) the memory backend's cleanup and
// (c) RocksDB's compaction filter drop expired entries of TTL states on their own (the state
// columns are opened with ColumnOptions::values_carry_expiry), and leave them alone when the
// strategy is switched off. The backend and the store share one ManualClock.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "streamstate/backend_registry.h"
#include "streamstate/config.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/memory.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#endif

namespace streamstate::testing {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kTtl = 100;

StateTtlConfig ttl_config(bool in_compaction, bool in_background) {
  StateTtlConfig config;
  config.ttl = std::chrono::milliseconds(kTtl);
  config.visibility = TtlVisibility::kReturnExpiredIfNotCleanedUp;  // shows what is still stored
  config.cleanup_in_compaction = in_compaction;
  config.cleanup_in_background = in_background;
  return config;
}

size_t stored_entries(StateBackend& backend, const std::string& column) {
  size_t count = 0;
  EXPECT_OK(backend.column(column).value()->scan("", [&count](BytesView, BytesView) {
    ++count;
    return true;
  }));
  return count;
}

// Writes keys "a" and "b" at kStart and "late" at kStart + kTtl / 2 into a value state, and a
// list and a map entry for "a".
void write_state(KeyedStateStore& store, const StateTtlConfig& ttl, ManualClock& clock) {
  auto value = store.value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl});
  auto list = store.list_state(ListStateDescriptor<int64_t>{.name = "l", .ttl = ttl});
  auto map = store.map_state(MapStateDescriptor<int64_t, int64_t>{.name = "m", .ttl = ttl});
  ASSERT_OK(value);
  ASSERT_OK(list);
  ASSERT_OK(map);
  for (const char* key : {"a", "b"}) {
    ASSERT_OK(store.set_current_key(key));
    ASSERT_OK(value->update(1));
  }
  ASSERT_OK(list->add_all({1, 2}));
  ASSERT_OK(map->put(1, 1));
  clock.advance_millis(kTtl / 2);
  ASSERT_OK(store.set_current_key("late"));
  ASSERT_OK(value->update(2));
}

class MemoryBackgroundCleanupTest : public ::testing::TestWithParam<bool> {};

TEST_P(MemoryBackgroundCleanupTest, CleanupDropsExpiredStateOnlyWhenEnabled) {
  const bool enabled = GetParam();
  auto clock = std::make_shared<ManualClock>(kStart);
  MemoryBackendOptions options;
  options.clock = clock;
  auto opened = MemoryBackend::open(options);
  ASSERT_OK(opened);
  std::shared_ptr<MemoryBackend> backend(std::move(opened).value());
  auto store = KeyedStateStore::open(backend, {.clock = clock});
  ASSERT_OK(store);
  ASSERT_NO_FATAL_FAILURE(write_state(*store.value(), ttl_config(true, enabled), *clock));

  clock->set_millis(kStart + kTtl);
  auto removed = backend->cleanup_expired();
  ASSERT_OK(removed);
  // "a", "b", the list head, its 2 elements and the map entry had expired; "late" had not.
  EXPECT_EQ(removed.value(), enabled ? 6u : 0u);
  EXPECT_EQ(stored_entries(*backend, "v"), enabled ? 1u : 3u);
  EXPECT_EQ(stored_entries(*backend, "l"), enabled ? 0u : 3u);
  EXPECT_EQ(stored_entries(*backend, "m"), enabled ? 0u : 1u);
  auto value = store.value()->value_state(
      ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_config(true, enabled)});
  ASSERT_OK(value);
  ASSERT_OK(store.value()->set_current_key("a"));
  // ReturnExpiredIfNotCleanedUp: the value is returned only if no cleanup removed it.
  EXPECT_EQ(value->value().value().has_value(), !enabled);
  ASSERT_OK(store.value()->set_current_key("late"));
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(2));
}

INSTANTIATE_TEST_SUITE_P(cleanup, MemoryBackgroundCleanupTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "enabled" : "disabled";
                         });

#if STREAMSTATE_HAS_ROCKSDB
class RocksDbCompactionCleanupTest : public ::testing::TestWithParam<bool> {};

TEST_P(RocksDbCompactionCleanupTest, CompactionDropsExpiredStateOnlyWhenEnabled) {
  const bool enabled = GetParam();
  auto clock = std::make_shared<ManualClock>(kStart);
  TempDir directory;
  RocksDbBackendOptions options;
  options.path = directory.file("db");
  options.block_cache_bytes = uint64_t{8} << 20;
  options.write_buffer_bytes = uint64_t{4} << 20;
  options.clock = clock;  // the compaction filter's clock, shared with the store
  auto opened = RocksDbBackend::open(options);
  ASSERT_OK(opened);
  std::shared_ptr<RocksDbBackend> backend(std::move(opened).value());
  auto store = KeyedStateStore::open(backend, {.clock = clock});
  ASSERT_OK(store);
  ASSERT_NO_FATAL_FAILURE(write_state(*store.value(), ttl_config(enabled, true), *clock));
  ASSERT_OK(backend->flush());

  clock->set_millis(kStart + kTtl);
  ASSERT_OK(backend->compact());
  EXPECT_EQ(stored_entries(*backend, "v"), enabled ? 1u : 3u);
  EXPECT_EQ(stored_entries(*backend, "l"), enabled ? 0u : 3u);
  EXPECT_EQ(stored_entries(*backend, "m"), enabled ? 0u : 1u);
  auto value = store.value()->value_state(
      ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_config(enabled, true)});
  ASSERT_OK(value);
  ASSERT_OK(store.value()->set_current_key("a"));
  EXPECT_EQ(value->value().value().has_value(), !enabled);
  ASSERT_OK(store.value()->set_current_key("late"));
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(2));
  ASSERT_OK(backend->close());
}

INSTANTIATE_TEST_SUITE_P(cleanup, RocksDbCompactionCleanupTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "enabled" : "disabled";
                         });

// The registry's rocksdb backend judges expiry by the configured clock, also after a reopen
// before any state is opened again. The clock is far in the future of the wall clock, so a
// filter reading the wall clock would keep everything.
TEST(RocksDbCompactionCleanupRegistryTest, RegistryBackendCompactsByTheConfiguredClock) {
  constexpr int64_t kFuture = 4'102'444'800'000;  // 2100-01-01
  auto clock = std::make_shared<ManualClock>(kFuture);
  TempDir directory;
  StateConfig config;
  config.backend = "rocksdb";
  config.backend_options = {{"path", directory.file("db")}, {"write_buffer_bytes", "4194304"}};
  config.clock = clock;
  {
    auto opened = open_backend(config);
    ASSERT_OK(opened);
    std::shared_ptr<StateBackend> backend(std::move(opened).value());
    auto store = KeyedStateStore::open(backend, {.clock = clock});
    ASSERT_OK(store);
    ASSERT_NO_FATAL_FAILURE(write_state(*store.value(), ttl_config(true, true), *clock));
    ASSERT_OK(backend->close());
  }
  clock->set_millis(kFuture + kTtl);
  auto reopened = open_backend(config);
  ASSERT_OK(reopened);
  auto* backend = dynamic_cast<RocksDbBackend*>(reopened.value().get());
  ASSERT_NE(backend, nullptr);
  ASSERT_OK(backend->compact());
  EXPECT_EQ(stored_entries(*backend, "v"), 1u);
  EXPECT_EQ(stored_entries(*backend, "l"), 0u);
  EXPECT_EQ(stored_entries(*backend, "m"), 0u);
  ASSERT_OK(backend->close());
}
#endif

}  // namespace
}  // namespace streamstate::testing
