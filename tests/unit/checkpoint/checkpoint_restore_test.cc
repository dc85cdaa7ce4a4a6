// Full checkpoints and restores on the memory backend: layout in storage, the manifest's
// contents, asynchronous writing while writers go on, expired entries left out, and restores
// of everything, of named states, of key-group sub-ranges (rescaling 2 -> 4 and 4 -> 2), on
// several threads, and at a point in time.
#include <gtest/gtest.h>

#include <thread>

#include "checkpoint/checkpoint_names.h"
#include "state/state_migration.h"
#include "storage/fault_injecting_storage.h"
#include "storage/memory_storage.h"
#include "streamstate/checksum.h"
#include "streamstate/checkpoint.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/scratch_state.h"
#include "streamstate/value_state.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

CheckpointOptions at(int64_t millis) {
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(millis);
  return options;
}

CheckpointInfo checkpoint(StateBackend& backend, CheckpointStorage& storage, CheckpointOptions options = at(kNow)) {
  auto info = write_checkpoint(backend, storage, std::move(options));
  EXPECT_TRUE(info.is_ok()) << info.status().to_string();
  return info.is_ok() ? *info : CheckpointInfo{};
}

TEST(CheckpointTest, WritesDataThenManifestAndRecordsTheStore) {
  auto backend = open_memory();
  Contents expected = fill(*backend);
  auto storage = open_memory_storage();
  CheckpointOptions options = at(kNow);
  options.source_positions = {{"clicks-0", "1234"}};
  options.user_metadata = {{"job", "clicks"}};
  CheckpointInfo info = checkpoint(*backend, *storage, options);
  const CheckpointManifest& m = info.manifest;
  EXPECT_EQ(m.id, 1u);
  EXPECT_EQ(m.created_millis, kNow);
  EXPECT_EQ(m.kind, CheckpointKind::kFull);
  EXPECT_EQ(m.backend_kind, "memory");
  EXPECT_EQ(m.max_parallelism, 128u);
  EXPECT_EQ(m.key_groups, KeyGroupRange(0, 128));
  EXPECT_EQ(m.columns, (std::vector<std::string>{"_ss.states", "bytes", "counts", "ttl"}));
  ASSERT_EQ(m.states.size(), 3u);
  EXPECT_EQ(m.states[2], (CheckpointState{"ttl", "value", "i64", true, SchemaVersion{2, 1, 0}}));
  EXPECT_EQ(m.states[0].kind, "map");
  EXPECT_EQ(m.store_records, expected["_ss.states"]);
  EXPECT_EQ(m.source_positions, options.source_positions);
  EXPECT_EQ(m.user_metadata, options.user_metadata);
  EXPECT_EQ(info.expired_dropped, 1500u);
  EXPECT_EQ(info.entries, 3000u + 1000u + 1500u);

  auto objects = storage->list("");
  ASSERT_TRUE(objects.is_ok());
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[0].name, "chk-0000000001/manifest.json");
  EXPECT_EQ((*objects)[1].name, "chk-0000000001/state.snap");
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].name, "chk-0000000001/state.snap");
  EXPECT_EQ(m.files[0].size, (*objects)[1].size);
  EXPECT_EQ(m.files[0].checksum, checksum64(*storage->read("chk-0000000001/state.snap")));
  ASSERT_EQ(m.files[0].columns.size(), 3u);  // "_ss.states" lives in the manifest
  EXPECT_TRUE(m.files[0].columns[2].values_carry_expiry);
  EXPECT_EQ(m.files[0].columns[1].key_groups.size(), 128u);
  auto read_back = read_checkpoint(*storage, 1);
  ASSERT_TRUE(read_back.is_ok()) << read_back.status().to_string();
  EXPECT_EQ(*read_back, m);
  EXPECT_OK(verify_checkpoint(*storage, 1));

  EXPECT_EQ(checkpoint(*backend, *storage).manifest.id, 2u);
  options.id = 2;
  EXPECT_STATUS(write_checkpoint(*backend, *storage, options), StatusCode::kAlreadyExists, "checkpoint 2 already");
}

