// KeyedStateStore: options, key-group range, current key, descriptor conflicts, unbound
// handles and corrupt bytes.
#include "streamstate/keyed_state_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "testutil/status_matchers.h"
#include "unit/state/memory_store_helpers.h"

namespace streamstate::testing {
namespace {

// A key of the wanted key group (of 128), found by trying.
std::string key_in_group(uint32_t key_group) {
  for (int i = 0;; ++i) {
    std::string key = "key-" + std::to_string(i);
    if (key_group_for_key(key, kDefaultMaxParallelism) == key_group) return key;
  }
}

TEST(KeyedStateStoreTest, RejectsBadOptions) {
  EXPECT_STATUS(KeyedStateStore::open(nullptr), StatusCode::kInvalidArgument, "backend is null");
  EXPECT_STATUS(KeyedStateStore::open(memory_backend(), {.max_parallelism = 0}), StatusCode::kInvalidArgument,
                "max_parallelism");
  EXPECT_STATUS(KeyedStateStore::open(memory_backend(), {.key_groups = KeyGroupRange(100, 200)}),
                StatusCode::kInvalidArgument, "key_groups [100, 200)");
  EXPECT_STATUS(KeyedStateStore::open(memory_backend(), {.key_groups = KeyGroupRange(5, 5)}),
                StatusCode::kInvalidArgument, "non-empty");
}

TEST(KeyedStateStoreTest, KeysOutsideTheKeyGroupRangeAreRejected) {
  auto store = open_store(memory_backend(), {.key_groups = KeyGroupRange(0, 64)});
  auto count = store->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  const std::string inside = key_in_group(10);
  const std::string outside = key_in_group(100);
  ASSERT_OK(store->set_current_key(inside));
  EXPECT_EQ(store->current_key_group(), 10u);
  ASSERT_OK(count->update(1));
  EXPECT_STATUS(store->set_current_key(outside), StatusCode::kOutOfRange, "key group 100");
  EXPECT_STATUS(store->set_current_key(outside), StatusCode::kOutOfRange, "[0, 64)");
  // The failed call leaves no current key behind: nothing is written under the old key.
  EXPECT_FALSE(store->has_current_key());
  EXPECT_STATUS(count->update(2), StatusCode::kFailedPrecondition, "no current key");
  ASSERT_OK(store->set_current_key(inside));
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(1));
}

TEST(KeyedStateStoreTest, SetCurrentKeyInGroupReachesTheSameStateAsSetCurrentKey) {
  auto store = open_store(memory_backend(), {.key_groups = KeyGroupRange(0, 64)});
  auto count = store->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  const std::string inside = key_in_group(10);
  ASSERT_OK(store->set_current_key_in_group(10, inside));
  EXPECT_EQ(store->current_key_group(), 10u);
  EXPECT_EQ(store->current_key(), inside);
  ASSERT_OK(count->update(5));
  ASSERT_OK(store->set_current_key(inside));
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(5));
  // A group outside the range fails as set_current_key does and leaves no current key.
  EXPECT_STATUS(store->set_current_key_in_group(100, key_in_group(100)), StatusCode::kOutOfRange,
                "key group 100");
  EXPECT_FALSE(store->has_current_key());
}

TEST(KeyedStateStoreTest, StatesWithoutACurrentKeyFailNamingTheState) {
  auto store = open_store(memory_backend());
  auto value = store->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
  auto list = store->list_state(ListStateDescriptor<int64_t>{.name = "l"});
  auto map = store->map_state(MapStateDescriptor<int64_t, int64_t>{.name = "m"});
  ASSERT_OK(value);
  ASSERT_OK(list);
  ASSERT_OK(map);
  EXPECT_STATUS(value->value(), StatusCode::kFailedPrecondition, "state 'v': no current key");
  EXPECT_STATUS(list->add(1), StatusCode::kFailedPrecondition, "state 'l': no current key");
  EXPECT_STATUS(map->keys(), StatusCode::kFailedPrecondition, "state 'm': no current key");
}

