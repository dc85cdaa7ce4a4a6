// Every state primitive on every backend: the same cases run on memory, RocksDB and Redis.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "unit/state/state_test_backends.h"

namespace streamstate::testing {
namespace {

using StatePrimitivesTest = StateBackendTest;

template <typename T>
std::vector<T> sorted(std::vector<T> values) {
  std::sort(values.begin(), values.end());
  return values;
}

TEST_P(StatePrimitivesTest, ValueStateStoresOneValuePerKey) {
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("alice"));
  auto empty = count->value();
  ASSERT_OK(empty);
  EXPECT_FALSE(empty->has_value());
  ASSERT_OK(count->update(7));
  ASSERT_OK(store_->set_current_key("bob"));
  ASSERT_OK(count->update(-3));
  ASSERT_OK(store_->set_current_key("alice"));
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(7));
  ASSERT_OK(count->update(count->value().value().value_or(0) + 1));
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(8));
  ASSERT_OK(count->clear());
  EXPECT_FALSE(count->value().value().has_value());
  ASSERT_OK(store_->set_current_key("bob"));
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(-3));
}

TEST_P(StatePrimitivesTest, ValueStateReturnsTheDescriptorDefault) {
  auto greeting =
      store_->value_state(ValueStateDescriptor<std::string>{.name = "greeting", .default_value = "hello"});
  ASSERT_OK(greeting);
  ASSERT_OK(store_->set_current_key("k"));
  EXPECT_EQ(greeting->value().value(), std::optional<std::string>("hello"));
  ASSERT_OK(greeting->update(std::string("bye")));
  EXPECT_EQ(greeting->value().value(), std::optional<std::string>("bye"));
  ASSERT_OK(greeting->clear());
  EXPECT_EQ(greeting->value().value(), std::optional<std::string>("hello"));
}

TEST_P(StatePrimitivesTest, NamespacesSeparateValuesOfOneKey) {
  auto sum = store_->value_state(ValueStateDescriptor<int64_t>{.name = "sum"});
  ASSERT_OK(sum);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(store_->set_current_namespace("window-1"));
  ASSERT_OK(sum->update(1));
  ASSERT_OK(store_->set_current_namespace("window-2"));
  EXPECT_FALSE(sum->value().value().has_value());
  ASSERT_OK(sum->update(2));
  ASSERT_OK(store_->set_current_namespace("window-1"));
  EXPECT_EQ(sum->value().value(), std::optional<int64_t>(1));
  // The namespace stays when the key changes.
  ASSERT_OK(store_->set_current_key("other"));
  EXPECT_EQ(store_->current_namespace(), "window-1");
  EXPECT_FALSE(sum->value().value().has_value());
}

TEST_P(StatePrimitivesTest, KeysThatArePrefixesOfEachOtherStayApart) {
  auto value = store_->value_state(ValueStateDescriptor<std::string>{.name = "v"});
  auto items = store_->list_state(ListStateDescriptor<int32_t>{.name = "items"});
  auto entries = store_->map_state(MapStateDescriptor<std::string, int32_t>{.name = "entries"});
  ASSERT_OK(value);
  ASSERT_OK(items);
  ASSERT_OK(entries);
  const std::vector<std::string> keys{"a", "ab", std::string("a\0b", 3)};
  for (const std::string& key : keys) {
    ASSERT_OK(store_->set_current_key(key));
    ASSERT_OK(value->update(key));
    ASSERT_OK(items->add(static_cast<int32_t>(key.size())));
    ASSERT_OK(entries->put(key, static_cast<int32_t>(key.size())));
  }
  for (const std::string& key : keys) {
    ASSERT_OK(store_->set_current_key(key));
    EXPECT_EQ(value->value().value(), std::optional<std::string>(key));
    EXPECT_EQ(items->get().value(), std::vector<int32_t>{static_cast<int32_t>(key.size())});
    EXPECT_EQ(entries->keys().value(), std::vector<std::string>{key});
  }
}

TEST_P(StatePrimitivesTest, TypedKeysUseTheirCodecBytes) {
  auto seen = store_->value_state(ValueStateDescriptor<bool>{.name = "seen"});
  ASSERT_OK(seen);
  ASSERT_OK(store_->set_current_key_typed(int64_t{42}));
  ASSERT_OK(seen->update(true));
  ASSERT_OK(store_->set_current_key_typed(int64_t{43}));
  EXPECT_FALSE(seen->value().value().has_value());
  ASSERT_OK(store_->set_current_key(encode_value(int64_t{42})));
  EXPECT_EQ(seen->value().value(), std::optional<bool>(true));
}