TEST(CheckpointTest, RestoreGivesBackTheStateAtTheSnapshotWhileWritersWentOn) {
  auto backend = open_memory();
  Contents expected = fill(*backend);
  auto storage = open_memory_storage();
  auto pending = start_checkpoint(*backend, *storage, at(kNow));
  ASSERT_TRUE(pending.is_ok()) << pending.status().to_string();
  // Writers continue while the checkpoint is written; none of this may appear in it.
  for (int i = 0; i < 500; ++i) put(*backend, "counts", make_state_key(3, "late-" + std::to_string(i)), "x");
  put(*backend, "late", make_state_key(1, "k"), "v");
  auto info = pending->wait();
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_TRUE(pending->done());
  EXPECT_TRUE(pending->wait().is_ok());  // wait() again: same result

  auto target = open_memory();
  auto restored = restore_checkpoint(*storage, 1, *target, {});
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(restored->entries, 5500u);
  EXPECT_EQ(restored->columns, (std::vector<std::string>{"bytes", "counts", "ttl"}));
  EXPECT_EQ(read_all(*target), expected);
}

TEST(CheckpointTest, KeyedStateStoreReopensTheRestoredBackend) {
  auto source = std::shared_ptr<StateBackend>(open_memory());
  auto clock = std::make_shared<ManualClock>(kNow);
  {
    auto store = KeyedStateStore::open(source, {.clock = clock, .close_backend_on_close = false});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    auto clicks = (*store)->value_state(ValueStateDescriptor<int64_t>{
        .name = "clicks", .default_value = 0, .ttl = {.ttl = std::chrono::minutes(30)}});
    ASSERT_TRUE(clicks.is_ok()) << clicks.status().to_string();
    for (int user = 0; user < 200; ++user) {
      ASSERT_OK((*store)->set_current_key("user-" + std::to_string(user)));
      ASSERT_OK(clicks->update(user));
    }
  }
  auto storage = open_memory_storage();
  CheckpointOptions options;
  options.clock = clock;
  ASSERT_OK(write_checkpoint(*source, *storage, options));
  auto manifest = read_checkpoint(*storage, 1);
  ASSERT_TRUE(manifest.is_ok());
  ASSERT_EQ(manifest->states.size(), 1u);
  EXPECT_EQ(manifest->states[0].name, "clicks");
  EXPECT_TRUE(manifest->states[0].ttl);
  EXPECT_TRUE(manifest->files[0].columns[0].values_carry_expiry);

  auto target = std::shared_ptr<StateBackend>(open_memory());
  ASSERT_OK(restore_checkpoint(*storage, 1, *target, {}));
  auto store = KeyedStateStore::open(target, {.clock = clock});
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  auto clicks = (*store)->value_state(ValueStateDescriptor<int64_t>{
      .name = "clicks", .default_value = 0, .ttl = {.ttl = std::chrono::minutes(30)}});
  ASSERT_TRUE(clicks.is_ok()) << clicks.status().to_string();
  for (int user = 0; user < 200; ++user) {
    ASSERT_OK((*store)->set_current_key("user-" + std::to_string(user)));
    EXPECT_EQ(*clicks->value_or_default(), user);
  }
}

