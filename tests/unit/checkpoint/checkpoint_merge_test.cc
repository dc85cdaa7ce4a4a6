// Merging an incremental chain into one full checkpoint: last write wins reproduces the chain's
// restore exactly and keeps its metadata; first write wins and timestamp priority decide
// between puts while deletes apply in order; damage and bad options are refused by name.
#include <gtest/gtest.h>

#include <string>

#include "storage/fault_injecting_storage.h"
#include "storage/memory_storage.h"
#include "streamstate/checkpoint.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

using storage::FaultInjectingStorage;
using storage::MemoryStorage;

std::unique_ptr<MemoryBackend> open_tracking() {
  MemoryBackendOptions options;
  options.track_changes = true;
  return MemoryBackend::open(options).value();
}

CheckpointOptions incremental(int64_t millis) {
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(millis);
  options.incremental = {.enabled = true, .full_every = 10, .max_delta_share = 100.0};
  options.source_positions = {{"clicks-0", std::to_string(millis)}};
  return options;
}

Contents restored(CheckpointStorage& storage, CheckpointId id) {
  auto target = open_memory();
  auto info = restore_checkpoint(storage, id, *target, {});
  EXPECT_TRUE(info.is_ok()) << info.status().to_string();
  return read_all(*target);
}

// A chain (full + 3 deltas) over one column "c" whose values are decimal timestamps:
//   "a": 5, then 3 (an older update that arrived later), then 9
//   "b": 1, deleted, then 4
//   "d": 7 in the full checkpoint only; "e" new in the last delta: 2
void write_chain(StateBackend& backend, CheckpointStorage& storage) {
  auto c = backend.column("c").value();
  const auto key = [](const char* name) { return make_state_key(static_cast<uint32_t>(name[0]) % 128, name); };
  ASSERT_OK(c->put(key("a"), "5"));
  ASSERT_OK(c->put(key("b"), "1"));
  ASSERT_OK(c->put(key("d"), "7"));
  ASSERT_TRUE(write_checkpoint(backend, storage, incremental(kNow)).is_ok());
  ASSERT_OK(c->put(key("a"), "3"));
  ASSERT_OK(c->remove(key("b")));
  ASSERT_TRUE(write_checkpoint(backend, storage, incremental(kNow + 1)).is_ok());
  ASSERT_OK(c->put(key("b"), "4"));
  ASSERT_TRUE(write_checkpoint(backend, storage, incremental(kNow + 2)).is_ok());
  ASSERT_OK(c->put(key("a"), "9"));
  ASSERT_OK(c->put(key("e"), "2"));
  auto last = write_checkpoint(backend, storage, incremental(kNow + 3));
  ASSERT_TRUE(last.is_ok());
  ASSERT_EQ(last->manifest.kind, CheckpointKind::kIncremental);
  ASSERT_EQ(last->manifest.parents, (std::vector<CheckpointId>{1, 2, 3}));
}

std::map<std::string, std::string> column_c(const Contents& contents) {
  std::map<std::string, std::string> out;
  auto found = contents.find("c");
  if (found == contents.end()) return out;
  for (const auto& [key, value] : found->second) out[key.substr(key.size() - 1)] = value;  // the one-letter name
  return out;
}

