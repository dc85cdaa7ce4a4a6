// Typed state cannot be bypassed: StateAccess<T> and ScratchState are bound by the record in
// "_ss.states" (kind, codec, TTL on or off) as the state handles are, on memory, RocksDB and
// Redis. A wrong type fails at open with the error a ValueState of that type gets, nothing is
// written, and the right type keeps working.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "state/state_record.h"
#include "streamstate/scratch_state.h"
#include "streamstate/state_access.h"
#include "unit/state/state_test_backends.h"

namespace streamstate::testing {
namespace {

using std::chrono::milliseconds;

class TypedBindingTest : public StateBackendTest {
 protected:
  // The code a state handle gets for `descriptor` from a second store on the same backend.
  template <typename T>
  StatusCode handle_error(const ValueStateDescriptor<T>& descriptor) {
    auto other = KeyedStateStore::open(backend_, KeyedStateStoreOptions{.clock = clock_});
    EXPECT_OK(other);
    if (!other.is_ok()) return StatusCode::kOk;
    return (*other)->value_state(descriptor).status().code();
  }

  std::optional<internal::StateRecord> record_of(const std::string& name) {
    auto stored = backend_->column("_ss.states").value()->get(name);
    EXPECT_OK(stored);
    if (!stored.is_ok() || !stored->has_value()) return std::nullopt;
    auto record = internal::decode_state_record(name, **stored);
    EXPECT_OK(record);
    return record.is_ok() ? std::optional<internal::StateRecord>(*record) : std::nullopt;
  }

  static StateTtlConfig ttl_of(int64_t millis) {
    StateTtlConfig ttl;
    ttl.ttl = milliseconds(millis);
    return ttl;
  }
};

TEST_P(TypedBindingTest, StateAccessOfAnotherTypeThanTheStateHandleIsRefused) {
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("user-1"));
  ASSERT_OK(count->update(5));

  EXPECT_STATUS(StateAccess<std::string>::open(backend_, "count", {}, clock_), StatusCode::kFailedPrecondition,
                "state 'count' is stored as a value state (codec 'i64'");
  EXPECT_STATUS(StateAccess<std::string>::open(backend_, "count", {}, clock_), StatusCode::kFailedPrecondition,
                "open it as StateAccess<T> with the stored type (codec 'i64')");
  // The same kind of error the state handle gives for the same mistake.
  EXPECT_EQ(handle_error(ValueStateDescriptor<std::string>{.name = "count"}), StatusCode::kFailedPrecondition);
  // Nothing was written: the handle still reads its value.
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(5));

  // The right type reads and writes the handle's values.
  auto access = StateAccess<int64_t>::open(backend_, "count", {}, clock_);
  ASSERT_OK(access);
  EXPECT_EQ(access->get("user-1").value(), std::optional<int64_t>(5));
  ASSERT_OK(access->set("user-1", 6));
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(6));
}

TEST_P(TypedBindingTest, StateAccessRecordsItsStateSoHandlesOfAnotherTypeAreRefused) {
  auto names = StateAccess<std::string>::open(backend_, "names", {}, clock_);
  ASSERT_OK(names);
  ASSERT_OK(names->set("user-1", "ada"));
  const std::optional<internal::StateRecord> record = record_of("names");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->kind, StateKind::kValue);
  EXPECT_EQ(record->codec_name, "string");
  EXPECT_FALSE(record->ttl);

  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<int64_t>{.name = "names"}),
                StatusCode::kFailedPrecondition, "codec 'string'");
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "names", {}, clock_), StatusCode::kFailedPrecondition,
                "cannot be opened by StateAccess as a value state (codec 'i64', without TTL)");
  EXPECT_EQ(names->get("user-1").value(), std::optional<std::string>("ada"));

  auto same = store_->value_state(ValueStateDescriptor<std::string>{.name = "names"});
  ASSERT_OK(same);
  ASSERT_OK(store_->set_current_key("user-1"));
  EXPECT_EQ(same->value().value(), std::optional<std::string>("ada"));
  auto again = StateAccess<std::string>::open(backend_, "names", {}, clock_);
  EXPECT_OK(again);
}

TEST_P(TypedBindingTest, StateAccessOnAnotherKindIsRefused) {
  auto carts = store_->map_state(MapStateDescriptor<std::string, int64_t>{.name = "carts"});
  ASSERT_OK(carts);
  ASSERT_OK(store_->set_current_key("user-1"));
  ASSERT_OK(carts->put("sku-1", 2));
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "carts", {}, clock_), StatusCode::kFailedPrecondition,
                "is stored as a map state");
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "carts", {}, clock_), StatusCode::kFailedPrecondition,
                "StateAccess reads and writes value state only");
  EXPECT_EQ(carts->get("sku-1").value(), std::optional<int64_t>(2));
}

