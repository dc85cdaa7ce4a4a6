// One-call updates on memory, RocksDB and Redis: ValueState::update_with (fn taking T or
// std::optional<T>, returning T or std::optional<T>), value_or_default, MapState::update_with,
// their TTL rules with a ManualClock, corrupt bytes, a throwing function, and on the memory
// backend one backend update per call (no get).
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "core/expiring_value.h"
#include "unit/state/state_test_backends.h"

namespace streamstate::testing {
namespace {

using std::chrono::milliseconds;

class UpdateWithTest : public StateBackendTest {
 protected:
  static StateTtlConfig ttl_of(int64_t millis, TtlVisibility visibility = TtlVisibility::kNeverReturnExpired) {
    StateTtlConfig ttl;
    ttl.ttl = milliseconds(millis);
    ttl.visibility = visibility;
    return ttl;
  }

  std::optional<std::string> raw_value(const std::string& column, const std::string& key) {
    auto stored = backend_->column(column).value()->get(make_state_key(store_->current_key_group(), key));
    EXPECT_OK(stored);
    return stored.is_ok() ? *stored : std::nullopt;
  }
};

TEST_P(UpdateWithTest, PlainArgumentStartsFromTheDefault) {
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 10});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("ada"));
  EXPECT_EQ(count->update_with([](int64_t n) { return n + 1; }).value(), 11);
  EXPECT_EQ(count->update_with([](const int64_t& n) { return n * 2; }).value(), 22);
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(22));
  ASSERT_OK(store_->set_current_key("bob"));
  EXPECT_EQ(count->update_with([](int64_t n) { return n - 1; }).value(), 9);
  ASSERT_OK(store_->set_current_key("ada"));
  EXPECT_EQ(count->value_or_default().value(), 22);
}

TEST_P(UpdateWithTest, OptionalArgumentSeesWhatValueWouldReturn) {
  auto last = store_->value_state(ValueStateDescriptor<std::string>{.name = "last"});
  ASSERT_OK(last);
  ASSERT_OK(store_->set_current_key("k"));
  std::optional<std::string> seen = "unset";
  auto record = [&seen](std::optional<std::string> current) {
    seen = current;
    return current.value_or("") + "x";
  };
  EXPECT_EQ(last->update_with(record).value(), "x");
  EXPECT_EQ(seen, std::nullopt);
  EXPECT_EQ(last->update_with(record).value(), "xx");
  EXPECT_EQ(seen, std::optional<std::string>("x"));

  // With a default, an optional argument gets the default in place of nothing.
  auto with_default =
      store_->value_state(ValueStateDescriptor<std::string>{.name = "greeting", .default_value = "hi"});
  ASSERT_OK(with_default);
  EXPECT_EQ(with_default->update_with(record).value(), "hix");
  EXPECT_EQ(seen, std::optional<std::string>("hi"));
}

TEST_P(UpdateWithTest, ReturningAnEmptyOptionalClearsTheValue) {
  auto seen = store_->value_state(ValueStateDescriptor<int64_t>{.name = "seen", .default_value = 0});
  ASSERT_OK(seen);
  ASSERT_OK(store_->set_current_key("k"));
  auto bump_until_three = [](int64_t n) -> std::optional<int64_t> {
    if (n >= 2) return std::nullopt;
    return n + 1;
  };
  EXPECT_EQ(seen->update_with(bump_until_three).value(), std::optional<int64_t>(1));
  EXPECT_EQ(seen->update_with(bump_until_three).value(), std::optional<int64_t>(2));
  EXPECT_EQ(raw_entry_count("seen"), 1u);
  EXPECT_EQ(seen->update_with(bump_until_three).value(), std::nullopt);
  EXPECT_EQ(raw_entry_count("seen"), 0u);
  EXPECT_EQ(seen->value_or_default().value(), 0);
}

TEST_P(UpdateWithTest, WithoutADefaultAPlainArgumentAndValueOrDefaultFail) {
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("k"));
  bool called = false;
  EXPECT_STATUS(count->update_with([&called](int64_t n) {
    called = true;
    return n + 1;
  }),
                StatusCode::kFailedPrecondition, "state 'count': update_with(fn) with fn taking T needs");
  EXPECT_FALSE(called);
  EXPECT_STATUS(count->value_or_default(), StatusCode::kFailedPrecondition, "set .default_value");
  // Also when a value is stored: the rule does not depend on the data.
  ASSERT_OK(count->update(4));
  EXPECT_STATUS(count->value_or_default(), StatusCode::kFailedPrecondition, "has none");
  EXPECT_EQ(raw_entry_count("count"), 1u);
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(4));
}

