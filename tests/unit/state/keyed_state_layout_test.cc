// The key-group layout a store records on first open: a later open with another
// max_parallelism fails naming both values, and rescale_keyed_state moves every stored key to
// another max_parallelism, restartably.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "state/state_record.h"
#include "streamstate/rescale.h"
#include "streamstate/state_access.h"
#include "unit/state/state_test_backends.h"

namespace streamstate::testing {
namespace {

constexpr int kKeys = 300;

class KeyedStateLayoutTest : public StateBackendTest {
 protected:
  std::string user(int i) { return "user-" + std::to_string(i); }

  // A value, a list and a map entry (in namespace "w") for every user, under the open store.
  void write_state() {
    auto value = store_->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
    auto list = store_->list_state(ListStateDescriptor<int64_t>{.name = "l"});
    auto map = store_->map_state(MapStateDescriptor<std::string, int64_t>{.name = "m"});
    ASSERT_OK(value);
    ASSERT_OK(list);
    ASSERT_OK(map);
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_OK(store_->set_current_key(user(i)));
      ASSERT_OK(value->update(i));
      ASSERT_OK(list->add_all({i, i + 1}));
      ASSERT_OK(store_->set_current_namespace("w"));
      ASSERT_OK(map->put("k", i));
      ASSERT_OK(store_->set_current_namespace(""));
    }
  }

  // Reads everything write_state() wrote through a store with `max_parallelism`.
  void expect_state(uint32_t max_parallelism) {
    auto store = KeyedStateStore::open(backend_, {.max_parallelism = max_parallelism, .clock = clock_});
    ASSERT_OK(store);
    auto value = store.value()->value_state(ValueStateDescriptor<int64_t>{.name = "v"});
    auto list = store.value()->list_state(ListStateDescriptor<int64_t>{.name = "l"});
    auto map = store.value()->map_state(MapStateDescriptor<std::string, int64_t>{.name = "m"});
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_OK(store.value()->set_current_key(user(i)));
      ASSERT_EQ(value->value().value(), std::optional<int64_t>(i)) << user(i);
      ASSERT_EQ(list->get().value(), (std::vector<int64_t>{i, i + 1})) << user(i);
      ASSERT_OK(store.value()->set_current_namespace("w"));
      ASSERT_EQ(map->get("k").value(), std::optional<int64_t>(i)) << user(i);
      ASSERT_OK(store.value()->set_current_namespace(""));
    }
  }

  Result<internal::LayoutRecord> layout() {
    auto bytes = backend_->column("_ss.states").value()->get(internal::kLayoutKey);
    if (!bytes.is_ok()) return bytes.status();
    if (!bytes->has_value()) return Status::not_found("no layout record");
    return internal::decode_layout_record(**bytes);
  }

  void put_layout(const internal::LayoutRecord& record) {
    auto states = backend_->column("_ss.states");
    ASSERT_OK(states);
    ASSERT_OK(states.value()->put(internal::kLayoutKey, internal::encode_layout_record(record)));
  }

  // A restart for persistent backends; the same backend otherwise. The store is gone after it.
  void drop_store() {
    if (persistent()) {
      ASSERT_NO_FATAL_FAILURE(restart());
    }
    store_.reset();
  }
};

TEST_P(KeyedStateLayoutTest, TheFirstOpenRecordsMaxParallelismAndTheHash) {
  auto recorded = layout();
  ASSERT_OK(recorded);
  EXPECT_EQ(recorded->max_parallelism, kDefaultMaxParallelism);
  EXPECT_EQ(recorded->key_group_hash, "xxh3-64-seed0-mod");
  EXPECT_EQ(recorded->rescale_target, 0u);
}

TEST_P(KeyedStateLayoutTest, ReopeningWithAnotherMaxParallelismFailsNamingBoth) {
  ASSERT_NO_FATAL_FAILURE(write_state());
  ASSERT_NO_FATAL_FAILURE(drop_store());
  EXPECT_STATUS(KeyedStateStore::open(backend_, {.max_parallelism = 256, .clock = clock_}),
                StatusCode::kFailedPrecondition,
                "KeyedStateStoreOptions.max_parallelism is 256 but the backend's keyed state was written with "
                "max_parallelism 128");
  EXPECT_STATUS(KeyedStateStore::open(backend_, {.max_parallelism = 256, .clock = clock_}),
                StatusCode::kFailedPrecondition, "rescale_keyed_state(backend, 128, 256)");
  // The same value still opens, and the failed attempt recorded nothing.
  ASSERT_NO_FATAL_FAILURE(expect_state(kDefaultMaxParallelism));
  EXPECT_EQ(layout()->max_parallelism, kDefaultMaxParallelism);
}

