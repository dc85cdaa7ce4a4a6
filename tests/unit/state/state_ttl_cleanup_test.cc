// TTL cleanup strategies (a) snapshot filtering and (b) incremental cleanup on access, on
// every backend, with a ManualClock. Strategies (c) and (d) are in
// state_ttl_backend_cleanup_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "unit/state/state_test_backends.h"

namespace streamstate::testing {
namespace {

using std::chrono::milliseconds;
constexpr int64_t kTtl = 100;

// Only the strategy under test: the backends must not drop entries on their own here, so
// what the raw column holds is exactly what the store left.
StateTtlConfig ttl_with(bool in_snapshot, uint32_t incremental_entries) {
  StateTtlConfig config;
  config.ttl = milliseconds(kTtl);
  config.cleanup_in_snapshot = in_snapshot;
  config.incremental_cleanup_entries = incremental_entries;
  config.cleanup_in_compaction = false;
  config.cleanup_in_background = false;
  return config;
}

class StateTtlCleanupTest : public StateBackendTest {
 protected:
  void at(int64_t offset) { clock_->set_millis(kStartMillis + offset); }

  // The user keys whose entries a store snapshot holds for `column`.
  std::multiset<std::string> snapshot_user_keys(const std::string& column) {
    std::multiset<std::string> keys;
    auto snapshot = store_->snapshot();
    EXPECT_OK(snapshot);
    if (!snapshot.is_ok()) return keys;
    auto iterator = snapshot.value()->iterate(column);
    EXPECT_OK(iterator);
    if (!iterator.is_ok()) return keys;
    for (SnapshotIterator& it = *iterator.value(); it.valid(); it.next()) {
      auto parts = decode_state_key(it.key());
      EXPECT_OK(parts);
      if (parts.is_ok()) keys.insert(std::string(parts->user_key));
    }
    EXPECT_OK(iterator.value()->status());
    return keys;
  }

  // Writes "key-0".."key-<count-1>" = base + i to state "v" through another store on the
  // same backend, whose state has a TTL but no incremental cleanup.
  void write_values_elsewhere(int count, int64_t base) {
    auto writer = KeyedStateStore::open(backend_, {.clock = clock_});
    ASSERT_OK(writer);
    auto value =
        writer.value()->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_with(true, 0)});
    ASSERT_OK(value);
    for (int i = 0; i < count; ++i) {
      ASSERT_OK(writer.value()->set_current_key("key-" + std::to_string(i)));
      ASSERT_OK(value->update(base + i));
    }
  }
};

TEST_P(StateTtlCleanupTest, StoreSnapshotsLeaveOutExpiredEntries) {
  auto value = store_->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_with(true, 0)});
  auto list = store_->list_state(ListStateDescriptor<int32_t>{.name = "l", .ttl = ttl_with(true, 0)});
  auto map = store_->map_state(MapStateDescriptor<int32_t, int32_t>{.name = "m", .ttl = ttl_with(true, 0)});
  ASSERT_OK(value);
  ASSERT_OK(list);
  ASSERT_OK(map);
  ASSERT_OK(store_->set_current_key("old"));
  ASSERT_OK(value->update(1));
  ASSERT_OK(list->add_all({1, 2}));
  ASSERT_OK(map->put(1, 1));
  at(50);
  ASSERT_OK(store_->set_current_key("new"));
  ASSERT_OK(value->update(2));
  ASSERT_OK(list->add(3));
  ASSERT_OK(map->put(2, 2));
  at(kTtl - 1);
  EXPECT_EQ(snapshot_user_keys("v"), (std::multiset<std::string>{"new", "old"}));
  at(kTtl);
  EXPECT_EQ(snapshot_user_keys("v"), std::multiset<std::string>{"new"});
  // The list head and its element of "new"; none of "old".
  EXPECT_EQ(snapshot_user_keys("l"), (std::multiset<std::string>{"new", "new"}));
  EXPECT_EQ(snapshot_user_keys("m"), std::multiset<std::string>{"new"});
  // The expired entries are still stored (nothing read them): only the snapshot skips them.
  EXPECT_EQ(raw_entry_count("v"), 2u);
}