// A ScratchState column beside keyed state: its keys are names, not state keys, so a
// checkpoint refuses it with a message that says how to leave it out, and excluded_columns
// does; the restore has the keyed state and no scratch column.
TEST(CheckpointTest, ColumnsThatAreNotKeyedStateAreRefusedByNameOrExcluded) {
  auto source = std::shared_ptr<StateBackend>(open_memory());
  Contents expected = fill(*source, 300);
  auto scratch = ScratchState::open(source);
  ASSERT_TRUE(scratch.is_ok()) << scratch.status().to_string();
  ASSERT_OK(scratch->put_typed<int64_t>("user_count", 42));
  ASSERT_OK(scratch->put_typed<int64_t>("x", 1));  // one byte: too short for a key group
  auto storage = open_memory_storage();
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(kNow);
  auto refused = write_checkpoint(*source, *storage, options);
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("'scratch'"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("CheckpointOptions::excluded_columns"), std::string::npos)
      << refused.status().message();

  options.excluded_columns = {"scratch"};
  auto written = write_checkpoint(*source, *storage, options);
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  EXPECT_EQ(std::count(written->manifest.columns.begin(), written->manifest.columns.end(), "scratch"), 0);
  auto target = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, written->manifest.id, *target, {}));
  EXPECT_EQ(read_all(*target), expected);
}

TEST(CheckpointTest, PartialRestoreWritesOnlyTheNamedStatesAndTheirRecords) {
  auto backend = open_memory();
  Contents expected = fill(*backend);
  auto storage = open_memory_storage();
  checkpoint(*backend, *storage);
  auto target = open_memory();
  auto restored = restore_checkpoint(*storage, 1, *target, {.states = {"ttl"}});
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  Contents got = read_all(*target);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(got["ttl"], expected["ttl"]);
  EXPECT_EQ(got["_ss.states"].size(), 2u);  // "ttl" and "!layout"
  EXPECT_EQ(got["_ss.states"]["ttl"], expected["_ss.states"]["ttl"]);
  EXPECT_TRUE(got["_ss.states"].contains("!layout"));

  // A state in the middle of a schema migration keeps its staging column and marker.
  const std::string staging = internal::staging_column_name("counts");
  put(*backend, staging, make_state_key(7, "k"), "migrated");
  put(*backend, std::string(internal::kStatesColumn), internal::migration_marker_key("counts"), "next record");
  checkpoint(*backend, *storage);
  auto migrating = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 2, *migrating, {.states = {"counts"}}));
  Contents restored_counts = read_all(*migrating);
  EXPECT_EQ(restored_counts[staging].size(), 1u);
  EXPECT_EQ(restored_counts["_ss.states"].count(internal::migration_marker_key("counts")), 1u);
  EXPECT_EQ(restored_counts["counts"], expected["counts"]);
  auto without = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 2, *without, {.states = {"ttl"}}));
  EXPECT_FALSE(read_all(*without).contains(staging));

  auto other = open_memory();
  EXPECT_STATUS(restore_checkpoint(*storage, 1, *other, {.states = {"nope"}}), StatusCode::kInvalidArgument,
                "'nope', which is not in the checkpoint");
  EXPECT_TRUE(read_all(*other).empty());
}

TEST(CheckpointTest, CheckpointOfARangeHoldsOnlyThatRangeAndRefusesGroupsBeyondMaxParallelism) {
  auto backend = open_memory();
  Contents expected = fill(*backend);
  auto storage = open_memory_storage();
  CheckpointOptions options = at(kNow);
  options.key_groups = KeyGroupRange(10, 50);
  EXPECT_EQ(checkpoint(*backend, *storage, options).manifest.key_groups, KeyGroupRange(10, 50));
  auto target = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 1, *target, {}));
  EXPECT_EQ(read_all(*target), within(expected, KeyGroupRange(10, 50)));

  auto plain = open_memory();
  put(*plain, "raw", make_state_key(200, "k"), "v");
  EXPECT_STATUS(write_checkpoint(*plain, *storage, at(kNow)), StatusCode::kInvalidArgument,
                "key group 200, outside max_parallelism 128");
  CheckpointOptions wide = at(kNow);
  wide.max_parallelism = 256;
  EXPECT_OK(write_checkpoint(*plain, *storage, wide));
}