TEST_P(UpdateWithTest, HandleAndKeyErrors) {
  ValueState<int64_t> unbound;
  EXPECT_STATUS(unbound.update_with([](std::optional<int64_t> n) { return n.value_or(0); }),
                StatusCode::kFailedPrecondition, "not bound");
  EXPECT_STATUS(unbound.value_or_default(), StatusCode::kFailedPrecondition, "not bound");
  MapState<std::string, int64_t> unbound_map;
  EXPECT_STATUS(unbound_map.update_with("a", [](std::optional<int64_t> n) { return n.value_or(0); }),
                StatusCode::kFailedPrecondition, "not bound");

  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
  ASSERT_OK(count);
  EXPECT_STATUS(count->update_with([](int64_t n) { return n + 1; }), StatusCode::kFailedPrecondition,
                "no current key");
  EXPECT_STATUS(count->value_or_default(), StatusCode::kFailedPrecondition, "no current key");
}

TEST_P(UpdateWithTest, NamespacesKeepTheirOwnValues) {
  auto sum = store_->value_state(ValueStateDescriptor<int64_t>{.name = "sum", .default_value = 0});
  ASSERT_OK(sum);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(store_->set_current_namespace("w1"));
  EXPECT_EQ(sum->update_with([](int64_t n) { return n + 5; }).value(), 5);
  ASSERT_OK(store_->set_current_namespace("w2"));
  EXPECT_EQ(sum->update_with([](int64_t n) { return n + 7; }).value(), 7);
  ASSERT_OK(store_->set_current_namespace("w1"));
  EXPECT_EQ(sum->value_or_default().value(), 5);
}

TEST_P(UpdateWithTest, TtlTreatsExpiredValuesAsAbsentAndGivesAFreshExpiry) {
  auto clicks = store_->value_state(
      ValueStateDescriptor<int64_t>{.name = "clicks", .default_value = 0, .ttl = ttl_of(1000)});
  ASSERT_OK(clicks);
  ASSERT_OK(store_->set_current_key("k"));
  EXPECT_EQ(clicks->update_with([](int64_t n) { return n + 1; }).value(), 1);
  std::optional<std::string> stored = raw_value("clicks", "k");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(internal::read_expiry(*stored), std::optional<int64_t>(kStartMillis + 1000));
  EXPECT_EQ(internal::expiring_payload(*stored), encode_value(int64_t{1}));

  clock_->advance_millis(999);
  EXPECT_EQ(clicks->update_with([](int64_t n) { return n + 1; }).value(), 2);  // live: seen, renewed
  stored = raw_value("clicks", "k");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(internal::read_expiry(*stored), std::optional<int64_t>(kStartMillis + 999 + 1000));

  clock_->advance_millis(1000);  // expired now: fn gets the default
  int64_t seen = -1;
  EXPECT_EQ(clicks->update_with([&seen](int64_t n) {
    seen = n;
    return n + 1;
  }).value(),
            1);
  EXPECT_EQ(seen, 0);
  clock_->advance_millis(999);
  EXPECT_EQ(clicks->value_or_default().value(), 1);
  clock_->advance_millis(1);
  EXPECT_EQ(clicks->value_or_default().value(), 0);
}

TEST_P(UpdateWithTest, TtlReturnExpiredIfNotCleanedUpShowsTheExpiredValueOnce) {
  // No backend cleanup: the expired value stays stored until a read finds it.
  StateTtlConfig ttl = ttl_of(1000, TtlVisibility::kReturnExpiredIfNotCleanedUp);
  ttl.cleanup_in_background = false;
  ttl.cleanup_in_compaction = false;
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count", .ttl = ttl});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(count->update(7));
  clock_->advance_millis(1000);
  std::optional<int64_t> seen;
  auto clear_it = [&seen](std::optional<int64_t> n) -> std::optional<int64_t> {
    seen = n;
    return std::nullopt;
  };
  EXPECT_EQ(count->update_with(clear_it).value(), std::nullopt);
  EXPECT_EQ(seen, std::optional<int64_t>(7));  // as value() would have returned it once
  EXPECT_EQ(raw_entry_count("count"), 0u);
}

TEST_P(UpdateWithTest, CorruptBytesAreLeftAsTheyAre) {
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("bad"));
  const std::string key = make_state_key(store_->current_key_group(), "bad");
  ASSERT_OK(backend_->column("count").value()->put(key, "xyz"));
  bool called = false;
  EXPECT_STATUS(count->update_with([&called](int64_t n) {
    called = true;
    return n + 1;
  }),
                StatusCode::kCorruption, "state 'count'");
  EXPECT_FALSE(called);
  EXPECT_EQ(raw_value("count", "bad"), std::optional<std::string>("xyz"));
}

TEST_P(UpdateWithTest, AThrowingFunctionStoresNothing) {
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(count->update(5));
  EXPECT_STATUS(count->update_with([](int64_t) -> int64_t { throw std::runtime_error("boom"); }),
                StatusCode::kInvalidArgument, "the update function threw: boom; nothing was stored");
  EXPECT_EQ(count->value_or_default().value(), 5);
  ASSERT_OK(store_->set_current_key("absent"));
  EXPECT_STATUS(count->update_with([](int64_t) -> int64_t { throw 42; }), StatusCode::kInvalidArgument,
                "non-standard exception");
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(0));
  EXPECT_EQ(raw_entry_count("count"), 1u);
}

