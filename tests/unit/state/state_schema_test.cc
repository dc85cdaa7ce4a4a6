// The "_ss.states" records on every backend: a state keeps its kind and codec across
// restarts, schema major versions need a migration which then rewrites the stored values,
// and switching a TTL on or off (only when asked for with register_ttl_change) rewrites the
// expiry headers.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "state/state_migration.h"
#include "state/state_record.h"
#include "unit/state/state_test_backends.h"

namespace streamstate::testing {
namespace {

class StateSchemaTest : public StateBackendTest {
 protected:
  // A restart for persistent backends; a new store on the same data for memory.
  void reopen() {
    if (persistent()) {
      ASSERT_NO_FATAL_FAILURE(restart());
    } else {
      ASSERT_NO_FATAL_FAILURE(open_store());
    }
  }

  bool has_staging_column() {
    auto columns = backend_->list_columns();
    EXPECT_OK(columns);
    return std::any_of(columns->begin(), columns->end(),
                       [](const std::string& name) { return name.starts_with("_ss.migration."); });
  }

  // Writes int32 values 1 and 2 for keys "a" and "b" in value state "s" at schema 1.0.0.
  void write_version_one() {
    auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"});
    ASSERT_OK(state);
    ASSERT_OK(store_->set_current_key("a"));
    ASSERT_OK(state->update(1));
    ASSERT_OK(store_->set_current_key("b"));
    ASSERT_OK(state->update(2));
  }
};

// Version 2 stores the numbers as text.
Result<std::string> int32_to_text(BytesView old_payload) {
  auto number = decode_value<int32_t>(old_payload);
  if (!number.is_ok()) return number.status();
  return encode_value(std::to_string(*number));
}

TEST_P(StateSchemaTest, AStoredStateKeepsItsKindAcrossRestarts) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_STATUS(
      store_->map_state(MapStateDescriptor<int32_t, int32_t>{.name = "s"}), StatusCode::kFailedPrecondition,
      "state 's' is stored as a value state (codec 'i32', schema 1.0.0, without TTL) and cannot be opened "
      "as a map state");
  EXPECT_STATUS(store_->list_state(ListStateDescriptor<int32_t>{.name = "s"}),
                StatusCode::kFailedPrecondition, "a state's kind never changes");
  // The right descriptor still opens it, with its data.
  auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("a"));
  EXPECT_EQ(state->value().value(), std::optional<int32_t>(1));
}

TEST_P(StateSchemaTest, AStoredStateKeepsItsCodecAcrossRestarts) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<std::string>{.name = "s"}),
                StatusCode::kFailedPrecondition, "state 's' is stored with codec 'i32'");
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<std::string>{.name = "s"}),
                StatusCode::kFailedPrecondition, "bump the descriptor's schema major version");
}

TEST_P(StateSchemaTest, ANewMajorVersionWithoutMigrationFailsNamingBothVersions) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_STATUS(
      store_->value_state(ValueStateDescriptor<std::string>{.name = "s", .schema = {2, 0, 0}}),
      StatusCode::kFailedPrecondition,
      "state 's' is stored with schema major version 1 but its descriptor has major version 2; register a "
      "migration before opening it: store.register_migration(\"s\", 1, 2, fn)");
}

TEST_P(StateSchemaTest, ARegisteredMigrationRewritesEveryValue) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_OK(store_->register_migration("s", 1, 2, int32_to_text));
  auto state = store_->value_state(ValueStateDescriptor<std::string>{.name = "s", .schema = {2, 0, 0}});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("a"));
  EXPECT_EQ(state->value().value(), std::optional<std::string>("1"));
  ASSERT_OK(store_->set_current_key("b"));
  EXPECT_EQ(state->value().value(), std::optional<std::string>("2"));
  EXPECT_FALSE(has_staging_column());
  // The record now says 2.0.0: a later open needs no migration, and version 1 is refused.
  ASSERT_NO_FATAL_FAILURE(reopen());
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"}),
                StatusCode::kFailedPrecondition, "stored with schema major version 2");
  auto again = store_->value_state(ValueStateDescriptor<std::string>{.name = "s", .schema = {2, 1, 0}});
  ASSERT_OK(again);
  ASSERT_OK(store_->set_current_key("b"));
  EXPECT_EQ(again->value().value(), std::optional<std::string>("2"));
}