TEST_P(StateTtlCleanupTest, SnapshotFilteringCanBeSwitchedOff) {
  auto value = store_->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_with(false, 0)});
  ASSERT_OK(value);
  ASSERT_OK(store_->set_current_key("old"));
  ASSERT_OK(value->update(1));
  at(kTtl);
  EXPECT_EQ(snapshot_user_keys("v"), std::multiset<std::string>{"old"});
}

TEST_P(StateTtlCleanupTest, IncrementalCleanupChecksNEntriesPerAccess) {
  constexpr uint32_t kPerAccess = 2;
  // Every access of a state runs a cleanup step, so the expiring keys are written through a
  // second store without incremental cleanup: the walk under test starts at the first access.
  ASSERT_NO_FATAL_FAILURE(write_values_elsewhere(10, 0));
  auto value =
      store_->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_with(true, kPerAccess)});
  ASSERT_OK(value);
  at(kTtl);
  ASSERT_OK(store_->set_current_key("live"));
  // The first access walks a snapshot of the 10 expired entries (taken before "live" is
  // written) and removes the 2 it checks.
  ASSERT_OK(value->update(100));
  size_t remaining = raw_entry_count("v");
  EXPECT_EQ(remaining, 11u - kPerAccess);
  for (int access = 1; access < 5; ++access) {
    EXPECT_EQ(value->value().value(), std::optional<int64_t>(100));
    const size_t now_remaining = raw_entry_count("v");
    EXPECT_EQ(now_remaining, remaining - kPerAccess) << "after access " << access;
    remaining = now_remaining;
  }
  EXPECT_EQ(remaining, 1u);
  // The next walk starts on a fresh snapshot and keeps the live entry.
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(100));
  EXPECT_EQ(raw_entry_count("v"), 1u);
}

TEST_P(StateTtlCleanupTest, IncrementalCleanupKeepsEntriesRewrittenSinceItsSnapshot) {
  ASSERT_NO_FATAL_FAILURE(write_values_elsewhere(5, 0));
  auto value = store_->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_with(true, 1)});
  ASSERT_OK(value);
  at(kTtl);
  ASSERT_OK(store_->set_current_key("live"));
  ASSERT_OK(value->update(100));  // starts the walk over the 5 expired entries, removes one
  ASSERT_EQ(raw_entry_count("v"), 5u);
  // The other store rewrites all five keys: they are live again, but not in the walk's snapshot.
  ASSERT_NO_FATAL_FAILURE(write_values_elsewhere(5, 10));
  for (int access = 0; access < 6; ++access) ASSERT_OK(value->value());
  EXPECT_EQ(raw_entry_count("v"), 6u);
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(store_->set_current_key("key-" + std::to_string(i)));
    EXPECT_EQ(value->value().value(), std::optional<int64_t>(10 + i));
  }
}

TEST_P(StateTtlCleanupTest, IncrementalCleanupRemovesListElementsAndMapEntries) {
  auto list = store_->list_state(ListStateDescriptor<int32_t>{.name = "l", .ttl = ttl_with(true, 50)});
  auto map = store_->map_state(MapStateDescriptor<int32_t, int32_t>{.name = "m", .ttl = ttl_with(true, 50)});
  ASSERT_OK(list);
  ASSERT_OK(map);
  ASSERT_OK(store_->set_current_key("expiring"));
  ASSERT_OK(list->add_all({1, 2, 3}));
  ASSERT_OK(map->put_all(std::vector<std::pair<int32_t, int32_t>>{{1, 1}, {2, 2}}));
  at(kTtl);
  ASSERT_OK(store_->set_current_key("other"));
  EXPECT_TRUE(list->get().value().empty());
  EXPECT_TRUE(map->is_empty().value());
  // One access each checked every entry of its state, although "expiring" was never read.
  EXPECT_EQ(raw_entry_count("l"), 0u);
  EXPECT_EQ(raw_entry_count("m"), 0u);
}

INSTANTIATE_TEST_SUITE_P(backends, StateTtlCleanupTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate::testing