TEST_P(UpdateWithTest, MapEntriesUpdateInOneCall) {
  auto cart = store_->map_state(MapStateDescriptor<std::string, int64_t>{.name = "cart"});
  ASSERT_OK(cart);
  ASSERT_OK(store_->set_current_key("user-1"));
  ASSERT_OK(cart->put("sku-2", 9));
  auto add_one = [](std::optional<int64_t> n) { return n.value_or(0) + 1; };
  EXPECT_EQ(cart->update_with("sku-1", add_one).value(), 1);
  EXPECT_EQ(cart->update_with("sku-1", add_one).value(), 2);
  EXPECT_EQ(cart->get("sku-1").value(), std::optional<int64_t>(2));
  EXPECT_EQ(cart->get("sku-2").value(), std::optional<int64_t>(9));

  auto drop = [](std::optional<int64_t> n) -> std::optional<int64_t> {
    if (n.value_or(0) <= 1) return std::nullopt;
    return *n - 1;
  };
  EXPECT_EQ(cart->update_with("sku-1", drop).value(), std::optional<int64_t>(1));
  EXPECT_EQ(cart->update_with("sku-1", drop).value(), std::nullopt);
  EXPECT_FALSE(cart->contains("sku-1").value());
  EXPECT_EQ(cart->keys().value(), std::vector<std::string>{"sku-2"});
  EXPECT_EQ(cart->update_with("absent", drop).value(), std::nullopt);  // removing nothing is fine
  EXPECT_FALSE(cart->contains("absent").value());

  ASSERT_OK(store_->set_current_key("user-2"));  // another key's map is its own
  EXPECT_EQ(cart->update_with("sku-2", add_one).value(), 1);
}

TEST_P(UpdateWithTest, MapEntriesExpireOnTheirOwn) {
  auto cart = store_->map_state(MapStateDescriptor<std::string, int64_t>{.name = "cart", .ttl = ttl_of(1000)});
  ASSERT_OK(cart);
  ASSERT_OK(store_->set_current_key("user-1"));
  auto add_one = [](std::optional<int64_t> n) { return n.value_or(0) + 1; };
  ASSERT_OK(cart->update_with("a", add_one));
  clock_->advance_millis(600);
  ASSERT_OK(cart->update_with("b", add_one));
  ASSERT_OK(cart->update_with("b", add_one));
  clock_->advance_millis(400);  // "a" expired, "b" has 600 ms left
  std::optional<int64_t> seen = 99;
  EXPECT_EQ(cart->update_with("a",
                              [&seen](std::optional<int64_t> n) {
                                seen = n;
                                return n.value_or(0) + 10;
                              })
                .value(),
            10);
  EXPECT_EQ(seen, std::nullopt);
  EXPECT_EQ(cart->get("b").value(), std::optional<int64_t>(2));
  clock_->advance_millis(600);
  EXPECT_EQ(cart->get("b").value(), std::nullopt);
  EXPECT_EQ(cart->get("a").value(), std::optional<int64_t>(10));
}

TEST_P(UpdateWithTest, OnTheMemoryBackendOneCallIsOneBackendUpdate) {
  if (kind() != StateTestBackend::kMemory) GTEST_SKIP() << "statistics of the memory backend";
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
  ASSERT_OK(count);
  auto cart = store_->map_state(MapStateDescriptor<std::string, int64_t>{.name = "cart"});
  ASSERT_OK(cart);
  ASSERT_OK(store_->set_current_key("k"));
  ASSERT_OK(count->update(1));
  ASSERT_OK(cart->put("a", 1));

  BackendStatistics before = backend_->statistics();
  ASSERT_OK(count->update_with([](int64_t n) { return n + 1; }));
  BackendStatistics after = backend_->statistics();
  EXPECT_EQ(after.gets - before.gets, 0u) << "update_with looked the key up with a get";
  EXPECT_EQ(after.puts - before.puts, 1u);

  before = backend_->statistics();
  ASSERT_OK(cart->update_with("a", [](std::optional<int64_t> n) { return n.value_or(0) + 1; }));
  after = backend_->statistics();
  EXPECT_EQ(after.gets - before.gets, 0u);
  EXPECT_EQ(after.puts - before.puts, 1u);

  // What the two-call form costs, for contrast: a get and a put.
  before = backend_->statistics();
  ASSERT_OK(count->update(count->value_or_default().value() + 1));
  after = backend_->statistics();
  EXPECT_EQ(after.gets - before.gets, 1u);
  EXPECT_EQ(after.puts - before.puts, 1u);
  EXPECT_EQ(count->value_or_default().value(), 3);
}

INSTANTIATE_TEST_SUITE_P(backends, UpdateWithTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate::testing