TEST_P(StateSchemaTest, MigrationsChainAcrossSeveralMajorVersions) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_OK(store_->register_migration("s", 1, 2, int32_to_text));
  ASSERT_OK(store_->register_migration("s", 2, 3, [](BytesView old_payload) -> Result<std::string> {
    auto text = decode_value<std::string>(old_payload);
    if (!text.is_ok()) return text.status();
    return encode_value(*text + "!");
  }));
  auto state = store_->value_state(ValueStateDescriptor<std::string>{.name = "s", .schema = {3, 0, 0}});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("a"));
  EXPECT_EQ(state->value().value(), std::optional<std::string>("1!"));
}

TEST_P(StateSchemaTest, AFailingMigrationChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_OK(store_->register_migration("s", 1, 2, [](BytesView old_payload) -> Result<std::string> {
    if (decode_value<int32_t>(old_payload).value_or(0) == 2) return Status::corruption("cannot convert 2");
    return int32_to_text(old_payload);
  }));
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<std::string>{.name = "s", .schema = {2, 0, 0}}),
                StatusCode::kCorruption,
                "schema migration 1.0.0 -> 2.0.0 failed (nothing was changed): cannot convert 2");
  EXPECT_FALSE(has_staging_column());
  ASSERT_NO_FATAL_FAILURE(reopen());
  auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("a"));
  EXPECT_EQ(state->value().value(), std::optional<int32_t>(1));
}

TEST_P(StateSchemaTest, ListAndMapMigrationsRewriteElementsAndValues) {
  {
    auto list = store_->list_state(ListStateDescriptor<int32_t>{.name = "l"});
    auto map = store_->map_state(MapStateDescriptor<std::string, int32_t>{.name = "m"});
    ASSERT_OK(list);
    ASSERT_OK(map);
    ASSERT_OK(store_->set_current_key("k"));
    ASSERT_OK(list->add_all({1, 2, 3}));
    ASSERT_OK(map->put("x", 7));
  }
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_OK(store_->register_migration("l", 1, 2, int32_to_text));
  ASSERT_OK(store_->register_migration("m", 1, 2, int32_to_text));
  auto list = store_->list_state(ListStateDescriptor<std::string>{.name = "l", .schema = {2, 0, 0}});
  auto map =
      store_->map_state(MapStateDescriptor<std::string, std::string>{.name = "m", .schema = {2, 0, 0}});
  ASSERT_OK(list);
  ASSERT_OK(map);
  ASSERT_OK(store_->set_current_key("k"));
  EXPECT_EQ(list->get().value(), (std::vector<std::string>{"1", "2", "3"}));
  ASSERT_OK(list->add("4"));
  EXPECT_EQ(list->get().value().size(), 4u);
  EXPECT_EQ(map->get("x").value(), std::optional<std::string>("7"));
}

TEST_P(StateSchemaTest, MinorAndPatchVersionsAreRecordedWithoutMigration) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_OK(store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .schema = {1, 3, 2}}));
  auto stored = backend_->column("_ss.states").value()->get("s");
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  auto record = internal::decode_state_record("s", **stored);
  ASSERT_OK(record);
  EXPECT_EQ(record->schema, (SchemaVersion{1, 3, 2}));
}

TEST_P(StateSchemaTest, RegisterMigrationRejectsNonsense) {
  EXPECT_STATUS(store_->register_migration("s", 2, 2, int32_to_text), StatusCode::kInvalidArgument,
                "are equal");
  EXPECT_STATUS(store_->register_migration("s", 1, 2, nullptr), StatusCode::kInvalidArgument,
                "function is empty");
  ASSERT_OK(store_->register_migration("s", 1, 2, int32_to_text));
  EXPECT_STATUS(store_->register_migration("s", 1, 2, int32_to_text), StatusCode::kAlreadyExists,
                "already registered");
  ASSERT_OK(store_->value_state(ValueStateDescriptor<int32_t>{.name = "t"}));
  EXPECT_STATUS(store_->register_migration("t", 1, 2, int32_to_text), StatusCode::kFailedPrecondition,
                "already open");
}