TEST_P(StatePrimitivesTest, ListStateAppendsReadsReplacesAndClears) {
  auto events = store_->list_state(ListStateDescriptor<std::string>{.name = "events"});
  ASSERT_OK(events);
  ASSERT_OK(store_->set_current_key("user"));
  EXPECT_TRUE(events->get().value().empty());
  ASSERT_OK(events->add("a"));
  ASSERT_OK(events->add("b"));
  ASSERT_OK(events->add_all({"c", "d", "e"}));
  ASSERT_OK(events->add_all({}));
  EXPECT_EQ(events->get().value(), (std::vector<std::string>{"a", "b", "c", "d", "e"}));

  std::vector<std::string> first_two;
  ASSERT_OK(events->for_each([&first_two](const std::string& event) {
    first_two.push_back(event);
    return first_two.size() < 2;
  }));
  EXPECT_EQ(first_two, (std::vector<std::string>{"a", "b"}));

  ASSERT_OK(events->update({"x", "y"}));
  EXPECT_EQ(events->get().value(), (std::vector<std::string>{"x", "y"}));
  ASSERT_OK(events->add("z"));
  EXPECT_EQ(events->get().value(), (std::vector<std::string>{"x", "y", "z"}));
  ASSERT_OK(events->update({}));
  EXPECT_TRUE(events->get().value().empty());
  ASSERT_OK(events->add("again"));
  ASSERT_OK(events->clear());
  EXPECT_TRUE(events->get().value().empty());
  // Nothing is left behind in the column: head and elements are gone.
  EXPECT_EQ(raw_entry_count("events"), 0u);
}

TEST_P(StatePrimitivesTest, ListStateKeepsOrderPastManyElements) {
  auto numbers = store_->list_state(ListStateDescriptor<int32_t>{.name = "numbers"});
  ASSERT_OK(numbers);
  ASSERT_OK(store_->set_current_key("k"));
  std::vector<int32_t> expected;
  // Past 256 elements, so big-endian sequence order differs from little-endian byte order.
  for (int32_t i = 0; i < 300; ++i) {
    ASSERT_OK(numbers->add(i));
    expected.push_back(i);
  }
  EXPECT_EQ(numbers->get().value(), expected);
  ASSERT_OK(store_->set_current_namespace("other"));
  EXPECT_TRUE(numbers->get().value().empty());
}

// Appending to a list costs the same backend operations at any length: one read of the head
// and one batch writing the element and the head. Counted with BackendStatistics, not timed.
TEST_P(StatePrimitivesTest, ListAppendCostDoesNotGrowWithTheList) {
  auto list = store_->list_state(ListStateDescriptor<std::string>{.name = "l"});
  ASSERT_OK(list);
  ASSERT_OK(store_->set_current_key("k"));
  const std::string element(100, 'x');
  auto append_cost = [&]() {
    const BackendStatistics before = backend_->statistics();
    EXPECT_OK(list->add(element));
    const BackendStatistics after = backend_->statistics();
    return std::vector<uint64_t>{after.gets - before.gets, after.puts - before.puts,
                                 after.batches - before.batches, after.scans - before.scans,
                                 after.removes - before.removes};
  };
  const std::vector<uint64_t> at_length_one = append_cost();
  EXPECT_EQ(at_length_one[1], 2u) << "an append writes the element and the head";
  EXPECT_EQ(at_length_one[3], 0u) << "an append never scans";
  for (int i = 0; i < 9; ++i) ASSERT_OK(list->add(element));
  EXPECT_EQ(append_cost(), at_length_one);  // length 11
  std::vector<std::string> many(2000, element);
  ASSERT_OK(list->add_all(many));
  EXPECT_EQ(append_cost(), at_length_one);  // length 2012
  EXPECT_EQ(list->get().value().size(), 2012u);
}

