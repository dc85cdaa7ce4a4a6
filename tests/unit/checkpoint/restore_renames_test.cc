// Restoring with RestoreOptions::renames and ::drops: a KeyedStateStore reopens renamed states
// under their new names with every value (TTL included), dropped states leave neither column
// nor record, a state mid-migration moves its marker and staging column along, check_compatibility
// with the same options agrees, and bad options are refused before anything is written.
#include <gtest/gtest.h>

#include <chrono>

#include "state/state_migration.h"
#include "streamstate/checkpoint.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/map_state.h"
#include "streamstate/value_state.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

constexpr int kUsers = 300;

ValueStateDescriptor<int64_t> clicks_named(std::string name) {
  return {.name = std::move(name), .default_value = 0, .ttl = {.ttl = std::chrono::minutes(30)}};
}
MapStateDescriptor<std::string, int64_t> carts_named(std::string name) { return {.name = std::move(name)}; }
ValueStateDescriptor<std::string> legacy_named(std::string name) { return {.name = std::move(name)}; }

std::string user(int i) { return "user-" + std::to_string(i); }

// A backend holding "clicks" (value with TTL), "carts" (map) and "legacy" (value), written
// through a KeyedStateStore, and its checkpoint 1 in `storage`.
std::shared_ptr<StateBackend> checkpointed_store(CheckpointStorage& storage, std::shared_ptr<ManualClock> clock) {
  auto source = std::shared_ptr<StateBackend>(open_memory());
  auto store = KeyedStateStore::open(source, {.clock = clock, .close_backend_on_close = false});
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  auto clicks = (*store)->value_state(clicks_named("clicks"));
  auto carts = (*store)->map_state(carts_named("carts"));
  auto legacy = (*store)->value_state(legacy_named("legacy"));
  EXPECT_TRUE(clicks.is_ok() && carts.is_ok() && legacy.is_ok());
  for (int i = 0; i < kUsers; ++i) {
    EXPECT_OK((*store)->set_current_key(user(i)));
    EXPECT_OK(clicks->update(i));
    EXPECT_OK(carts->put("item-" + std::to_string(i), i * 10));
    EXPECT_OK(carts->put("gift", -i));
    EXPECT_OK(legacy->update("old-" + std::to_string(i)));
  }
  CheckpointOptions options;
  options.clock = clock;
  EXPECT_OK(write_checkpoint(*source, storage, options));
  return source;
}

std::set<std::string> columns_of(StateBackend& backend) {
  auto columns = backend.list_columns();
  EXPECT_TRUE(columns.is_ok());
  return columns.is_ok() ? std::set<std::string>(columns->begin(), columns->end()) : std::set<std::string>{};
}

TEST(RestoreRenamesTest, RenamedStatesReopenUnderTheirNewNamesAndDroppedOnesAreGone) {
  auto clock = std::make_shared<ManualClock>(kNow);
  auto storage = open_memory_storage();
  auto source = checkpointed_store(*storage, clock);
  RestoreOptions options;
  options.renames = {{"clicks", "visits"}, {"carts", "baskets"}};
  options.drops = {"legacy"};
  options.threads = 2;

  // The dry run says what the restore will do.
  auto manifest = read_checkpoint(*storage, 1);
  ASSERT_OK(manifest);
  std::vector<CheckpointState> program;
  for (CheckpointState state : manifest->states) {
    if (state.name == "legacy") continue;
    state.name = options.renames.at(state.name);
    program.push_back(state);
  }
  CompatibilityReport report =
      check_compatibility(*manifest, program, {.renames = options.renames, .drops = options.drops});
  ASSERT_EQ(report.states.size(), 3u);
  EXPECT_TRUE(report.restorable()) << report.summary();
  EXPECT_EQ(report.states[0].name, "baskets");
  EXPECT_EQ(report.states[0].checkpoint_name, "carts");
  EXPECT_EQ(report.states[0].verdict, StateVerdict::kSame);
  EXPECT_EQ(report.states[1].name, "legacy");
  EXPECT_EQ(report.states[1].verdict, StateVerdict::kDropped);
  EXPECT_EQ(report.states[2].name, "visits");
  EXPECT_EQ(report.states[2].checkpoint_name, "clicks");
  EXPECT_EQ(report.states[2].verdict, StateVerdict::kSame);

  auto target = std::shared_ptr<StateBackend>(open_memory());
  auto restored = restore_checkpoint(*storage, 1, *target, options);
  ASSERT_OK(restored);
  EXPECT_EQ(restored->columns, (std::vector<std::string>{"baskets", "visits"}));
  EXPECT_EQ(columns_of(*target), (std::set<std::string>{"_ss.states", "baskets", "visits"}));

  // The records moved with the columns (their bytes hold no name), the dropped one is gone.
  Contents before = read_all(*source);
  Contents after = read_all(*target);
  const std::string states(internal::kStatesColumn);
  EXPECT_EQ(after[states].size(), 3u);  // "!layout", "baskets", "visits"
  EXPECT_EQ(after[states]["visits"], before[states]["clicks"]);
  EXPECT_EQ(after[states]["baskets"], before[states]["carts"]);
  EXPECT_EQ(after[states]["!layout"], before[states]["!layout"]);
  EXPECT_FALSE(after[states].contains("legacy"));
  EXPECT_EQ(after["visits"], before["clicks"]);  // entries with their expiry headers
  EXPECT_EQ(after["baskets"], before["carts"]);

  auto store = KeyedStateStore::open(target, {.clock = clock});
  ASSERT_OK(store);
  auto visits = (*store)->value_state(clicks_named("visits"));
  ASSERT_OK(visits);
  auto baskets = (*store)->map_state(carts_named("baskets"));
  ASSERT_OK(baskets);
  for (int i = 0; i < kUsers; ++i) {
    ASSERT_OK((*store)->set_current_key(user(i)));
    auto visit = visits->value();
    ASSERT_OK(visit);
    EXPECT_EQ(*visit, std::optional<int64_t>(i));
    auto item = baskets->get("item-" + std::to_string(i));
    ASSERT_OK(item);
    EXPECT_EQ(*item, std::optional<int64_t>(i * 10));
    auto entries = baskets->entries();
    ASSERT_OK(entries);
    EXPECT_EQ(entries->size(), 2u);
  }
  // The TTL still runs: 31 minutes later the visits are gone, the baskets (no TTL) are not.
  clock->advance_millis(31 * 60 * 1000);
  ASSERT_OK((*store)->set_current_key(user(7)));
  auto expired = visits->value();
  ASSERT_OK(expired);
  EXPECT_EQ(*expired, std::optional<int64_t>(0));  // the default value: the stored 7 expired
  auto kept = baskets->get("gift");
  ASSERT_OK(kept);
  EXPECT_EQ(*kept, std::optional<int64_t>(-7));
}

