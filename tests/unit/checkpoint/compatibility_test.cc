// check_compatibility: every verdict (same, migratable by migration chain or TTL consent,
// incompatible by kind, codec, TTL or schema, missing, extra, dropped), renames and their
// collisions, and a report read from a real checkpoint's manifest.
#include <gtest/gtest.h>

#include "checkpoint_test_util.h"
#include "streamstate/checkpoint.h"

namespace streamstate {
namespace {

CheckpointState state(std::string name, std::string kind = "value", std::string codec = "i64", bool ttl = false,
                      SchemaVersion version = {1, 0, 0}) {
  return CheckpointState{std::move(name), std::move(kind), std::move(codec), ttl, version};
}

CheckpointManifest manifest_with(std::vector<CheckpointState> states) {
  CheckpointManifest manifest;
  manifest.id = 1;
  manifest.states = std::move(states);
  return manifest;
}

const StateCompatibility& find(const CompatibilityReport& report, const std::string& name) {
  for (const StateCompatibility& state : report.states) {
    if (state.name == name) return state;
  }
  static const StateCompatibility kNone{"<none>", "", StateVerdict::kSame, ""};
  ADD_FAILURE() << "no verdict for '" << name << "'";
  return kNone;
}

TEST(CompatibilityTest, EveryVerdict) {
  const CheckpointManifest manifest = manifest_with({
      state("same"), state("minor", "value", "i64", false, {1, 0, 0}), state("kind", "map"),
      state("codec", "value", "string"), state("ttl_on"), state("ttl_off", "value", "i64", true),
      state("schema", "value", "i64", false, {1, 0, 0}), state("chain", "value", "i64", false, {1, 0, 0}),
      state("extra"), state("dropped")});
  const std::vector<CheckpointState> expected = {
      state("same"), state("minor", "value", "i64", false, {1, 4, 2}), state("kind", "value"),
      state("codec", "value", "i64"), state("ttl_on", "value", "i64", true), state("ttl_off", "value", "i64", false),
      state("schema", "value", "i64", false, {2, 0, 0}), state("chain", "value", "i64", false, {3, 0, 0}),
      state("missing")};
  CompatibilityOptions options;
  options.ttl_switches = {"ttl_on"};  // ttl_off has no consent
  options.migrations["chain"] = {{1, 2}, {2, 3}};
  options.drops = {"dropped"};
  const CompatibilityReport report = check_compatibility(manifest, expected, options);

  EXPECT_EQ(find(report, "same").verdict, StateVerdict::kSame);
  EXPECT_EQ(find(report, "minor").verdict, StateVerdict::kSame);
  EXPECT_EQ(find(report, "kind").verdict, StateVerdict::kIncompatible);
  EXPECT_NE(find(report, "kind").reason.find("map state"), std::string::npos) << find(report, "kind").reason;
  EXPECT_EQ(find(report, "codec").verdict, StateVerdict::kIncompatible);
  EXPECT_EQ(find(report, "ttl_on").verdict, StateVerdict::kMigratable);
  EXPECT_EQ(find(report, "ttl_off").verdict, StateVerdict::kIncompatible);
  EXPECT_NE(find(report, "ttl_off").reason.find("TtlChange::kDisable"), std::string::npos);
  EXPECT_EQ(find(report, "schema").verdict, StateVerdict::kIncompatible);
  EXPECT_NE(find(report, "schema").reason.find("no registered migration"), std::string::npos);
  EXPECT_EQ(find(report, "chain").verdict, StateVerdict::kMigratable);
  EXPECT_EQ(find(report, "extra").verdict, StateVerdict::kExtra);
  EXPECT_EQ(find(report, "missing").verdict, StateVerdict::kMissing);
  EXPECT_EQ(find(report, "dropped").verdict, StateVerdict::kDropped);
  EXPECT_FALSE(report.restorable());
  EXPECT_NE(report.summary().find("state 'kind': incompatible"), std::string::npos) << report.summary();
  EXPECT_EQ(report.summary().find("state 'same'"), std::string::npos) << "same states are not listed";
}

TEST(CompatibilityTest, RenamesMatchUnderTheNewNameAndCollisionsAreIncompatible) {
  const CheckpointManifest manifest = manifest_with({state("old"), state("other")});
  CompatibilityOptions options;
  options.renames = {{"old", "new"}};
  auto report = check_compatibility(manifest, {state("new"), state("other")}, options);
  EXPECT_TRUE(report.restorable());
  EXPECT_EQ(find(report, "new").verdict, StateVerdict::kSame);
  EXPECT_EQ(find(report, "new").checkpoint_name, "old");
  EXPECT_EQ(report.states.size(), 2u) << "'new' is not also missing";

  options.renames = {{"old", "other"}};
  report = check_compatibility(manifest, {state("other")}, options);
  EXPECT_FALSE(report.restorable());
  EXPECT_NE(report.summary().find("would both be restored as 'other'"), std::string::npos) << report.summary();
}

TEST(CompatibilityTest, AReportFromARealCheckpoint) {
  auto backend = testing::open_memory();
  testing::fill(*backend, 50);  // "counts" (value), "bytes" (map), "ttl" (value with TTL), codec i64, schema 2.1.0
  auto storage = open_memory_storage();
  auto info = write_checkpoint(*backend, *storage, {});
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  auto manifest = read_checkpoint(*storage, info->manifest.id);
  ASSERT_TRUE(manifest.is_ok());
  const CompatibilityReport report = check_compatibility(
      *manifest, {state("counts", "value", "i64", false, {2, 3, 0}), state("bytes", "map", "i64", false, {2, 1, 0}),
                  state("ttl", "value", "i64", true, {3, 0, 0})});
  EXPECT_EQ(find(report, "counts").verdict, StateVerdict::kSame);
  EXPECT_EQ(find(report, "bytes").verdict, StateVerdict::kSame);
  EXPECT_EQ(find(report, "ttl").verdict, StateVerdict::kIncompatible);  // 2 -> 3 without a migration
}

}  // namespace
}  // namespace streamstate