TEST_P(StateSchemaTest, SwitchingTtlOnGivesStoredValuesAFreshTtl) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_OK(store_->register_ttl_change("s", TtlChange::kEnable));
  StateTtlConfig ttl;
  ttl.ttl = std::chrono::milliseconds(100);
  auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("a"));
  clock_->advance_millis(99);
  EXPECT_EQ(state->value().value(), std::optional<int32_t>(1));
  clock_->advance_millis(1);
  EXPECT_FALSE(state->value().value().has_value());
}

TEST_P(StateSchemaTest, SwitchingTtlOffKeepsLiveValuesAndDropsExpiredOnes) {
  StateTtlConfig ttl;
  ttl.ttl = std::chrono::milliseconds(100);
  {
    auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl});
    ASSERT_OK(state);
    ASSERT_OK(store_->set_current_key("old"));
    ASSERT_OK(state->update(1));
    clock_->advance_millis(50);
    ASSERT_OK(store_->set_current_key("new"));
    ASSERT_OK(state->update(2));
    clock_->advance_millis(50);
  }
  ASSERT_NO_FATAL_FAILURE(reopen());
  ASSERT_OK(store_->register_ttl_change("s", TtlChange::kDisable));
  auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"});
  ASSERT_OK(state);
  EXPECT_EQ(raw_entry_count("s"), 1u);
  ASSERT_OK(store_->set_current_key("new"));
  clock_->advance_millis(1'000'000);
  EXPECT_EQ(state->value().value(), std::optional<int32_t>(2));
}

// The stored bytes of key `user_key`'s value in state "s".
std::string raw_value(StateBackend& backend, const std::string& user_key) {
  auto column = backend.column("s");
  EXPECT_OK(column);
  auto bytes = column.value()->get(make_state_key(key_group_for_key(user_key, kDefaultMaxParallelism), user_key));
  EXPECT_OK(bytes);
  return bytes.is_ok() && bytes->has_value() ? **bytes : std::string("<absent>");
}

// A reader that opens a state without thinking about its TTL must not rewrite it.
TEST_P(StateSchemaTest, SwitchingTtlOnWithoutConsentFailsAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  ASSERT_NO_FATAL_FAILURE(reopen());
  const std::string before = raw_value(*backend_, "a");
  StateTtlConfig ttl;
  ttl.ttl = std::chrono::milliseconds(100);
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl}),
                StatusCode::kFailedPrecondition,
                "state 's' is stored without a TTL (its values carry no expiry header) but is opened with a TTL "
                "of 100 ms");
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl}),
                StatusCode::kFailedPrecondition, "store.register_ttl_change(\"s\", TtlChange::kEnable)");
  // Consent for the other direction is not consent for this one.
  ASSERT_OK(store_->register_ttl_change("s", TtlChange::kDisable));
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl}),
                StatusCode::kFailedPrecondition, "stored without a TTL");
  EXPECT_EQ(raw_value(*backend_, "a"), before);
  ASSERT_NO_FATAL_FAILURE(reopen());
  auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("a"));
  clock_->advance_millis(1'000'000);
  EXPECT_EQ(state->value().value(), std::optional<int32_t>(1));
}

TEST_P(StateSchemaTest, SwitchingTtlOffWithoutConsentFailsAndChangesNothing) {
  StateTtlConfig ttl;
  ttl.ttl = std::chrono::milliseconds(100);
  {
    auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl});
    ASSERT_OK(state);
    ASSERT_OK(store_->set_current_key("a"));
    ASSERT_OK(state->update(1));
  }
  ASSERT_NO_FATAL_FAILURE(reopen());
  const std::string before = raw_value(*backend_, "a");
  EXPECT_EQ(before.size(), 8u + encode_value(int32_t{1}).size());
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"}), StatusCode::kFailedPrecondition,
                "state 's' is stored with a TTL (its values carry an expiry header) but is opened without a TTL");
  EXPECT_STATUS(store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"}), StatusCode::kFailedPrecondition,
                "TtlChange::kDisable");
  EXPECT_EQ(raw_value(*backend_, "a"), before);
  // Opened with its TTL it still expires as written.
  auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("a"));
  EXPECT_EQ(state->value().value(), std::optional<int32_t>(1));
  clock_->advance_millis(100);
  EXPECT_FALSE(state->value().value().has_value());
}

