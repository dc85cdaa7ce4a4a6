// KeyedStateStore::flush() and close(): after close every state handle fails with kClosed and
// holds nothing of the backend, so a RocksDB directory can be reopened while old handles live.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "streamstate/config.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/memory.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/state/memory_store_helpers.h"

#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#endif

namespace streamstate::testing {
namespace {

// One handle of every kind, opened on one store.
struct AllHandles {
  ValueState<int64_t> value;
  ListState<int64_t> list;
  MapState<std::string, int64_t> map;
  ReducingState<int64_t> reducing;
  AggregatingState<int64_t, int64_t, int64_t> aggregating;
};

AllHandles open_all(KeyedStateStore& store) {
  AllHandles handles;
  handles.value = store.value_state(ValueStateDescriptor<int64_t>{.name = "value"}).value();
  handles.list = store.list_state(ListStateDescriptor<int64_t>{.name = "list"}).value();
  handles.map = store.map_state(MapStateDescriptor<std::string, int64_t>{.name = "map"}).value();
  handles.reducing = store
                         .reducing_state(ReducingStateDescriptor<int64_t>{
                             .name = "reducing", .reduce = [](int64_t a, int64_t b) { return a + b; }})
                         .value();
  handles.aggregating =
      store
          .aggregating_state(AggregatingStateDescriptor<int64_t, int64_t, int64_t>{
              .name = "aggregating",
              .create_accumulator = [] { return int64_t{0}; },
              .add = [](int64_t& accumulator, const int64_t& value) { accumulator += value; },
              .get_result = [](const int64_t& accumulator) { return accumulator; }})
          .value();
  return handles;
}

void expect_all_closed(AllHandles& handles) {
  EXPECT_STATUS(handles.value.value(), StatusCode::kClosed, "state 'value': its KeyedStateStore was closed");
  EXPECT_STATUS(handles.value.update(1), StatusCode::kClosed, "state 'value'");
  EXPECT_STATUS(handles.value.clear(), StatusCode::kClosed, "state 'value'");
  EXPECT_STATUS(handles.list.add(1), StatusCode::kClosed, "state 'list'");
  EXPECT_STATUS(handles.list.get(), StatusCode::kClosed, "state 'list'");
  EXPECT_STATUS(handles.list.update({1, 2}), StatusCode::kClosed, "state 'list'");
  EXPECT_STATUS(handles.map.put("a", 1), StatusCode::kClosed, "state 'map'");
  EXPECT_STATUS(handles.map.get("a"), StatusCode::kClosed, "state 'map'");
  EXPECT_STATUS(handles.map.entries(), StatusCode::kClosed, "state 'map'");
  EXPECT_STATUS(handles.map.is_empty(), StatusCode::kClosed, "state 'map'");
  EXPECT_STATUS(handles.map.remove("a"), StatusCode::kClosed, "state 'map'");
  EXPECT_STATUS(handles.reducing.add(1), StatusCode::kClosed, "state 'reducing'");
  EXPECT_STATUS(handles.reducing.get(), StatusCode::kClosed, "state 'reducing'");
  EXPECT_STATUS(handles.aggregating.add(1), StatusCode::kClosed, "state 'aggregating'");
  EXPECT_STATUS(handles.aggregating.get(), StatusCode::kClosed, "state 'aggregating'");
}

TEST(KeyedStateLifecycleTest, EveryHandleFailsWithClosedAfterClose) {
  auto backend = memory_backend();
  auto store = open_store(backend);
  AllHandles handles = open_all(*store);
  ASSERT_OK(store->set_current_key("user-1"));
  ASSERT_OK(handles.value.update(7));
  ASSERT_OK(handles.list.add(7));
  ASSERT_OK(handles.map.put("a", 7));
  ASSERT_OK(store->flush());
  ASSERT_OK(store->close());
  EXPECT_TRUE(store->is_closed());
  expect_all_closed(handles);
  // Copies made before the close share the closed state.
  ValueState<int64_t> copy = handles.value;
  EXPECT_STATUS(copy.value(), StatusCode::kClosed, "state 'value'");
}

TEST(KeyedStateLifecycleTest, TheStoreRefusesWorkAfterCloseAndCloseIsIdempotent) {
  auto store = open_store(memory_backend());
  ASSERT_OK(store->close());
  EXPECT_OK(store->close());
  EXPECT_STATUS(store->set_current_key("k"), StatusCode::kClosed, "KeyedStateStore::set_current_key");
  EXPECT_STATUS(store->set_current_namespace("w"), StatusCode::kClosed, "set_current_namespace");
  EXPECT_STATUS(store->flush(), StatusCode::kClosed, "KeyedStateStore::flush");
  EXPECT_STATUS(store->snapshot(), StatusCode::kClosed, "KeyedStateStore::snapshot");
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<int64_t>{.name = "v"}), StatusCode::kClosed,
                "opening state 'v'");
  EXPECT_STATUS(store->register_migration("v", 1, 2, [](BytesView b) { return Result<std::string>(std::string(b)); }),
                StatusCode::kClosed, "register_migration");
  EXPECT_STATUS(store->register_ttl_change("v", TtlChange::kEnable), StatusCode::kClosed, "register_ttl_change");
  EXPECT_EQ(store->backend(), nullptr);
}