TEST(RestoreRenamesTest, AStateMidMigrationTakesItsMarkerAndStagingColumnAlong) {
  auto backend = open_memory();
  Contents expected = fill(*backend, 200);
  const std::string states(internal::kStatesColumn);
  put(*backend, internal::staging_column_name("counts"), make_state_key(7, "k"), "migrated");
  put(*backend, states, internal::migration_marker_key("counts"), "next record");
  put(*backend, internal::staging_column_name("ttl"), make_state_key(9, "k"), "staged");
  put(*backend, states, internal::migration_marker_key("ttl"), "next ttl record");
  auto storage = open_memory_storage();
  CheckpointOptions checkpoint_options;
  checkpoint_options.clock = std::make_shared<ManualClock>(kNow);
  ASSERT_OK(write_checkpoint(*backend, *storage, checkpoint_options));

  auto target = open_memory();
  RestoreOptions options;
  options.renames = {{"counts", "tallies"}};
  options.drops = {"ttl"};
  ASSERT_OK(restore_checkpoint(*storage, 1, *target, options));
  Contents got = read_all(*target);
  EXPECT_EQ(columns_of(*target), (std::set<std::string>{states, "bytes", "tallies",
                                                        internal::staging_column_name("tallies")}));
  EXPECT_EQ(got["tallies"], expected["counts"]);
  EXPECT_EQ(got["bytes"], expected["bytes"]);
  EXPECT_EQ(got[internal::staging_column_name("tallies")],
            (std::map<std::string, std::string>{{make_state_key(7, "k"), "migrated"}}));
  EXPECT_EQ(got[states],
            (std::map<std::string, std::string>{{"!layout", expected[states]["!layout"]},
                                                {internal::migration_marker_key("tallies"), "next record"},
                                                {"bytes", expected[states]["bytes"]},
                                                {"tallies", expected[states]["counts"]}}));
}

TEST(RestoreRenamesTest, BadRenamesAndDropsAreRefusedBeforeAnythingIsWritten) {
  auto clock = std::make_shared<ManualClock>(kNow);
  auto storage = open_memory_storage();
  checkpointed_store(*storage, clock);
  auto manifest = read_checkpoint(*storage, 1);
  ASSERT_OK(manifest);
  auto refused = [&](RestoreOptions options, const std::string& fragment) {
    auto target = open_memory();
    EXPECT_STATUS(restore_checkpoint(*storage, 1, *target, options), StatusCode::kInvalidArgument, fragment);
    EXPECT_TRUE(columns_of(*target).empty()) << fragment;
    // The dry run with the same renames and drops agrees that this cannot be restored.
    CompatibilityReport report =
        check_compatibility(*manifest, manifest->states, {.renames = options.renames, .drops = options.drops});
    if (options.states.empty()) {
      EXPECT_FALSE(report.restorable()) << fragment << "\n" << report.summary();
    }
  };
  refused({.renames = {{"clickz", "visits"}}}, "RestoreOptions::renames names 'clickz', which is not a state");
  refused({.drops = {"nothing"}}, "RestoreOptions::drops names 'nothing', which is not a state");
  refused({.renames = {{"clicks", "visits"}}, .drops = {"clicks"}}, "both name state 'clicks'");
  refused({.states = {"legacy"}, .drops = {"legacy"}}, "RestoreOptions::states and ::drops both name state 'legacy'");
  refused({.renames = {{"clicks", "carts"}}}, "'carts' and 'clicks' both as 'carts'");
  refused({.renames = {{"clicks", "x"}, {"legacy", "x"}}}, "both as 'x'");
  refused({.renames = {{"clicks", "_ss.states"}}}, "not a valid state name");
  refused({.renames = {{"clicks", ""}}}, "not a valid state name");

  // A rename onto a name whose state is dropped, or one not restored, is fine.
  auto target = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 1, *target, {.renames = {{"clicks", "carts"}}, .drops = {"carts"}}));
  EXPECT_EQ(columns_of(*target), (std::set<std::string>{"_ss.states", "carts", "legacy"}));
  auto partial = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 1, *partial, {.states = {"clicks"}, .renames = {{"clicks", "carts"}}}));
  EXPECT_EQ(columns_of(*partial), (std::set<std::string>{"_ss.states", "carts"}));
}

}  // namespace
}  // namespace streamstate::testing