TEST_P(KeyedStateLayoutTest, StateAccessIsBoundToTheRecordedLayoutToo) {
  ASSERT_NO_FATAL_FAILURE(write_state());
  ASSERT_NO_FATAL_FAILURE(drop_store());
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "counter", {}, clock_, 256), StatusCode::kFailedPrecondition,
                "StateAccess 'counter': KeyedStateStoreOptions.max_parallelism is 256 but the backend's keyed state "
                "was written with max_parallelism 128");
  ASSERT_OK(StateAccess<int64_t>::open(backend_, "counter", {}, clock_, kDefaultMaxParallelism));
}

TEST_P(KeyedStateLayoutTest, AnotherKeyGroupHashIsRefused) {
  put_layout({.max_parallelism = kDefaultMaxParallelism, .key_group_hash = "murmur3-mod"});
  EXPECT_STATUS(KeyedStateStore::open(backend_, {.clock = clock_}), StatusCode::kFailedPrecondition,
                "written with key-group hash 'murmur3-mod'");
}

TEST_P(KeyedStateLayoutTest, RescaleMovesEveryKeyToItsNewKeyGroup) {
  ASSERT_NO_FATAL_FAILURE(write_state());
  ASSERT_NO_FATAL_FAILURE(drop_store());
  ASSERT_OK(rescale_keyed_state(*backend_, 128, 256));
  EXPECT_EQ(layout().value(), (internal::LayoutRecord{.max_parallelism = 256}));
  ASSERT_NO_FATAL_FAILURE(expect_state(256));
  EXPECT_STATUS(KeyedStateStore::open(backend_, {.max_parallelism = 128, .clock = clock_}),
                StatusCode::kFailedPrecondition, "max_parallelism is 128 but");
  // Every stored key now carries its key group under 256.
  for (const std::string column : {"v", "l", "m"}) {
    auto handle = backend_->column(column);
    ASSERT_OK(handle);
    size_t entries = 0;
    std::vector<std::string> keys;
    ASSERT_OK(handle.value()->scan("", [&](BytesView key, BytesView) {
      keys.emplace_back(key);
      return true;
    }));
    for (const std::string& key : keys) {
      auto parts = decode_state_key(key);
      ASSERT_OK(parts);
      EXPECT_EQ(parts->key_group, key_group_for_key(parts->user_key, 256));
      ++entries;
    }
    EXPECT_EQ(entries, column == "l" ? 3u * kKeys : size_t{kKeys}) << column;
  }
  // Repeating it is a no-op; going back works too.
  ASSERT_OK(rescale_keyed_state(*backend_, 128, 256));
  ASSERT_OK(rescale_keyed_state(*backend_, 256, 64));
  ASSERT_NO_FATAL_FAILURE(expect_state(64));
}

// A rescale interrupted half-way (some keys moved, the record saying "128 -> 256") blocks
// stores and is finished by running it again.
TEST_P(KeyedStateLayoutTest, AnInterruptedRescaleIsFinishedByRunningItAgain) {
  ASSERT_NO_FATAL_FAILURE(write_state());
  ASSERT_NO_FATAL_FAILURE(drop_store());
  // Move the value of every other user by hand, as a crashed rescale would have left it.
  auto column = backend_->column("v").value();
  for (int i = 0; i < kKeys; i += 2) {
    const std::string old_key = make_state_key(key_group_for_key(user(i), 128), user(i));
    const std::string new_key = make_state_key(key_group_for_key(user(i), 256), user(i));
    if (old_key == new_key) continue;
    WriteBatch batch;
    batch.put("v", new_key, column->get(old_key).value().value());
    batch.remove("v", old_key);
    ASSERT_OK(backend_->write(batch));
  }
  put_layout({.max_parallelism = 128, .rescale_target = 256});
  EXPECT_STATUS(KeyedStateStore::open(backend_, {.max_parallelism = 256, .clock = clock_}),
                StatusCode::kFailedPrecondition, "being rescaled from max_parallelism 128 to 256");
  EXPECT_STATUS(rescale_keyed_state(*backend_, 128, 64), StatusCode::kFailedPrecondition,
                "unfinished rescale to 256");
  ASSERT_OK(rescale_keyed_state(*backend_, 128, 256));
  ASSERT_NO_FATAL_FAILURE(expect_state(256));
}

TEST_P(KeyedStateLayoutTest, RescaleRejectsNonsense) {
  EXPECT_STATUS(rescale_keyed_state(*backend_, 128, 128), StatusCode::kInvalidArgument, "both values are equal");
  EXPECT_STATUS(rescale_keyed_state(*backend_, 128, 0), StatusCode::kInvalidArgument, "max_parallelism");
  EXPECT_STATUS(rescale_keyed_state(*backend_, 64, 256), StatusCode::kFailedPrecondition,
                "the backend records max_parallelism 128");
}

INSTANTIATE_TEST_SUITE_P(backends, KeyedStateLayoutTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate::testing