TEST(KeyedStateLifecycleTest, CloseClosesTheBackendUnlessTheOptionSaysOtherwise) {
  auto owned = memory_backend();
  auto store = open_store(owned);
  ASSERT_OK(store->close());
  EXPECT_STATUS(owned->column("x"), StatusCode::kClosed, "closed");

  auto shared = memory_backend();
  auto first = open_store(shared, {.close_backend_on_close = false});
  auto value = first->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
  ASSERT_OK(value);
  ASSERT_OK(first->set_current_key("k"));
  ASSERT_OK(value->update(5));
  ASSERT_OK(first->close());
  EXPECT_STATUS(value->value(), StatusCode::kClosed, "state 'v'");
  // The backend is still open for its other users, with the data.
  auto second = open_store(shared);
  auto reread = second->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
  ASSERT_OK(reread);
  ASSERT_OK(second->set_current_key("k"));
  EXPECT_EQ(reread->value().value(), std::optional<int64_t>(5));
}

TEST(KeyedStateLifecycleTest, HandlesOutlivingADestroyedStoreFailWithClosed) {
  auto backend = memory_backend();
  std::weak_ptr<StateBackend> weak = backend;
  AllHandles handles;
  {
    auto store = open_store(std::move(backend));
    handles = open_all(*store);
    ASSERT_OK(store->set_current_key("user-1"));
    ASSERT_OK(handles.value.update(1));
  }
  // The handles no longer keep the backend alive.
  EXPECT_TRUE(weak.expired());
  expect_all_closed(handles);
}

#if STREAMSTATE_HAS_ROCKSDB
RocksDbBackendOptions rocksdb_options(const std::string& path) {
  RocksDbBackendOptions options;
  options.path = path;
  return options;
}

std::shared_ptr<StateBackend> rocksdb_backend(const std::string& path) {
  const RocksDbBackendOptions options = rocksdb_options(path);
  auto backend = RocksDbBackend::open(options);
  EXPECT_OK(backend);
  if (!backend.is_ok()) return nullptr;
  return std::shared_ptr<StateBackend>(std::move(backend).value());
}

// The RocksDB lock is released by close() although a handle of the closed store still exists.
TEST(KeyedStateLifecycleTest, RocksDbReopensAfterCloseWhileAnOldHandleLives) {
  TempDir directory;
  const std::string path = directory.file("db");
  auto store = open_store(rocksdb_backend(path));
  auto count = store->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  ASSERT_OK(store->set_current_key("user-1"));
  ASSERT_OK(count->update(41));
  ASSERT_OK(store->close());

  auto reopened = RocksDbBackend::open(rocksdb_options(path));
  ASSERT_OK(reopened);
  EXPECT_STATUS(count->value(), StatusCode::kClosed, "state 'count': its KeyedStateStore was closed");
  EXPECT_STATUS(count->update(1), StatusCode::kClosed, "state 'count'");
  auto again = open_store(std::shared_ptr<StateBackend>(std::move(reopened).value()));
  auto reread = again->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(reread);
  ASSERT_OK(again->set_current_key("user-1"));
  EXPECT_EQ(reread->value().value(), std::optional<int64_t>(41));
  EXPECT_OK(again->close());
}

size_t table_files(const std::string& path) {
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) count += entry.path().extension() == ".sst";
  return count;
}

// flush() is the backend's: on RocksDB the memtables reach table files.
TEST(KeyedStateLifecycleTest, FlushWritesRocksDbTableFiles) {
  TempDir directory;
  const std::string path = directory.file("db");
  auto store = open_store(rocksdb_backend(path));
  auto count = store->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  ASSERT_OK(store->set_current_key("user-1"));
  ASSERT_OK(count->update(41));
  const size_t before = table_files(path);
  ASSERT_OK(store->flush());
  EXPECT_GT(table_files(path), before);
  ASSERT_OK(store->close());
}

// Without close(): destroying the store (its only owner) releases the lock too.
TEST(KeyedStateLifecycleTest, RocksDbReopensAfterTheStoreIsDestroyedWhileAnOldHandleLives) {
  TempDir directory;
  const std::string path = directory.file("db");
  ValueState<int64_t> count;
  {
    auto store = open_store(rocksdb_backend(path));
    count = store->value_state(ValueStateDescriptor<int64_t>{.name = "count"}).value();
    ASSERT_OK(store->set_current_key("user-1"));
    ASSERT_OK(count.update(41));
  }
  ASSERT_OK(RocksDbBackend::open(rocksdb_options(path)));
  EXPECT_STATUS(count.value(), StatusCode::kClosed, "state 'count'");
}
#endif

}  // namespace
}  // namespace streamstate::testing