// Instances of a job with parallelism `from` each checkpoint their own range into their own
// storage; `to` new instances each restore their range from all of them.
void rescale(uint32_t from, uint32_t to) {
  SCOPED_TRACE(std::to_string(from) + " -> " + std::to_string(to));
  auto backend = open_memory();
  Contents expected = fill(*backend);
  std::vector<std::unique_ptr<CheckpointStorage>> storages;
  std::vector<RestoreSource> sources;
  for (uint32_t i = 0; i < from; ++i) {
    storages.push_back(open_memory_storage());
    CheckpointOptions options = at(kNow);
    options.key_groups = KeyGroupRange::for_operator(128, from, i);
    checkpoint(*backend, *storages.back(), options);
    sources.push_back({storages.back().get(), 1});
  }
  Contents united;
  for (uint32_t i = 0; i < to; ++i) {
    KeyGroupRange range = KeyGroupRange::for_operator(128, to, i);
    auto target = open_memory();
    auto restored = restore_checkpoints(sources, *target, {.key_groups = range, .threads = 3});
    ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
    Contents got = read_all(*target);
    EXPECT_EQ(got, within(expected, range));
    for (auto& [column, entries] : got) united[column].insert(entries.begin(), entries.end());
  }
  EXPECT_EQ(united, expected);
}

TEST(CheckpointTest, RescalesTwoToFourAndFourToTwo) {
  rescale(2, 4);
  rescale(4, 2);
  rescale(3, 1);
}

TEST(CheckpointTest, RestoreRefusesSourcesThatDoNotCoverTheRangeOrOverlap) {
  auto backend = open_memory();
  fill(*backend, 300);
  auto a = open_memory_storage();
  auto b = open_memory_storage();
  CheckpointOptions options = at(kNow);
  options.key_groups = KeyGroupRange(0, 64);
  checkpoint(*backend, *a, options);
  options.key_groups = KeyGroupRange(32, 128);
  checkpoint(*backend, *b, options);
  auto target = open_memory();
  EXPECT_STATUS(restore_checkpoint(*a, 1, *target, {.key_groups = KeyGroupRange(0, 100)}),
                StatusCode::kInvalidArgument, "key group 64 of the restore range [0, 100) is in none");
  EXPECT_STATUS(restore_checkpoints({{a.get(), 1}, {b.get(), 1}}, *target, {}), StatusCode::kInvalidArgument,
                "both hold key groups [32, 64)");
  EXPECT_TRUE(read_all(*target).empty());
}

TEST(CheckpointTest, ParallelRestoreEqualsSingleThreaded) {
  auto backend = open_memory();
  Contents expected = fill(*backend, 5000);
  auto storage = open_memory_storage();
  checkpoint(*backend, *storage);
  for (uint32_t threads : {1u, 2u, 7u, 200u}) {
    auto target = open_memory();
    auto restored = restore_checkpoint(*storage, 1, *target, {.threads = threads});
    ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
    EXPECT_EQ(read_all(*target), expected) << threads;
  }
  auto target = open_memory();
  EXPECT_STATUS(restore_checkpoint(*storage, 1, *target, {.threads = 0}), StatusCode::kInvalidArgument, "threads 0");
}

