// TTL semantics of keyed state on every backend, with a ManualClock: both update types, both
// visibilities, per-element TTL of lists and maps, and exact boundaries (an entry written at t
// with TTL d is visible while now < t + d).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "unit/state/state_test_backends.h"

namespace streamstate::testing {
namespace {

using std::chrono::milliseconds;
constexpr int64_t kTtl = 100;

StateTtlConfig ttl_config(TtlUpdateType update = TtlUpdateType::kOnCreateAndWrite,
                          TtlVisibility visibility = TtlVisibility::kNeverReturnExpired) {
  StateTtlConfig config;
  config.ttl = milliseconds(kTtl);
  config.update_type = update;
  config.visibility = visibility;
  return config;
}

class StateTtlTest : public StateBackendTest {
 protected:
  void at(int64_t offset) { clock_->set_millis(kStartMillis + offset); }
};

TEST_P(StateTtlTest, ValueExpiresExactlyAtItsTtlAndReadsDoNotExtendIt) {
  auto value = store_->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_config()});
  ASSERT_OK(value);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(value->update(1));
  at(50);
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(1));
  at(kTtl - 1);
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(1));
  at(kTtl);
  EXPECT_FALSE(value->value().value().has_value());
  // The read that found it expired removed it.
  EXPECT_EQ(raw_entry_count("v"), 0u);
}

TEST_P(StateTtlTest, WritesRestartTheTtl) {
  auto value = store_->value_state(ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_config()});
  ASSERT_OK(value);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(value->update(1));
  at(60);
  ASSERT_OK(value->update(2));
  at(60 + kTtl - 1);
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(2));
  at(60 + kTtl);
  EXPECT_FALSE(value->value().value().has_value());
}

TEST_P(StateTtlTest, OnReadAndWriteReadsRestartTheTtl) {
  auto value = store_->value_state(
      ValueStateDescriptor<int64_t>{.name = "v", .ttl = ttl_config(TtlUpdateType::kOnReadAndWrite)});
  ASSERT_OK(value);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(value->update(1));
  at(90);
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(1));
  at(90 + kTtl - 1);
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(1));
  const int64_t last_read = 90 + kTtl - 1;
  at(last_read + kTtl - 1);
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(1));
  // An expired value is not revived by the read that finds it.
  at(last_read + kTtl - 1 + kTtl);
  EXPECT_FALSE(value->value().value().has_value());
}

TEST_P(StateTtlTest, NeverReturnExpiredGivesTheDefault) {
  auto value = store_->value_state(
      ValueStateDescriptor<int64_t>{.name = "v", .default_value = -1, .ttl = ttl_config()});
  ASSERT_OK(value);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(value->update(5));
  at(kTtl);
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(-1));
}

TEST_P(StateTtlTest, ReturnExpiredIfNotCleanedUpReturnsItOnceThenRemovesIt) {
  auto value = store_->value_state(ValueStateDescriptor<int64_t>{
      .name = "v",
      .ttl = ttl_config(TtlUpdateType::kOnCreateAndWrite, TtlVisibility::kReturnExpiredIfNotCleanedUp)});
  ASSERT_OK(value);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(value->update(5));
  at(kTtl + 1000);
  EXPECT_EQ(value->value().value(), std::optional<int64_t>(5));
  EXPECT_EQ(raw_entry_count("v"), 0u);
  EXPECT_FALSE(value->value().value().has_value());
}

