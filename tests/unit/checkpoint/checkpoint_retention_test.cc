// Retention and garbage collection: keeping the last N checkpoints, a dry run that deletes
// nothing, shared files kept while a retained manifest names them, orphans, damaged checkpoints.
#include <gtest/gtest.h>

#include "checkpoint/checkpoint_names.h"
#include "checkpoint/manifest.h"
#include "streamstate/checkpoint.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

CheckpointOptions at(int64_t millis) {
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(millis);
  return options;
}

std::vector<std::string> names(CheckpointStorage& storage) {
  std::vector<std::string> out;
  auto objects = storage.list("");
  EXPECT_TRUE(objects.is_ok());
  if (!objects.is_ok()) return out;
  for (const StoredObject& object : *objects) out.push_back(object.name);
  return out;
}

void write_object(CheckpointStorage& storage, const std::string& name, const std::string& bytes) {
  auto writer = storage.create(name);
  ASSERT_TRUE(writer.is_ok());
  ASSERT_OK((*writer)->append(bytes));
  ASSERT_OK((*writer)->commit());
}

TEST(CheckpointRetentionTest, KeepsTheLastNAndADryRunDeletesNothing) {
  auto backend = open_memory();
  auto storage = open_memory_storage();
  Contents last;
  for (int i = 0; i < 5; ++i) {
    last = fill(*backend, 200, std::to_string(i));
    ASSERT_OK(write_checkpoint(*backend, *storage, at(kNow)));
  }
  std::vector<std::string> before = names(*storage);
  auto dry = collect_garbage(*storage, {.retain_last = 2, .dry_run = true});
  ASSERT_TRUE(dry.is_ok()) << dry.status().to_string();
  EXPECT_EQ(names(*storage), before);
  EXPECT_EQ(dry->retained, (std::vector<CheckpointId>{4, 5}));
  EXPECT_EQ(dry->removed, (std::vector<CheckpointId>{1, 2, 3}));
  EXPECT_EQ(dry->deleted_objects,
            (std::vector<std::string>{"chk-0000000001/manifest.json", "chk-0000000001/state.snap",
                                      "chk-0000000002/manifest.json", "chk-0000000002/state.snap",
                                      "chk-0000000003/manifest.json", "chk-0000000003/state.snap"}));
  auto done = collect_garbage(*storage, {.retain_last = 2});
  ASSERT_TRUE(done.is_ok());
  EXPECT_EQ(done->deleted_objects, dry->deleted_objects);
  EXPECT_EQ(names(*storage), (std::vector<std::string>{"chk-0000000004/manifest.json", "chk-0000000004/state.snap",
                                                       "chk-0000000005/manifest.json", "chk-0000000005/state.snap"}));
  auto target = open_memory();
  ASSERT_OK(restore_latest_checkpoint(*storage, *target, {}));
  EXPECT_EQ(read_all(*target), last);
  EXPECT_STATUS(collect_garbage(*storage, {.retain_last = 0}), StatusCode::kInvalidArgument, "retain_last is 0");
}

TEST(CheckpointRetentionTest, SharedFileSurvivesWhileARetainedManifestNamesIt) {
  auto backend = open_memory();
  Contents expected = fill(*backend, 200);
  auto storage = open_memory_storage();
  auto first = write_checkpoint(*backend, *storage, at(kNow));
  ASSERT_TRUE(first.is_ok());
  // Checkpoint 2 references checkpoint 1's data file instead of writing its own.
  CheckpointManifest second = first->manifest;
  second.id = 2;
  second.files[0].shared = true;
  write_object(*storage, checkpoint_manifest_name(2), *internal::encode_manifest(second));
  auto report = collect_garbage(*storage, {.retain_last = 1});
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->removed, std::vector<CheckpointId>{1});
  EXPECT_EQ(report->deleted_objects, std::vector<std::string>{"chk-0000000001/manifest.json"});
  EXPECT_EQ(names(*storage), (std::vector<std::string>{"chk-0000000001/state.snap", "chk-0000000002/manifest.json"}));
  EXPECT_TRUE(find_orphans(*storage)->empty());
  auto target = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 2, *target, {}));
  EXPECT_EQ(read_all(*target), expected);
}

TEST(CheckpointRetentionTest, OrphansAreListedAndRemovedOnlyWhenAsked) {
  auto backend = open_memory();
  fill(*backend, 100);
  auto storage = open_memory_storage();
  ASSERT_OK(write_checkpoint(*backend, *storage, at(kNow)));
  write_object(*storage, "chk-0000000002/state.snap", "left by a crash");
  write_object(*storage, "chk-0000000001/stray", "not in the manifest");
  write_object(*storage, "other/object", "not a checkpoint's");
  std::vector<std::string> orphans{"chk-0000000001/stray", "chk-0000000002/state.snap"};
  EXPECT_EQ(*find_orphans(*storage), orphans);
  auto kept = collect_garbage(*storage, {});
  ASSERT_TRUE(kept.is_ok());
  EXPECT_EQ(kept->orphans, orphans);
  EXPECT_TRUE(kept->deleted_objects.empty());
  auto removed = collect_garbage(*storage, {.remove_orphans = true});
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(removed->deleted_objects, orphans);
  EXPECT_EQ(names(*storage), (std::vector<std::string>{"chk-0000000001/manifest.json", "chk-0000000001/state.snap",
                                                       "other/object"}));
}

TEST(CheckpointRetentionTest, DamagedCheckpointsOlderThanTheRetainedGoNewerOnesStay) {
  auto backend = open_memory();
  fill(*backend, 100);
  auto storage = open_memory_storage();
  for (int i = 0; i < 4; ++i) ASSERT_OK(write_checkpoint(*backend, *storage, at(kNow)));
  write_object(*storage, checkpoint_manifest_name(1), "{ damaged }");
  write_object(*storage, checkpoint_manifest_name(4), "{ damaged }");
  auto report = collect_garbage(*storage, {.retain_last = 1});
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->retained, std::vector<CheckpointId>{3});
  EXPECT_EQ(report->removed, (std::vector<CheckpointId>{1, 2}));
  EXPECT_EQ(names(*storage), (std::vector<std::string>{"chk-0000000003/manifest.json", "chk-0000000003/state.snap",
                                                       "chk-0000000004/manifest.json", "chk-0000000004/state.snap"}));
}

}  // namespace
}  // namespace streamstate::testing