TEST(CheckpointTest, PointInTimeRestoresTheLatestAtOrBefore) {
  auto backend = open_memory();
  auto storage = open_memory_storage();
  std::map<int64_t, Contents> at_time;
  for (int64_t t : {kNow, kNow + 100, kNow + 200}) {
    at_time[t] = fill(*backend, 400, "t" + std::to_string(t));
    checkpoint(*backend, *storage, at(t));
  }
  auto manifest = latest_checkpoint_at_or_before(*storage, kNow + 150);
  ASSERT_TRUE(manifest.is_ok()) << manifest.status().to_string();
  EXPECT_EQ(manifest->id, 2u);
  EXPECT_EQ(latest_checkpoint(*storage)->id, 3u);
  for (auto [when, id] : std::vector<std::pair<int64_t, CheckpointId>>{{kNow + 150, 2}, {kNow + 200, 3}, {kNow, 1}}) {
    auto target = open_memory();
    auto restored = restore_checkpoint_at_or_before(*storage, when, *target, {});
    ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
    EXPECT_EQ(restored->ids, std::vector<CheckpointId>{id});
    Contents expected = at_time[static_cast<int64_t>(kNow + 100 * (static_cast<int64_t>(id) - 1))];
    // Entries expire by the time of each checkpoint's creation; all here expire at kNow.
    EXPECT_EQ(read_all(*target), expected);
  }
  auto target = open_memory();
  EXPECT_STATUS(restore_checkpoint_at_or_before(*storage, kNow - 1, *target, {}), StatusCode::kNotFound,
                "no usable checkpoint created at or before");
}

TEST(CheckpointTest, NonEmptyTargetIsRefusedAndLeftAsItWas) {
  auto backend = open_memory();
  fill(*backend, 300);
  auto storage = open_memory_storage();
  checkpoint(*backend, *storage);
  auto target = open_memory();
  put(*target, "counts", make_state_key(1, "mine"), "keep");
  Contents before = read_all(*target);
  EXPECT_STATUS(restore_checkpoint(*storage, 1, *target, {}), StatusCode::kFailedPrecondition,
                "restore target column 'counts' holds entries");
  EXPECT_EQ(read_all(*target), before);
  // Another, empty, column of the target is fine and stays.
  auto other = open_memory();
  ASSERT_OK(other->column("unrelated"));
  ASSERT_OK(restore_checkpoint(*storage, 1, *other, {}));
}

TEST(CheckpointTest, EmptyColumnsAreRestoredAsColumns) {
  auto backend = open_memory();
  ASSERT_OK(backend->column_with_options("empty", {.values_carry_expiry = true}));
  put(*backend, "counts", make_state_key(100, "k"), "v");
  auto storage = open_memory_storage();
  CheckpointOptions options = at(kNow);
  options.expiring_columns = std::set<std::string>{"empty"};
  checkpoint(*backend, *storage, options);
  auto target = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 1, *target, {.key_groups = KeyGroupRange(0, 10)}));
  EXPECT_EQ(read_all(*target), (Contents{{"counts", {}}, {"empty", {}}}));
  // Recreated with its expiry setting.
  EXPECT_EQ(target->column_with_options("empty", {.values_carry_expiry = false}).status().code(),
            StatusCode::kInvalidArgument);
}

// Counts the bytes read from data files, whole and by range.
class CountingStorage final : public CheckpointStorage {
 public:
  explicit CountingStorage(CheckpointStorage& inner) : inner_(inner) {}
  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override { return inner_.create(name); }
  Result<std::string> read(std::string_view name) override {
    auto bytes = inner_.read(name);
    if (bytes.is_ok() && !name.ends_with("manifest.json")) whole_bytes += bytes->size();
    return bytes;
  }
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override {
    ++range_reads;
    range_bytes += length;
    return inner_.read_range(name, offset, length);
  }
  Result<std::vector<StoredObject>> list(std::string_view prefix) override { return inner_.list(prefix); }
  Result<bool> exists(std::string_view name) override { return inner_.exists(name); }
  Status remove(std::string_view name) override { return inner_.remove(name); }
  Status remove_incomplete() override { return inner_.remove_incomplete(); }
  std::string describe() const override { return inner_.describe(); }

  uint64_t whole_bytes = 0;
  uint64_t range_bytes = 0;
  uint64_t range_reads = 0;

 private:
  CheckpointStorage& inner_;
};