TEST_P(StateTtlTest, ReducingAndAggregatingStartOverAfterExpiry) {
  auto sum = store_->reducing_state(
      ReducingStateDescriptor<int64_t>{.name = "sum",
                                       .reduce = [](const int64_t& a, const int64_t& b) { return a + b; },
                                       .ttl = ttl_config()});
  auto count = store_->aggregating_state(AggregatingStateDescriptor<std::string, int64_t, int64_t>{
      .name = "count",
      .create_accumulator = [] { return int64_t{0}; },
      .add = [](int64_t& acc, const std::string&) { ++acc; },
      .get_result = [](const int64_t& acc) { return acc; },
      .ttl = ttl_config()});
  ASSERT_OK(sum);
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(sum->add(10));
  ASSERT_OK(count->add("a"));
  at(kTtl - 1);
  ASSERT_OK(sum->add(5));
  EXPECT_EQ(sum->get().value(), std::optional<int64_t>(15));
  EXPECT_EQ(count->get().value(), std::optional<int64_t>(1));
  at(kTtl);
  EXPECT_FALSE(count->get().value().has_value());
  ASSERT_OK(count->add("b"));
  EXPECT_EQ(count->get().value(), std::optional<int64_t>(1));
  at(2 * kTtl - 1);
  EXPECT_FALSE(sum->get().value().has_value());
  ASSERT_OK(sum->add(1));
  EXPECT_EQ(sum->get().value(), std::optional<int64_t>(1));
}

TEST_P(StateTtlTest, MapEntriesExpireOneByOne) {
  auto map = store_->map_state(MapStateDescriptor<std::string, int32_t>{.name = "m", .ttl = ttl_config()});
  ASSERT_OK(map);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(map->put("a", 1));
  at(50);
  ASSERT_OK(map->put("b", 2));
  at(kTtl - 1);
  EXPECT_EQ(map->get("a").value(), std::optional<int32_t>(1));
  at(kTtl);
  EXPECT_FALSE(map->get("a").value().has_value());
  EXPECT_FALSE(map->contains("a").value());
  EXPECT_TRUE(map->contains("b").value());
  EXPECT_EQ(map->keys().value(), std::vector<std::string>{"b"});
  EXPECT_FALSE(map->is_empty().value());
  at(50 + kTtl);
  EXPECT_TRUE(map->is_empty().value());
  EXPECT_TRUE(map->entries().value().empty());
  EXPECT_EQ(raw_entry_count("m"), 0u);
}

TEST_P(StateTtlTest, MapIterationRemovesExpiredEntries) {
  auto map = store_->map_state(MapStateDescriptor<int32_t, int32_t>{.name = "m", .ttl = ttl_config()});
  ASSERT_OK(map);
  ASSERT_OK(store_->set_current_key("k"));
  for (int32_t i = 0; i < 5; ++i) ASSERT_OK(map->put(i, i));
  at(kTtl);
  ASSERT_OK(map->put(9, 9));
  EXPECT_EQ(raw_entry_count("m"), 6u);
  EXPECT_EQ(map->values().value(), std::vector<int32_t>{9});
  EXPECT_EQ(raw_entry_count("m"), 1u);
}

TEST_P(StateTtlTest, MapOnReadAndWriteRenewsOnlyTheEntriesRead) {
  auto map = store_->map_state(MapStateDescriptor<std::string, int32_t>{
      .name = "m", .ttl = ttl_config(TtlUpdateType::kOnReadAndWrite)});
  ASSERT_OK(map);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(map->put("read-by-get", 1));
  ASSERT_OK(map->put("read-by-contains", 2));
  ASSERT_OK(map->put("untouched", 3));
  at(90);
  EXPECT_TRUE(map->get("read-by-get").value().has_value());
  EXPECT_TRUE(map->contains("read-by-contains").value());
  at(kTtl);
  std::vector<std::string> keys = map->keys().value();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"read-by-contains", "read-by-get"}));
  // keys() read both, so they live until 100 + kTtl.
  at(kTtl + kTtl - 1);
  EXPECT_EQ(map->entries().value().size(), 2u);
}

TEST_P(StateTtlTest, MapReturnExpiredIfNotCleanedUp) {
  auto map = store_->map_state(MapStateDescriptor<std::string, int32_t>{
      .name = "m",
      .ttl = ttl_config(TtlUpdateType::kOnCreateAndWrite, TtlVisibility::kReturnExpiredIfNotCleanedUp)});
  ASSERT_OK(map);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(map->put("a", 1));
  ASSERT_OK(map->put("b", 2));
  at(kTtl);
  EXPECT_EQ(map->get("a").value(), std::optional<int32_t>(1));
  EXPECT_FALSE(map->get("a").value().has_value());
  EXPECT_EQ(map->keys().value(), std::vector<std::string>{"b"});
  EXPECT_TRUE(map->is_empty().value());
}