// Only the expiry time is stored, never the duration: a new duration applies to the next
// writes and needs neither a rewrite nor consent.
TEST_P(StateSchemaTest, ChangingTheTtlDurationNeedsNoRewrite) {
  StateTtlConfig ttl;
  ttl.ttl = std::chrono::milliseconds(100);
  {
    auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl});
    ASSERT_OK(state);
    ASSERT_OK(store_->set_current_key("a"));
    ASSERT_OK(state->update(1));
    ASSERT_OK(store_->set_current_key("b"));
    ASSERT_OK(state->update(2));
  }
  ASSERT_NO_FATAL_FAILURE(reopen());
  const std::string before = raw_value(*backend_, "a");
  ttl.ttl = std::chrono::milliseconds(1000);
  auto state = store_->value_state(ValueStateDescriptor<int32_t>{.name = "s", .ttl = ttl});
  ASSERT_OK(state);
  EXPECT_EQ(raw_value(*backend_, "a"), before);
  ASSERT_OK(store_->set_current_key("b"));
  ASSERT_OK(state->update(3));  // written now: lives 1000 ms
  clock_->advance_millis(100);
  ASSERT_OK(store_->set_current_key("a"));
  EXPECT_FALSE(state->value().value().has_value());  // kept its old expiry
  ASSERT_OK(store_->set_current_key("b"));
  clock_->advance_millis(899);
  EXPECT_EQ(state->value().value(), std::optional<int32_t>(3));
}

TEST_P(StateSchemaTest, RegisterTtlChangeRejectsNonsense) {
  ASSERT_OK(store_->register_ttl_change("s", TtlChange::kEnable));
  EXPECT_STATUS(store_->register_ttl_change("s", TtlChange::kDisable), StatusCode::kAlreadyExists,
                "already registered");
  ASSERT_OK(store_->value_state(ValueStateDescriptor<int32_t>{.name = "t"}));
  EXPECT_STATUS(store_->register_ttl_change("t", TtlChange::kEnable), StatusCode::kFailedPrecondition,
                "already open");
  // A registered change that is not needed (a new state, or a record that already matches)
  // does nothing.
  ASSERT_OK(store_->value_state(ValueStateDescriptor<int32_t>{.name = "s"}));
}

// A crash after the migration's commit point leaves the marker and the staging column; the
// next open finishes the job without needing the migration function again.
TEST_P(StateSchemaTest, AnInterruptedMigrationIsFinishedOnTheNextOpen) {
  ASSERT_NO_FATAL_FAILURE(write_version_one());
  const uint32_t group_a = key_group_for_key("a", kDefaultMaxParallelism);
  const std::string staging = internal::staging_column_name("s");
  ASSERT_OK(backend_->column(staging));
  ASSERT_OK(
      backend_->column(staging).value()->put(make_state_key(group_a, "a"), encode_value(std::string("one"))));
  const internal::StateRecord target{StateKind::kValue, "string", {2, 0, 0}, false};
  ASSERT_OK(backend_->column("_ss.states")
                .value()
                ->put(internal::migration_marker_key("s"), internal::encode_state_record(target)));
  ASSERT_NO_FATAL_FAILURE(reopen());
  auto state = store_->value_state(ValueStateDescriptor<std::string>{.name = "s", .schema = {2, 0, 0}});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("a"));
  EXPECT_EQ(state->value().value(), std::optional<std::string>("one"));
  // The column was rebuilt from the staging column only: "b" was not in it.
  ASSERT_OK(store_->set_current_key("b"));
  EXPECT_FALSE(state->value().value().has_value());
  EXPECT_FALSE(has_staging_column());
  auto marker = backend_->column("_ss.states").value()->get(internal::migration_marker_key("s"));
  ASSERT_OK(marker);
  EXPECT_FALSE(marker->has_value());
}

INSTANTIATE_TEST_SUITE_P(backends, StateSchemaTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate::testing