TEST(CheckpointMergeTest, LastWriteWinsReproducesTheChain) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 1500);
  MemoryStorage storage;
  write_chain(*backend, storage);
  auto merged = merge_checkpoint_chain(storage, 4);
  ASSERT_TRUE(merged.is_ok()) << merged.status().to_string();
  const CheckpointManifest& m = merged->manifest;
  EXPECT_EQ(m.id, 5u);
  EXPECT_EQ(m.kind, CheckpointKind::kFull);
  EXPECT_TRUE(m.parents.empty());
  auto chain = read_checkpoint(storage, 4);
  ASSERT_TRUE(chain.is_ok());
  EXPECT_EQ(m.created_millis, chain->created_millis);
  EXPECT_EQ(m.key_groups, chain->key_groups);
  EXPECT_EQ(m.states, chain->states);
  EXPECT_EQ(m.store_records, chain->store_records);
  EXPECT_EQ(m.columns, chain->columns);
  EXPECT_EQ(m.source_positions, chain->source_positions);
  EXPECT_EQ(m.backend_kind, "memory");
  EXPECT_EQ(m.user_metadata.at("merged_from"), "4");
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_FALSE(m.files[0].shared);
  Contents chain_state = restored(storage, 4);
  EXPECT_EQ(restored(storage, 5), chain_state);
  EXPECT_EQ(column_c(chain_state),
            (std::map<std::string, std::string>{{"a", "9"}, {"b", "4"}, {"d", "7"}, {"e", "2"}}));
  // The chain can go now: retention keeps the merged checkpoint alone, and it restores.
  ASSERT_TRUE(collect_garbage(storage, {.retain_last = 1}).is_ok());
  auto left = storage.list("");
  ASSERT_TRUE(left.is_ok());
  for (const StoredObject& object : *left) EXPECT_TRUE(object.name.starts_with("chk-0000000005/")) << object.name;
  EXPECT_EQ(restored(storage, 5), chain_state);
}

TEST(CheckpointMergeTest, FirstWriteWinsKeepsFirstValuesButAppliesDeletes) {
  auto backend = open_tracking();
  MemoryStorage storage;
  write_chain(*backend, storage);
  auto merged = merge_checkpoint_chain(storage, 4, {.policy = MergePolicy::kFirstWriteWins});
  ASSERT_TRUE(merged.is_ok()) << merged.status().to_string();
  EXPECT_EQ(column_c(restored(storage, merged->manifest.id)),
            (std::map<std::string, std::string>{{"a", "5"}, {"b", "4"}, {"d", "7"}, {"e", "2"}}));
}

TEST(CheckpointMergeTest, TimestampPriorityKeepsTheNewestPut) {
  auto backend = open_tracking();
  MemoryStorage storage;
  write_chain(*backend, storage);
  ASSERT_OK(storage.remove(checkpoint_manifest_name(4)));  // merge the chain up to checkpoint 3
  MergeOptions options{.policy = MergePolicy::kTimestampPriority};
  EXPECT_EQ(merge_checkpoint_chain(storage, 3, options).status().code(), StatusCode::kInvalidArgument);
  options.timestamp_of = [](std::string_view, BytesView, BytesView value) {
    return static_cast<int64_t>(std::stoll(std::string(value)));
  };
  options.id = 40;
  auto merged = merge_checkpoint_chain(storage, 3, options);
  ASSERT_TRUE(merged.is_ok()) << merged.status().to_string();
  EXPECT_EQ(merged->manifest.id, 40u);
  // "a": 5 beats the later 3; "b" was deleted, then 4 came.
  EXPECT_EQ(column_c(restored(storage, 40)),
            (std::map<std::string, std::string>{{"a", "5"}, {"b", "4"}, {"d", "7"}}));
}

TEST(CheckpointMergeTest, DamagedChainFileIsNamedAndNothingIsWritten) {
  auto backend = open_tracking();
  auto inner = std::make_shared<MemoryStorage>();
  FaultInjectingStorage storage(inner);
  write_chain(*backend, storage);
  ASSERT_OK(storage.flip_byte("chk-0000000002/tombstones.snap", 14));
  auto merged = merge_checkpoint_chain(storage, 4);
  ASSERT_EQ(merged.status().code(), StatusCode::kCorruption);
  EXPECT_NE(merged.status().message().find("chk-0000000002/tombstones.snap"), std::string::npos)
      << merged.status().message();
  auto listing = list_checkpoints(storage);
  ASSERT_TRUE(listing.is_ok());
  EXPECT_EQ(listing->valid.size(), 4u);
  EXPECT_EQ(merge_checkpoint_chain(storage, 99).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace streamstate::testing