TEST_P(StateTtlTest, ListElementsExpireOneByOne) {
  auto list = store_->list_state(ListStateDescriptor<std::string>{.name = "l", .ttl = ttl_config()});
  ASSERT_OK(list);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(list->add("x"));
  at(50);
  ASSERT_OK(list->add_all({"y", "z"}));
  at(kTtl - 1);
  EXPECT_EQ(list->get().value(), (std::vector<std::string>{"x", "y", "z"}));
  at(kTtl);
  EXPECT_EQ(list->get().value(), (std::vector<std::string>{"y", "z"}));
  // The expired element is gone from the backend: head + 2 elements remain.
  EXPECT_EQ(raw_entry_count("l"), 3u);
  at(50 + kTtl);
  EXPECT_TRUE(list->get().value().empty());
  EXPECT_EQ(raw_entry_count("l"), 0u);
}

TEST_P(StateTtlTest, ListAppendAfterExpiryStartsAFreshList) {
  auto list = store_->list_state(ListStateDescriptor<int32_t>{.name = "l", .ttl = ttl_config()});
  ASSERT_OK(list);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(list->add_all({1, 2, 3}));
  at(5 * kTtl);
  ASSERT_OK(list->add(4));
  EXPECT_EQ(list->get().value(), std::vector<int32_t>{4});
  EXPECT_EQ(raw_entry_count("l"), 2u);  // head + element 4
  ASSERT_OK(list->add(5));
  EXPECT_EQ(list->get().value(), (std::vector<int32_t>{4, 5}));
}

TEST_P(StateTtlTest, ListOnReadAndWriteRenewsTheElementsRead) {
  auto list = store_->list_state(
      ListStateDescriptor<int32_t>{.name = "l", .ttl = ttl_config(TtlUpdateType::kOnReadAndWrite)});
  ASSERT_OK(list);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(list->add_all({1, 2}));
  at(90);
  EXPECT_EQ(list->get().value(), (std::vector<int32_t>{1, 2}));
  at(90 + kTtl - 1);
  EXPECT_EQ(list->get().value(), (std::vector<int32_t>{1, 2}));
  at(90 + kTtl - 1 + kTtl);
  EXPECT_TRUE(list->get().value().empty());
}

TEST_P(StateTtlTest, ListReturnExpiredIfNotCleanedUp) {
  auto list = store_->list_state(ListStateDescriptor<int32_t>{
      .name = "l",
      .ttl = ttl_config(TtlUpdateType::kOnCreateAndWrite, TtlVisibility::kReturnExpiredIfNotCleanedUp)});
  ASSERT_OK(list);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(list->add(1));
  at(10);
  ASSERT_OK(list->add(2));
  at(kTtl);
  EXPECT_EQ(list->get().value(), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(list->get().value(), std::vector<int32_t>{2});
  at(10 + kTtl);
  EXPECT_EQ(list->get().value(), std::vector<int32_t>{2});
  EXPECT_TRUE(list->get().value().empty());
}

TEST_P(StateTtlTest, ListUpdateGivesEveryElementAFreshTtl) {
  auto list = store_->list_state(ListStateDescriptor<int32_t>{.name = "l", .ttl = ttl_config()});
  ASSERT_OK(list);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(list->add(1));
  at(80);
  ASSERT_OK(list->update({7, 8}));
  at(80 + kTtl - 1);
  EXPECT_EQ(list->get().value(), (std::vector<int32_t>{7, 8}));
  at(80 + kTtl);
  EXPECT_TRUE(list->get().value().empty());
}

INSTANTIATE_TEST_SUITE_P(backends, StateTtlTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate::testing