TEST_P(TypedBindingTest, StateAccessMustMatchTheStoredTtlSetting) {
  auto sessions = store_->value_state(ValueStateDescriptor<int64_t>{.name = "sessions", .ttl = ttl_of(1000)});
  ASSERT_OK(sessions);
  ASSERT_OK(store_->set_current_key("user-1"));
  ASSERT_OK(sessions->update(3));
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "sessions", {}, clock_), StatusCode::kFailedPrecondition,
                "its values carry an 8-byte expiry header, so open it with a TTL");
  auto with_ttl = StateAccess<int64_t>::open(backend_, "sessions", ttl_of(1000), clock_);
  ASSERT_OK(with_ttl);
  EXPECT_EQ(with_ttl->get("user-1").value(), std::optional<int64_t>(3));

  auto plain = StateAccess<int64_t>::open(backend_, "plain", {}, clock_);
  ASSERT_OK(plain);
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "plain", ttl_of(1000), clock_),
                StatusCode::kFailedPrecondition, "its values have no 8-byte expiry header, so open it without a TTL");
}

TEST_P(TypedBindingTest, TwoStateAccessesOfDifferentTypesCannotShareAName) {
  auto first = StateAccess<int64_t>::open(backend_, "shared", {}, clock_);
  ASSERT_OK(first);
  ASSERT_OK(first->set("k", 1));
  EXPECT_STATUS(StateAccess<std::string>::open(backend_, "shared", {}, clock_), StatusCode::kFailedPrecondition,
                "state 'shared' is stored as a value state (codec 'i64'");
  auto second = StateAccess<int64_t>::open(backend_, "shared", {}, clock_);
  ASSERT_OK(second);
  EXPECT_EQ(second->get("k").value(), std::optional<int64_t>(1));
}

TEST_P(TypedBindingTest, StateAccessWaitsForAnInterruptedMigration) {
  auto states = backend_->column("_ss.states");
  ASSERT_OK(states);
  ASSERT_OK(states.value()->put(internal::migration_marker_key("moving"),
                                internal::encode_state_record(internal::StateRecord{
                                    StateKind::kValue, "i64", SchemaVersion{.major = 2}, false})));
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "moving", {}, clock_), StatusCode::kFailedPrecondition,
                "interrupted; open it once through a KeyedStateStore");
}

TEST_P(TypedBindingTest, ScratchStateRefusesAKeyedStateColumn) {
  auto count = store_->value_state(ValueStateDescriptor<int64_t>{.name = "count"});
  ASSERT_OK(count);
  ASSERT_OK(store_->set_current_key("user-1"));
  ASSERT_OK(count->update(5));
  EXPECT_STATUS(ScratchState::open(backend_, "count", clock_), StatusCode::kFailedPrecondition,
                "ScratchState 'count': the column is the keyed state 'count', a value state (codec 'i64'");
  auto access = StateAccess<std::string>::open(backend_, "names", {}, clock_);
  ASSERT_OK(access);
  EXPECT_STATUS(ScratchState::open(backend_, "names", clock_), StatusCode::kFailedPrecondition,
                "open the ScratchState on another column");
  EXPECT_EQ(count->value().value(), std::optional<int64_t>(5));

  // Its own column works beside keyed state, typed per entry.
  auto scratch = ScratchState::open(backend_, "scratch", clock_);
  ASSERT_OK(scratch);
  ASSERT_OK(scratch->put_typed<int64_t>("n", 1));
  EXPECT_EQ(scratch->get_typed<int64_t>("n").value(), std::optional<int64_t>(1));
  EXPECT_STATUS(scratch->get_typed<std::string>("n"), StatusCode::kFailedPrecondition,
                "holds a value of type 'i64', not 'string'");
}

TEST_P(TypedBindingTest, ScratchStateAloneCreatesNoStatesColumn) {
  store_.reset();
  ASSERT_OK(backend_->drop_column("_ss.states"));  // the fixture's store made it
  auto scratch = ScratchState::open(backend_, "scratch", clock_);
  ASSERT_OK(scratch);
  auto columns = backend_->list_columns();
  ASSERT_OK(columns);
  for (const std::string& column : *columns) EXPECT_NE(column, "_ss.states");
}

INSTANTIATE_TEST_SUITE_P(backends, TypedBindingTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate::testing