TEST(KeyedStateStoreTest, StateKeysFollowTheDocumentedLayout) {
  auto backend = memory_backend();
  auto store = open_store(backend);
  auto value = store->value_state(ValueStateDescriptor<int32_t>{.name = "v"});
  ASSERT_OK(value);
  ASSERT_OK(store->set_current_key("user"));
  ASSERT_OK(store->set_current_namespace("ns"));
  ASSERT_OK(value->update(7));
  const uint32_t group = key_group_for_key("user", kDefaultMaxParallelism);
  auto stored = backend->column("v").value()->get(make_state_key(group, "user", "ns"));
  ASSERT_OK(stored);
  EXPECT_EQ(stored.value(), std::optional<std::string>(encode_value(int32_t{7})));
}

TEST(KeyedStateStoreTest, ANameRegisteredTwiceMustDescribeTheSameState) {
  auto store = open_store(memory_backend());
  ASSERT_OK(store->value_state(ValueStateDescriptor<int64_t>{.name = "count"}));
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<std::string>{.name = "count"}),
                StatusCode::kInvalidArgument,
                "state 'count' is already registered in this store as a value state (codec 'i64'");
  EXPECT_STATUS(store->list_state(ListStateDescriptor<int64_t>{.name = "count"}),
                StatusCode::kInvalidArgument, "requested as a list state (codec 'i64'");
  StateTtlConfig ttl;
  ttl.ttl = std::chrono::seconds(1);
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<int64_t>{.name = "count", .ttl = ttl}),
                StatusCode::kInvalidArgument, "different TTL configuration");
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<int64_t>{.name = "count", .schema = {1, 1, 0}}),
                StatusCode::kInvalidArgument, "different schema version");
  // A different default value is the same state (defaults are not stored).
  EXPECT_OK(store->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 5}));
}

TEST(KeyedStateStoreTest, BadNamesAndDescriptorsAreRejected) {
  auto store = open_store(memory_backend());
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<int64_t>{.name = "has space"}),
                StatusCode::kInvalidArgument, "has space");
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<int64_t>{.name = ""}), StatusCode::kInvalidArgument,
                "state name");
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<int64_t>{.name = "_ss.mine"}),
                StatusCode::kInvalidArgument, "reserved");
  StateTtlConfig negative;
  negative.ttl = std::chrono::milliseconds(-1);
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = negative}),
                StatusCode::kInvalidArgument, "state 'v': StateTtlConfig.ttl is -1 ms");
  StateTtlConfig cleanup_without_ttl;
  cleanup_without_ttl.incremental_cleanup_entries = 5;
  EXPECT_STATUS(store->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = cleanup_without_ttl}),
                StatusCode::kInvalidArgument, "incremental_cleanup_entries is 5 but ttl is 0");
  EXPECT_STATUS(store->reducing_state(ReducingStateDescriptor<int64_t>{.name = "r"}),
                StatusCode::kInvalidArgument,
                "reducing state 'r': the descriptor's reduce function is empty");
  EXPECT_STATUS((store->aggregating_state(AggregatingStateDescriptor<int64_t, int64_t, int64_t>{
                    .name = "a", .create_accumulator = [] { return int64_t{0}; }})),
                StatusCode::kInvalidArgument, "add function is empty");
}

TEST(KeyedStateStoreTest, UnboundHandlesFailCleanly) {
  ValueState<int64_t> value;
  ListState<int64_t> list;
  MapState<int64_t, int64_t> map;
  ReducingState<int64_t> reducing;
  AggregatingState<int64_t, int64_t, int64_t> aggregating;
  EXPECT_EQ(value.name(), "");
  EXPECT_STATUS(value.value(), StatusCode::kFailedPrecondition, "ValueState handle is not bound");
  EXPECT_STATUS(list.add(1), StatusCode::kFailedPrecondition, "ListState handle is not bound");
  EXPECT_STATUS(map.get(1), StatusCode::kFailedPrecondition, "MapState handle is not bound");
  EXPECT_STATUS(reducing.add(1), StatusCode::kFailedPrecondition, "ReducingState handle is not bound");
  EXPECT_STATUS(aggregating.get(), StatusCode::kFailedPrecondition, "AggregatingState handle is not bound");
}