TEST_P(StatePrimitivesTest, MapStateSupportsEveryOperation) {
  auto cart = store_->map_state(MapStateDescriptor<std::string, int64_t>{.name = "cart"});
  ASSERT_OK(cart);
  ASSERT_OK(store_->set_current_key("user"));
  EXPECT_TRUE(cart->is_empty().value());
  ASSERT_OK(cart->put("apple", 2));
  ASSERT_OK(cart->put_all(std::map<std::string, int64_t>{{"pear", 1}, {"plum", 5}}));
  EXPECT_FALSE(cart->is_empty().value());
  EXPECT_EQ(cart->get("apple").value(), std::optional<int64_t>(2));
  EXPECT_FALSE(cart->get("kiwi").value().has_value());
  EXPECT_TRUE(cart->contains("pear").value());
  EXPECT_FALSE(cart->contains("kiwi").value());
  ASSERT_OK(cart->put("apple", 3));
  EXPECT_EQ(sorted(cart->keys().value()), (std::vector<std::string>{"apple", "pear", "plum"}));
  EXPECT_EQ(sorted(cart->values().value()), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(sorted(cart->entries().value()),
            (std::vector<std::pair<std::string, int64_t>>{{"apple", 3}, {"pear", 1}, {"plum", 5}}));
  ASSERT_OK(cart->remove("pear"));
  ASSERT_OK(cart->remove("never-there"));
  EXPECT_EQ(sorted(cart->keys().value()), (std::vector<std::string>{"apple", "plum"}));

  ASSERT_OK(store_->set_current_key("other-user"));
  EXPECT_TRUE(cart->is_empty().value());
  ASSERT_OK(cart->put("apple", 9));
  ASSERT_OK(store_->set_current_key("user"));
  ASSERT_OK(cart->clear());
  EXPECT_TRUE(cart->is_empty().value());
  ASSERT_OK(store_->set_current_key("other-user"));
  EXPECT_EQ(cart->get("apple").value(), std::optional<int64_t>(9));
}

TEST_P(StatePrimitivesTest, MapStateIteratesInKeyOrderOnOrderedBackends) {
  if (!backend_->capabilities().ordered_scan) GTEST_SKIP() << "backend does not scan in order";
  auto scores = store_->map_state(MapStateDescriptor<uint32_t, int32_t>{.name = "scores"});
  ASSERT_OK(scores);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(scores->put(3, 30));
  ASSERT_OK(scores->put(1, 10));
  ASSERT_OK(scores->put(2, 20));
  // Little-endian keys sort by their first byte here (all below 256).
  EXPECT_EQ(scores->keys().value(), (std::vector<uint32_t>{1, 2, 3}));
}

TEST_P(StatePrimitivesTest, MapStateForEachStopsWhenAsked) {
  auto map = store_->map_state(MapStateDescriptor<int32_t, int32_t>{.name = "m"});
  ASSERT_OK(map);
  ASSERT_OK(store_->set_current_key("k"));
  for (int32_t i = 0; i < 10; ++i) ASSERT_OK(map->put(i, i * i));
  int visited = 0;
  ASSERT_OK(map->for_each([&visited](const int32_t& key, const int32_t& value) {
    EXPECT_EQ(value, key * key);
    return ++visited < 4;
  }));
  EXPECT_EQ(visited, 4);
}

TEST_P(StatePrimitivesTest, ReducingStateFoldsAddedValues) {
  auto max = store_->reducing_state(ReducingStateDescriptor<int64_t>{
      .name = "max", .reduce = [](const int64_t& a, const int64_t& b) { return std::max(a, b); }});
  ASSERT_OK(max);
  ASSERT_OK(store_->set_current_key("k"));
  EXPECT_FALSE(max->get().value().has_value());
  for (int64_t v : {4, 9, 2}) ASSERT_OK(max->add(v));
  EXPECT_EQ(max->get().value(), std::optional<int64_t>(9));
  ASSERT_OK(max->clear());
  EXPECT_FALSE(max->get().value().has_value());
}

TEST_P(StatePrimitivesTest, ReducingStateMergesNamespaces) {
  auto sum = store_->reducing_state(ReducingStateDescriptor<int64_t>{
      .name = "sum", .reduce = [](const int64_t& a, const int64_t& b) { return a + b; }});
  ASSERT_OK(sum);
  ASSERT_OK(store_->set_current_key("k"));
  for (const auto& [ns, value] :
       std::vector<std::pair<std::string, int64_t>>{{"w1", 1}, {"w2", 10}, {"w3", 100}}) {
    ASSERT_OK(store_->set_current_namespace(ns));
    ASSERT_OK(sum->add(value));
  }
  const std::vector<std::string> sources{"w2", "w3", "w-empty"};
  ASSERT_OK(sum->merge_namespaces("w1", sources));
  ASSERT_OK(store_->set_current_namespace("w1"));
  EXPECT_EQ(sum->get().value(), std::optional<int64_t>(111));
  ASSERT_OK(store_->set_current_namespace("w2"));
  EXPECT_FALSE(sum->get().value().has_value());
}

AggregatingStateDescriptor<double, std::pair<double, int64_t>, double> average_descriptor(bool with_merge) {
  using Acc = std::pair<double, int64_t>;
  AggregatingStateDescriptor<double, Acc, double> descriptor{
      .name = "average",
      .create_accumulator =
          [] {
            return Acc{0.0, 0};
          },
      .add =
          [](Acc& acc, const double& value) {
            acc.first += value;
            ++acc.second;
          },
      .get_result =
          [](const Acc& acc) { return acc.second == 0 ? 0.0 : acc.first / static_cast<double>(acc.second); }};
  if (with_merge) {
    descriptor.merge = [](const Acc& a, const Acc& b) { return Acc{a.first + b.first, a.second + b.second}; };
  }
  return descriptor;
}

TEST_P(StatePrimitivesTest, AggregatingStateAccumulates) {
  auto average = store_->aggregating_state(average_descriptor(false));
  ASSERT_OK(average);
  ASSERT_OK(store_->set_current_key("sensor-1"));
  EXPECT_FALSE(average->get().value().has_value());
  for (double v : {2.0, 4.0, 9.0}) ASSERT_OK(average->add(v));
  EXPECT_EQ(average->get().value(), std::optional<double>(5.0));
  ASSERT_OK(store_->set_current_key("sensor-2"));
  ASSERT_OK(average->add(1.0));
  EXPECT_EQ(average->get().value(), std::optional<double>(1.0));
  ASSERT_OK(average->clear());
  EXPECT_FALSE(average->get().value().has_value());
  ASSERT_OK(store_->set_current_key("sensor-1"));
  EXPECT_EQ(average->get().value(), std::optional<double>(5.0));
  // Without a merge function, merging namespaces is refused with the reason.
  const std::vector<std::string> sources{"other"};
  EXPECT_STATUS(average->merge_namespaces("", sources), StatusCode::kFailedPrecondition, "merge function");
}

TEST_P(StatePrimitivesTest, AggregatingStateMergesNamespacesWithMerge) {
  auto average = store_->aggregating_state(average_descriptor(true));
  ASSERT_OK(average);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(store_->set_current_namespace("a"));
  ASSERT_OK(average->add(1.0));
  ASSERT_OK(store_->set_current_namespace("b"));
  ASSERT_OK(average->add(5.0));
  ASSERT_OK(average->add(6.0));
  const std::vector<std::string> sources{"b"};
  ASSERT_OK(average->merge_namespaces("a", sources));
  ASSERT_OK(store_->set_current_namespace("a"));
  EXPECT_EQ(average->get().value(), std::optional<double>(4.0));
  ASSERT_OK(store_->set_current_namespace("b"));
  EXPECT_FALSE(average->get().value().has_value());
}

TEST_P(StatePrimitivesTest, HandlesForOneNameShareTheState) {
  ValueStateDescriptor<int64_t> descriptor{.name = "shared"};
  auto first = store_->value_state(descriptor);
  auto second = store_->value_state(descriptor);
  ASSERT_OK(first);
  ASSERT_OK(second);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(first->update(5));
  EXPECT_EQ(second->value().value(), std::optional<int64_t>(5));
  ValueState<int64_t> copy = *first;
  ASSERT_OK(copy.update(6));
  EXPECT_EQ(first->value().value(), std::optional<int64_t>(6));
  EXPECT_EQ(store_->state_names(), std::vector<std::string>{"shared"});
}

TEST_P(StatePrimitivesTest, StateSurvivesARestartOfPersistentBackends) {
  if (!persistent()) GTEST_SKIP() << "the state of a " << state_test_backend_name(kind()) << " backend does not outlive it";
  {
    auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
    auto items = store_->list_state(ListStateDescriptor<std::string>{.name = "items"});
    auto tags = store_->map_state(MapStateDescriptor<std::string, bool>{.name = "tags"});
    ASSERT_OK(count);
    ASSERT_OK(items);
    ASSERT_OK(tags);
    ASSERT_OK(store_->set_current_key("k"));
    ASSERT_OK(count->update(41));
    ASSERT_OK(items->add_all({"x", "y"}));
    ASSERT_OK(tags->put("red", true));
  }
  ASSERT_NO_FATAL_FAILURE(restart());
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  auto items = store_->list_state(ListStateDescriptor<std::string>{.name = "items"});
  auto tags = store_->map_state(MapStateDescriptor<std::string, bool>{.name = "tags"});
  ASSERT_OK(count);
  ASSERT_OK(items);
  ASSERT_OK(tags);
  ASSERT_OK(store_->set_current_key("k"));
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(41));
  ASSERT_OK(items->add("z"));
  EXPECT_EQ(items->get().value(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(tags->get("red").value(), std::optional<bool>(true));
}

TEST_P(StatePrimitivesTest, StoreSnapshotSeesStateAsOfItsTime) {
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(count->update(1));
  auto snapshot = store_->snapshot();
  ASSERT_OK(snapshot);
  ASSERT_OK(count->update(2));
  auto iterator = snapshot.value()->iterate("count");
  ASSERT_OK(iterator);
  ASSERT_TRUE(iterator.value()->valid());
  EXPECT_EQ(iterator.value()->value(), encode_value(int64_t{1}));
  iterator.value()->next();
  EXPECT_FALSE(iterator.value()->valid());
  EXPECT_OK(iterator.value()->status());
}

INSTANTIATE_TEST_SUITE_P(backends, StatePrimitivesTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate::testing