TEST(CheckpointTest, SubRangeRestoreReadsOnlyItsKeyGroups) {
  auto backend = open_memory();
  Contents expected = fill(*backend, 6000);
  auto inner = std::make_shared<storage::MemoryStorage>();
  storage::FaultInjectingStorage damaged(inner);
  CountingStorage storage(damaged);
  CheckpointOptions options = at(kNow);
  options.block_bytes = 4096;
  const CheckpointManifest m = checkpoint(*backend, storage, options).manifest;
  const uint64_t size = m.files[0].size;
  const KeyGroupRange quarter(0, 32);

  auto target = open_memory();
  auto restored = restore_checkpoint(storage, 1, *target, {.key_groups = quarter});
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(read_all(*target), within(expected, quarter));
  EXPECT_EQ(storage.whole_bytes, 0u);
  EXPECT_EQ(storage.range_reads, 3u);  // one per column: its header and its first 32 groups are adjacent
  EXPECT_LT(storage.range_bytes, size * 3 / 10);
  EXPECT_EQ(restored->bytes_read, storage.range_bytes);

  auto everything = open_memory();
  ASSERT_OK(restore_checkpoint(storage, 1, *everything, {}));
  EXPECT_EQ(storage.whole_bytes, size);

  // Damage in a block the range reads is found; damage elsewhere is not read.
  const CheckpointFileColumn& counts = m.files[0].columns[1];
  ASSERT_EQ(counts.name, "counts");
  ASSERT_OK(damaged.flip_byte(m.files[0].name, counts.key_groups[100].offset + 20));
  auto unaffected = open_memory();
  ASSERT_OK(restore_checkpoint(storage, 1, *unaffected, {.key_groups = quarter}));
  EXPECT_EQ(read_all(*unaffected), within(expected, quarter));
  ASSERT_OK(damaged.flip_byte(m.files[0].name, counts.key_groups[3].offset + 20));
  auto refused = open_memory();
  EXPECT_STATUS(restore_checkpoint(storage, 1, *refused, {.key_groups = quarter}), StatusCode::kCorruption,
                "snapshot file '" + m.files[0].name + "': column 'counts' key group " +
                    std::to_string(counts.key_groups[3].key_group) + " block at offset " +
                    std::to_string(counts.key_groups[3].offset) + ": checksum mismatch");
  EXPECT_TRUE(read_all(*refused).empty());
}

TEST(CheckpointTest, BadOptionsAreRefusedBeforeTheSnapshotIsTaken) {
  auto backend = open_memory();
  auto storage = open_memory_storage();
  CheckpointOptions options = at(kNow);
  options.block_bytes = 0;
  EXPECT_STATUS(start_checkpoint(*backend, *storage, options), StatusCode::kInvalidArgument, "block_bytes 0");
  options = at(kNow);
  options.compression_threads = 0;
  EXPECT_STATUS(start_checkpoint(*backend, *storage, options), StatusCode::kInvalidArgument, "compression_threads 0");
  options = at(kNow);
  options.write_buffer_bytes = 0;
  EXPECT_STATUS(start_checkpoint(*backend, *storage, options), StatusCode::kInvalidArgument, "write_buffer_bytes");
  options = at(kNow);
  options.key_groups = KeyGroupRange(100, 200);
  EXPECT_STATUS(write_checkpoint(*backend, *storage, options), StatusCode::kInvalidArgument,
                "key_groups [100, 200) is empty or reaches past max_parallelism 128");
  EXPECT_TRUE(storage->list("")->empty());
}

TEST(CheckpointTest, UnknownCheckpointIsNotFound) {
  auto storage = open_memory_storage();
  auto target = open_memory();
  EXPECT_STATUS(restore_checkpoint(*storage, 9, *target, {}), StatusCode::kNotFound, "checkpoint 9 does not exist");
  EXPECT_STATUS(latest_checkpoint(*storage), StatusCode::kNotFound, "no usable checkpoint in memory storage");
  EXPECT_STATUS(restore_latest_checkpoint(*storage, *target, {}), StatusCode::kNotFound, "no usable checkpoint");
}

}  // namespace
}  // namespace streamstate::testing