TEST(KeyedStateStoreTest, UndecodableBytesAreCorruptionNamingStateAndKey) {
  auto backend = memory_backend();
  auto store = open_store(backend);
  auto value = store->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
  auto map = store->map_state(MapStateDescriptor<std::string, int64_t>{.name = "m"});
  auto list = store->list_state(ListStateDescriptor<int64_t>{.name = "l"});
  ASSERT_OK(value);
  ASSERT_OK(map);
  ASSERT_OK(list);
  ASSERT_OK(store->set_current_key("user-7"));
  ASSERT_OK(list->add(1));
  const uint32_t group = store->current_key_group();
  // Three bytes cannot be an i64.
  ASSERT_OK(backend->column("v").value()->put(make_state_key(group, "user-7"), "abc"));
  EXPECT_STATUS(value->value(), StatusCode::kCorruption, "state 'v' (value state, codec 'i64')");
  EXPECT_STATUS(value->value(), StatusCode::kCorruption, "user key 'user-7'");
  // A map entry whose key bytes are not a valid string encoding.
  std::string scoped = make_state_key(group, "user-7");
  put_varint32(scoped, 0);
  ASSERT_OK(backend->column("m").value()->put(scoped + "\x09"
                                                       "ab",
                                              encode_value(int64_t{1})));
  EXPECT_STATUS(map->keys(), StatusCode::kCorruption, "state 'm' (map state, codec 'string => i64')");
  // A list head that is not 16 bytes.
  ASSERT_OK(backend->column("l").value()->put(scoped, "short"));
  EXPECT_STATUS(list->get(), StatusCode::kCorruption, "state 'l' (list state, codec 'i64')");
  EXPECT_STATUS(list->add(2), StatusCode::kCorruption, "list head has 5 bytes");
}

TEST(KeyedStateStoreTest, TtlValuesTooShortForTheirHeaderAreCorruption) {
  auto backend = memory_backend();
  auto store = open_store(backend);
  StateTtlConfig ttl;
  ttl.ttl = std::chrono::minutes(1);
  auto value = store->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl});
  ASSERT_OK(value);
  ASSERT_OK(store->set_current_key("k"));
  ASSERT_OK(backend->column("v").value()->put(make_state_key(store->current_key_group(), "k"), "1234"));
  EXPECT_STATUS(value->value(), StatusCode::kCorruption, "too short for its 8-byte expiry header");
  auto snapshot = store->snapshot();
  ASSERT_OK(snapshot);
  auto iterator = snapshot.value()->iterate("v");
  ASSERT_OK(iterator);
  EXPECT_FALSE(iterator.value()->valid());
  EXPECT_STATUS(iterator.value()->status(), StatusCode::kCorruption, "state 'v'");
}

TEST(KeyedStateStoreTest, SnapshotListsTheStoresColumns) {
  auto store = open_store(memory_backend());
  ASSERT_OK(store->value_state(ValueStateDescriptor<int64_t>{.name = "b"}));
  ASSERT_OK(store->value_state(ValueStateDescriptor<int64_t>{.name = "a"}));
  auto snapshot = store->snapshot();
  ASSERT_OK(snapshot);
  EXPECT_EQ(snapshot.value()->columns(), (std::vector<std::string>{"_ss.states", "a", "b"}));
  EXPECT_EQ(store->state_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_STATUS(snapshot.value()->iterate("missing"), StatusCode::kNotFound, "missing");
}

}  // namespace
}  // namespace streamstate::testing
