// Native incremental checkpoints of the RocksDB backend (streamstate/rocksdb_checkpoint.h):
// what a second checkpoint uploads, restores compared entry by entry, retention of shared
// tables, restores into a narrower key-group range, damaged and missing objects, cleanup of a
// failed checkpoint, on directory, memory and S3 (s3rver) storage.
// Built only with RocksDB (not in the ThreadSanitizer build).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "storage/fault_injecting_storage.h"
#include "streamstate/checkpoint.h"
#include "streamstate/rocksdb.h"
#include "streamstate/rocksdb_checkpoint.h"
#include "streamstate/s3_storage.h"
#include "testutil/s3_server.h"
#include "testutil/temp_dir.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

namespace fs = std::filesystem;
using storage::FaultInjectingStorage;
using storage::StorageOperation;

std::unique_ptr<RocksDbBackend> open_rocksdb(const std::string& path) {
  RocksDbBackendOptions options;
  options.path = path;
  options.block_cache_bytes = uint64_t{8} << 20;
  auto backend = RocksDbBackend::open(options);
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return backend.is_ok() ? std::move(backend).value() : nullptr;
}

// `count` entries of 100 pseudo-random bytes (incompressible, so tables have some size) in
// column "blobs", keys over 128 key groups; `seed` changes the values.
void put_blobs(StateBackend& backend, uint32_t first, uint32_t count, uint64_t seed) {
  auto column = backend.column("blobs");
  ASSERT_OK(column);
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (uint32_t i = first; i < first + count; ++i) {
    std::string value(100, '\0');
    for (char& c : value) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x);
    }
    ASSERT_OK((*column)->put(make_state_key((i * 7) % 128, "blob" + std::to_string(i)), value));
  }
}

// Whole-database comparison that reports briefly (a Contents diff is megabytes).
::testing::AssertionResult same_contents(const Contents& actual, const Contents& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  for (const auto& [column, entries] : expected) {
    auto found = actual.find(column);
    if (found == actual.end()) return ::testing::AssertionFailure() << "column '" << column << "' is missing";
    if (found->second.size() != entries.size()) {
      return ::testing::AssertionFailure() << "column '" << column << "' has " << found->second.size()
                                           << " entries, expected " << entries.size();
    }
    if (found->second != entries) return ::testing::AssertionFailure() << "column '" << column << "' differs";
  }
  return ::testing::AssertionFailure() << "extra columns: " << actual.size() << " instead of " << expected.size();
}

RocksDbCheckpointOptions at(int64_t millis) {
  RocksDbCheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(millis);
  return options;
}

std::set<std::string> names_of(const std::vector<StoredObject>& objects) {
  std::set<std::string> names;
  for (const StoredObject& object : objects) names.insert(object.name);
  return names;
}

std::set<std::string> file_names(const CheckpointManifest& manifest) {
  std::set<std::string> names;
  for (const CheckpointFile& file : manifest.files) names.insert(file.name);
  return names;
}

std::vector<std::string> entries_of(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A RocksDB source and a checkpoint storage (directory or memory, behind a fault injector).
class RocksDbNativeCheckpointTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::shared_ptr<CheckpointStorage> inner;
    if (GetParam() == "directory") {
      auto opened = open_directory_storage({.path = dir_.file("storage")});
      ASSERT_OK(opened);
      inner = std::move(opened).value();
    } else {
      inner = open_memory_storage();
    }
    storage_ = std::make_unique<FaultInjectingStorage>(std::move(inner));
    source_ = open_rocksdb(dir_.file("source"));
    ASSERT_NE(source_, nullptr);
  }

  std::vector<StoredObject> objects() {
    auto listed = storage_->list("");
    EXPECT_TRUE(listed.is_ok()) << listed.status().to_string();
    return listed.is_ok() ? *listed : std::vector<StoredObject>{};
  }

  // Restores `id` into a new directory and reads every entry back.
  Contents restored(CheckpointId id, const std::string& name, std::optional<KeyGroupRange> groups = std::nullopt) {
    RocksDbRestoreOptions options;
    options.directory = dir_.file(name);
    options.key_groups = groups;
    auto info = restore_rocksdb_checkpoint(*storage_, id, options);
    EXPECT_TRUE(info.is_ok()) << info.status().to_string();
    if (!info.is_ok()) return {};
    auto db = open_rocksdb(options.directory);
    return db == nullptr ? Contents{} : read_all(*db);
  }

  // The first checkpoint (3,000 state entries in three states plus 20,000 blobs) and a small
  // change after it: 200 blobs rewritten, 100 counts deleted. Returns the contents at each.
  std::pair<Contents, Contents> two_checkpoints() {
    fill(*source_, 3000);
    put_blobs(*source_, 0, 20000, 1);
    Contents first = read_all(*source_);
    auto one = write_rocksdb_checkpoint(*source_, *storage_, at(kNow));
    EXPECT_TRUE(one.is_ok()) << one.status().to_string();
    put_blobs(*source_, 5000, 200, 2);
    auto counts = source_->column("counts");
    for (uint32_t i = 0; i < 100; ++i) {
      EXPECT_OK((*counts)->remove(make_state_key((i * 37) % 128, std::string("k\0\xff", 3) + std::to_string(i))));
    }
    Contents second = read_all(*source_);
    auto two = write_rocksdb_checkpoint(*source_, *storage_, at(kNow + 1));
    EXPECT_TRUE(two.is_ok()) << two.status().to_string();
    return {first, second};
  }

  TempDir dir_;
  std::unique_ptr<FaultInjectingStorage> storage_;
  std::unique_ptr<RocksDbBackend> source_;
};

TEST_P(RocksDbNativeCheckpointTest, FirstCheckpointDescribesTheDatabase) {
  fill(*source_, 3000);
  Contents expected = read_all(*source_);  // expired entries included: files are restored as they are
  auto info = write_rocksdb_checkpoint(*source_, *storage_, at(kNow));
  ASSERT_OK(info);
  const CheckpointManifest& m = info->manifest;
  EXPECT_EQ(m.id, 1u);
  EXPECT_EQ(m.kind, CheckpointKind::kFull);
  EXPECT_TRUE(m.parents.empty());
  EXPECT_EQ(m.backend_kind, "rocksdb");
  EXPECT_EQ(m.created_millis, kNow);
  EXPECT_EQ(m.max_parallelism, 128u);  // from the "!layout" record
  EXPECT_EQ(m.key_groups, KeyGroupRange::all(128));
  EXPECT_EQ(m.columns, (std::vector<std::string>{"_ss.states", "bytes", "counts", "ttl"}));
  EXPECT_EQ(m.store_records, expected["_ss.states"]);
  ASSERT_EQ(m.states.size(), 3u);
  EXPECT_EQ(m.states[2].name, "ttl");
  EXPECT_TRUE(m.states[2].ttl);
  size_t tables = 0;
  for (const CheckpointFile& file : m.files) {
    EXPECT_EQ(file.content, CheckpointFileContent::kRocksDbFile);
    EXPECT_FALSE(file.shared);
    EXPECT_TRUE(file.name.starts_with("chk-0000000001/rocksdb/")) << file.name;
    if (file.local_name.ends_with(".sst")) {
      ++tables;
      EXPECT_NE(file.name, "chk-0000000001/rocksdb/" + file.local_name) << "tables are stored by their unique id";
    } else {
      EXPECT_EQ(file.name, "chk-0000000001/rocksdb/" + file.local_name);
    }
  }
  EXPECT_EQ(tables, 4u);  // one flushed table per column family with entries
  std::set<std::string> locals;
  for (const CheckpointFile& file : m.files) locals.insert(file.local_name.substr(0, 7));
  EXPECT_TRUE(locals.contains("CURRENT"));
  EXPECT_TRUE(locals.contains("MANIFES"));
  EXPECT_OK(verify_checkpoint(*storage_, 1));
  // The local checkpoint is gone once committed.
  EXPECT_TRUE(entries_of(dir_.file("source.checkpoints")).empty());
  // What the storage holds is what the manifest lists, plus the manifest.
  std::set<std::string> stored = names_of(objects());
  std::set<std::string> listed = file_names(m);
  listed.insert(checkpoint_manifest_name(1));
  EXPECT_EQ(stored, listed);
  EXPECT_TRUE(same_contents(restored(1, "restored"), expected));
}

TEST_P(RocksDbNativeCheckpointTest, SecondCheckpointUploadsOnlyTheNewTables) {
  fill(*source_, 3000);
  put_blobs(*source_, 0, 20000, 1);
  auto one = write_rocksdb_checkpoint(*source_, *storage_, at(kNow));
  ASSERT_OK(one);
  std::set<std::string> before = names_of(objects());
  uint64_t first_table_bytes = 0;
  size_t first_tables = 0;
  for (const CheckpointFile& file : one->manifest.files) {
    if (file.local_name.ends_with(".sst")) {
      first_table_bytes += file.size;
      ++first_tables;
    }
  }
  EXPECT_EQ(first_tables, 5u);  // one flushed table per column family with entries
  put_blobs(*source_, 5000, 200, 2);  // 1% of the blobs
  const uint64_t commits_before = storage_->calls(StorageOperation::kCommit);
  auto two = write_rocksdb_checkpoint(*source_, *storage_, at(kNow + 1));
  ASSERT_OK(two);
  const CheckpointManifest& m = two->manifest;
  EXPECT_EQ(m.kind, CheckpointKind::kIncremental);
  EXPECT_EQ(m.parents, std::vector<CheckpointId>{1});

  std::set<std::string> first_files = file_names(one->manifest);
  std::set<std::string> own;
  uint64_t new_tables = 0;
  for (const CheckpointFile& file : m.files) {
    if (file.shared) {
      EXPECT_TRUE(first_files.contains(file.name)) << file.name;
      EXPECT_TRUE(file.local_name.ends_with(".sst")) << "only tables are shared: " << file.name;
    } else {
      EXPECT_TRUE(file.name.starts_with("chk-0000000002/rocksdb/")) << file.name;
      own.insert(file.name);
      if (file.local_name.ends_with(".sst")) ++new_tables;
    }
  }
  EXPECT_EQ(new_tables, 1u);  // the flush of the blob column's memtable
  EXPECT_EQ(m.files.size() - own.size(), first_tables);  // every table of the first checkpoint is shared

  // Exactly the checkpoint's own files and its manifest were uploaded.
  std::set<std::string> after = names_of(objects());
  std::set<std::string> added;
  uint64_t added_bytes = 0;
  for (const StoredObject& object : objects()) {
    if (!before.contains(object.name)) {
      added.insert(object.name);
      added_bytes += object.size;
    }
  }
  own.insert(checkpoint_manifest_name(2));
  EXPECT_EQ(added, own);
  EXPECT_EQ(storage_->calls(StorageOperation::kCommit) - commits_before, own.size());
  EXPECT_EQ(two->bytes_written, added_bytes);
  EXPECT_LT(added_bytes * 10, first_table_bytes) << "a 1% change uploads far less than the first checkpoint";
  EXPECT_OK(verify_checkpoint(*storage_, 2));

  // A third checkpoint references the tables of both folders through the second's manifest.
  put_blobs(*source_, 9000, 200, 3);
  auto three = write_rocksdb_checkpoint(*source_, *storage_, at(kNow + 2));
  ASSERT_OK(three);
  EXPECT_EQ(three->manifest.parents, (std::vector<CheckpointId>{1, 2}));
  size_t shared = 0;
  for (const CheckpointFile& file : three->manifest.files) shared += file.shared ? 1 : 0;
  EXPECT_EQ(shared, first_tables + 1);
}

TEST_P(RocksDbNativeCheckpointTest, RestoresEveryEntryOfEachCheckpoint) {
  auto [first, second] = two_checkpoints();
  ASSERT_NE(first, second);
  EXPECT_TRUE(same_contents(restored(1, "one"), first));
  EXPECT_TRUE(same_contents(restored(2, "two"), second));
  // The expiring column comes back as one (its family keeps the expiry compaction filter).
  auto db = open_rocksdb(dir_.file("two"));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->column_with_options("ttl", {.values_carry_expiry = false}).status().code(),
            StatusCode::kInvalidArgument);
  // And restore_latest takes the second.
  RocksDbRestoreOptions options;
  options.directory = dir_.file("latest");
  auto info = restore_latest_rocksdb_checkpoint(*storage_, options);
  ASSERT_OK(info);
  EXPECT_EQ(info->ids, std::vector<CheckpointId>{2});
  EXPECT_TRUE(info->skipped.empty());
  auto latest = open_rocksdb(options.directory);
  EXPECT_TRUE(same_contents(read_all(*latest), second));
}

TEST_P(RocksDbNativeCheckpointTest, RetentionKeepsTheSharedTablesOfRemovedCheckpoints) {
  auto [first, second] = two_checkpoints();
  auto one = read_checkpoint(*storage_, 1);
  auto two = read_checkpoint(*storage_, 2);
  ASSERT_OK(one);
  ASSERT_OK(two);
  auto report = collect_garbage(*storage_, {.retain_last = 1});
  ASSERT_OK(report);
  EXPECT_EQ(report->removed, std::vector<CheckpointId>{1});
  std::set<std::string> expected_deleted{checkpoint_manifest_name(1)};
  std::set<std::string> needed = file_names(*two);
  for (const std::string& name : file_names(*one)) {
    if (!needed.contains(name)) expected_deleted.insert(name);
  }
  EXPECT_EQ(std::set<std::string>(report->deleted_objects.begin(), report->deleted_objects.end()), expected_deleted);
  EXPECT_GT(expected_deleted.size(), 3u);  // MANIFEST, OPTIONS, CURRENT of the first
  // The first checkpoint's tables that the second shares stay, in the first one's folder.
  const size_t kept_in_first_folder = static_cast<size_t>(
      std::count_if(needed.begin(), needed.end(),
                    [](const std::string& name) { return name.starts_with("chk-0000000001/"); }));
  EXPECT_EQ(kept_in_first_folder, 5u);
  needed.insert(checkpoint_manifest_name(2));
  EXPECT_EQ(names_of(objects()), needed);
  EXPECT_OK(verify_checkpoint(*storage_, 2));
  EXPECT_TRUE(same_contents(restored(2, "two"), second));

  // After a full compaction no table is shared any more: the next checkpoint is full, and
  // retention then deletes the first checkpoint's tables too.
  ASSERT_OK(source_->compact());
  Contents third = read_all(*source_);  // compaction dropped the expired entries
  auto three = write_rocksdb_checkpoint(*source_, *storage_, at(kNow + 2));
  ASSERT_OK(three);
  EXPECT_EQ(three->manifest.kind, CheckpointKind::kFull);
  ASSERT_OK(collect_garbage(*storage_, {.retain_last = 1}));
  std::set<std::string> only_three = file_names(three->manifest);
  only_three.insert(checkpoint_manifest_name(3));
  EXPECT_EQ(names_of(objects()), only_three);
  EXPECT_TRUE(same_contents(restored(3, "three"), third));
}

TEST_P(RocksDbNativeCheckpointTest, RestoresANarrowerKeyGroupRange) {
  auto [first, second] = two_checkpoints();
  const KeyGroupRange keep(32, 64);
  Contents expected = within(second, keep);
  EXPECT_LT(expected["blobs"].size(), second["blobs"].size());
  EXPECT_GT(expected["blobs"].size(), 0u);
  EXPECT_TRUE(same_contents(restored(2, "narrow", keep), expected));
  EXPECT_TRUE(same_contents(restored(2, "first-group", KeyGroupRange(0, 1)), within(second, KeyGroupRange(0, 1))));
  EXPECT_TRUE(
      same_contents(restored(2, "last-group", KeyGroupRange(127, 128)), within(second, KeyGroupRange(127, 128))));

  RocksDbRestoreOptions outside;
  outside.directory = dir_.file("outside");
  outside.key_groups = KeyGroupRange(100, 200);
  EXPECT_STATUS(restore_rocksdb_checkpoint(*storage_, 2, outside), StatusCode::kInvalidArgument, "key_groups [100");
  EXPECT_FALSE(fs::exists(outside.directory));
}

// What a restore with `states`, `renames` and `drops` must produce from checkpoint contents:
// columns and "_ss.states" records follow their state.
Contents selected(Contents all, const std::map<std::string, std::string>& renames, const std::set<std::string>& drops) {
  const std::string states_column(internal::kStatesColumn);
  Contents out;
  for (auto& [column, entries] : all) {
    if (column == states_column || drops.contains(column)) continue;
    const auto renamed = renames.find(column);
    out[renamed == renames.end() ? column : renamed->second] = std::move(entries);
  }
  for (auto& [key, value] : all[states_column]) {
    if (drops.contains(key)) continue;
    const auto renamed = renames.find(key);
    out[states_column][renamed == renames.end() ? key : renamed->second] = value;
  }
  return out;
}

TEST_P(RocksDbNativeCheckpointTest, RestoresStatesRenamedDroppedAndSelected) {
  auto [first, second] = two_checkpoints();
  auto restore_with = [&](const std::string& name, std::vector<std::string> states,
                          std::map<std::string, std::string> renames, std::set<std::string> drops) -> Contents {
    RocksDbRestoreOptions options;
    options.directory = dir_.file(name);
    options.states = std::move(states);
    options.renames = std::move(renames);
    options.drops = std::move(drops);
    auto info = restore_rocksdb_checkpoint(*storage_, 2, options);
    EXPECT_TRUE(info.is_ok()) << info.status().to_string();
    if (!info.is_ok()) return {};
    auto db = open_rocksdb(options.directory);
    auto columns = db->list_columns();
    EXPECT_OK(columns);
    std::sort(columns->begin(), columns->end());
    EXPECT_EQ(info->columns, *columns);
    return read_all(*db);
  };

  // Two renames (one of an expiring column) and a drop.
  const std::map<std::string, std::string> renames{{"counts", "tallies"}, {"ttl", "sessions"}};
  EXPECT_TRUE(same_contents(restore_with("renamed", {}, renames, {"bytes"}), selected(second, renames, {"bytes"})));
  auto renamed = open_rocksdb(dir_.file("renamed"));
  EXPECT_EQ(renamed->column_with_options("sessions", {.values_carry_expiry = false}).status().code(),
            StatusCode::kInvalidArgument)
      << "the renamed expiring column must stay an expiring column";
  renamed.reset();

  // Two states swap names.
  const std::map<std::string, std::string> swap{{"counts", "bytes"}, {"bytes", "counts"}};
  EXPECT_TRUE(same_contents(restore_with("swapped", {}, swap, {}), selected(second, swap, {})));

  // Only some states: the others' columns and records are left out.
  EXPECT_TRUE(same_contents(restore_with("only-blobs", {"blobs", "counts"}, {}, {}),
                            selected(second, {}, {"bytes", "ttl"})));

  // Mistakes are refused before anything is downloaded.
  auto refused = [&](std::vector<std::string> states, std::map<std::string, std::string> renames_asked,
                     std::set<std::string> drops, const std::string& message) {
    RocksDbRestoreOptions options;
    options.directory = dir_.file("refused");
    options.states = std::move(states);
    options.renames = std::move(renames_asked);
    options.drops = std::move(drops);
    EXPECT_STATUS(restore_rocksdb_checkpoint(*storage_, 2, options), StatusCode::kInvalidArgument, message);
    EXPECT_FALSE(fs::exists(options.directory));
  };
  refused({}, {}, {"nope"}, "drops names 'nope', which is not a state of the checkpoint");
  refused({"nope"}, {}, {}, "states names 'nope'");
  refused({}, {{"counts", "bytes"}}, {}, "would restore the checkpoint states 'bytes' and 'counts' both as 'bytes'");
  refused({}, {{"counts", "_ss.mine"}}, {}, "not a valid state name");
  refused({}, {{"counts", "tallies"}}, {"counts"}, "rename it or drop it, not both");
  refused({"blobs"}, {{"counts", "tallies"}}, {}, "which RocksDbRestoreOptions::states leaves out");
}

TEST_P(RocksDbNativeCheckpointTest, DamagedOrMissingObjectsFailWithoutCreatingTheTarget) {
  auto [first, second] = two_checkpoints();
  auto two = read_checkpoint(*storage_, 2);
  ASSERT_OK(two);
  const CheckpointFile* shared_table = nullptr;
  const CheckpointFile* own_file = nullptr;
  for (const CheckpointFile& file : two->files) {
    if (file.shared && shared_table == nullptr) shared_table = &file;
    if (!file.shared && file.local_name.starts_with("MANIFEST")) own_file = &file;
  }
  ASSERT_NE(shared_table, nullptr);
  ASSERT_NE(own_file, nullptr);
  const std::vector<std::string> parent_before = entries_of(dir_.path());

  // A damaged file of the second checkpoint: restore fails naming it; the latest restorable
  // checkpoint is then the first.
  ASSERT_OK(storage_->flip_byte(own_file->name, own_file->size / 2));
  RocksDbRestoreOptions options;
  options.directory = dir_.file("target");
  EXPECT_STATUS(restore_rocksdb_checkpoint(*storage_, 2, options), StatusCode::kCorruption, own_file->name);
  EXPECT_FALSE(fs::exists(options.directory));
  EXPECT_EQ(entries_of(dir_.path()), parent_before) << "no staging directory is left behind";
  EXPECT_STATUS(verify_checkpoint(*storage_, 2), StatusCode::kCorruption, own_file->name);
  auto latest = restore_latest_rocksdb_checkpoint(*storage_, options);
  ASSERT_OK(latest);
  EXPECT_EQ(latest->ids, std::vector<CheckpointId>{1});
  ASSERT_EQ(latest->skipped.size(), 1u);
  EXPECT_EQ(latest->skipped[0].id, 2u);
  EXPECT_TRUE(same_contents(read_all(*open_rocksdb(options.directory)), first));

  // A shared table missing: both checkpoints need it.
  ASSERT_OK(storage_->remove(shared_table->name));
  RocksDbRestoreOptions again;
  again.directory = dir_.file("again");
  EXPECT_STATUS(restore_rocksdb_checkpoint(*storage_, 1, again), StatusCode::kNotFound, shared_table->name);
  EXPECT_FALSE(fs::exists(again.directory));
  EXPECT_STATUS(verify_checkpoint(*storage_, 1), StatusCode::kNotFound, shared_table->name);
}

TEST_P(RocksDbNativeCheckpointTest, RefusesATargetThatIsNotEmptyAndAcceptsAnEmptyOne) {
  fill(*source_, 500);
  Contents expected = read_all(*source_);
  ASSERT_OK(write_rocksdb_checkpoint(*source_, *storage_, at(kNow)));
  fs::create_directories(dir_.path() / "busy");
  { std::ofstream(dir_.path() / "busy" / "keep.txt") << "mine"; }
  RocksDbRestoreOptions options;
  options.directory = dir_.file("busy");
  EXPECT_STATUS(restore_rocksdb_checkpoint(*storage_, 1, options), StatusCode::kFailedPrecondition, "busy");
  EXPECT_EQ(entries_of(dir_.path() / "busy"), std::vector<std::string>{"keep.txt"});

  fs::create_directories(dir_.path() / "empty");
  options.directory = dir_.file("empty") + "/";
  ASSERT_OK(restore_rocksdb_checkpoint(*storage_, 1, options));
  EXPECT_TRUE(same_contents(read_all(*open_rocksdb(dir_.file("empty"))), expected));

  options.directory = dir_.file("no-parent/db");
  EXPECT_STATUS(restore_rocksdb_checkpoint(*storage_, 1, options), StatusCode::kFailedPrecondition, "no-parent");
}

TEST_P(RocksDbNativeCheckpointTest, GenericRestoreRefusesNativeCheckpoints) {
  fill(*source_, 100);
  ASSERT_OK(write_rocksdb_checkpoint(*source_, *storage_, at(kNow)));
  auto memory = open_memory();
  EXPECT_STATUS(restore_checkpoint(*storage_, 1, *memory, {}), StatusCode::kFailedPrecondition,
                "restore_rocksdb_checkpoint");
  EXPECT_TRUE(read_all(*memory).empty());
  // And the native restore refuses a checkpoint written through the StateBackend interface.
  ASSERT_OK(write_checkpoint(*source_, *storage_, {}));
  RocksDbRestoreOptions options;
  options.directory = dir_.file("target");
  EXPECT_STATUS(restore_rocksdb_checkpoint(*storage_, 2, options), StatusCode::kFailedPrecondition,
                "not a native RocksDB checkpoint");
  EXPECT_FALSE(fs::exists(options.directory));
  // restore_latest passes over it to the native one.
  auto latest = restore_latest_rocksdb_checkpoint(*storage_, options);
  ASSERT_OK(latest);
  EXPECT_EQ(latest->ids, std::vector<CheckpointId>{1});
}

TEST_P(RocksDbNativeCheckpointTest, AFailedCheckpointRemovesWhatItUploadedButNotSharedFiles) {
  fill(*source_, 3000);
  put_blobs(*source_, 0, 5000, 1);
  auto one = write_rocksdb_checkpoint(*source_, *storage_, at(kNow));
  ASSERT_OK(one);
  const std::set<std::string> after_first = names_of(objects());
  put_blobs(*source_, 0, 50, 3);
  for (uint64_t n = 1; n <= 5; ++n) {  // every upload of the second checkpoint, then its manifest
    SCOPED_TRACE("commit " + std::to_string(n) + " fails");
    storage_->fail_nth(StorageOperation::kCommit, n);
    RocksDbCheckpointOptions options = at(kNow + 1);
    options.upload_threads = 1;
    auto failed = write_rocksdb_checkpoint(*source_, *storage_, options);
    EXPECT_EQ(failed.status().code(), StatusCode::kIoError) << failed.status().to_string();
    storage_->disarm();
    EXPECT_EQ(names_of(objects()), after_first);
    EXPECT_TRUE(entries_of(dir_.file("source.checkpoints")).empty());
  }
  auto two = write_rocksdb_checkpoint(*source_, *storage_, at(kNow + 1));
  ASSERT_OK(two);
  EXPECT_EQ(two->manifest.id, 2u);
  EXPECT_EQ(two->manifest.kind, CheckpointKind::kIncremental);
  EXPECT_OK(verify_checkpoint(*storage_, 1));
  EXPECT_OK(verify_checkpoint(*storage_, 2));
}

// The storage dying at each commit of the second checkpoint: the first stays restorable, what
// was committed before the crash is found as orphans and collected, and shared tables survive.
TEST_P(RocksDbNativeCheckpointTest, ACrashAtEachCommitLeavesThePreviousCheckpointRestorable) {
  fill(*source_, 2000);
  put_blobs(*source_, 0, 3000, 1);
  Contents first = read_all(*source_);
  ASSERT_OK(write_rocksdb_checkpoint(*source_, *storage_, at(kNow)));
  const std::set<std::string> after_first = names_of(objects());
  put_blobs(*source_, 0, 50, 3);
  for (uint64_t n = 1; n <= 5; ++n) {
    SCOPED_TRACE("crash at commit " + std::to_string(n));
    storage_->crash_at(StorageOperation::kCommit, n);
    RocksDbCheckpointOptions options = at(kNow + 1);
    options.upload_threads = 1;
    EXPECT_FALSE(write_rocksdb_checkpoint(*source_, *storage_, options).is_ok());
    storage_->restart();
    auto orphans = find_orphans(*storage_);
    ASSERT_OK(orphans);
    EXPECT_EQ(orphans->size(), n - 1) << "the objects committed before the crash, which cleanup could not remove";
    auto latest = latest_checkpoint(*storage_);
    ASSERT_OK(latest);
    EXPECT_EQ(latest->id, 1u);
    ASSERT_OK(collect_garbage(*storage_, {.retain_last = 1, .remove_orphans = true}));
    EXPECT_EQ(names_of(objects()), after_first);
  }
  RocksDbRestoreOptions restore;
  restore.directory = dir_.file("restored");
  ASSERT_OK(restore_latest_rocksdb_checkpoint(*storage_, restore));
  EXPECT_TRUE(same_contents(read_all(*open_rocksdb(restore.directory)), first));
}

TEST_P(RocksDbNativeCheckpointTest, LocalDirectoryOptionAndStaleLeftovers) {
  fill(*source_, 100);
  const fs::path local = dir_.path() / "local";
  fs::create_directories(local / "pending-1-0");  // a dead process's leftover (no process has pid 1 here)
  fs::create_directories(local / "other");        // not ours: left alone
  RocksDbCheckpointOptions options = at(kNow);
  options.local_directory = local.string();
  ASSERT_OK(write_rocksdb_checkpoint(*source_, *storage_, options));
  EXPECT_EQ(entries_of(local), std::vector<std::string>{"other"});
  EXPECT_FALSE(fs::exists(dir_.file("source.checkpoints")));
}

// Flips one byte of a local file in place.
void flip_local_byte(const fs::path& path, uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(file.is_open()) << path;
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.get(byte);
  file.seekp(static_cast<std::streamoff>(offset));
  file.put(static_cast<char>(byte ^ 0x01));
}

TEST_P(RocksDbNativeCheckpointTest, LocalRecoveryRestoresFromTheKeptCopy) {
  fill(*source_, 3000);
  put_blobs(*source_, 0, 5000, 1);
  const fs::path local = dir_.path() / "local";
  RocksDbCheckpointOptions options = at(kNow);
  options.local_directory = local.string();
  options.keep_local_copy = true;
  ASSERT_OK(write_rocksdb_checkpoint(*source_, *storage_, options));
  EXPECT_EQ(entries_of(local), std::vector<std::string>{"chk-0000000001"});
  put_blobs(*source_, 0, 50, 2);
  Contents expected = read_all(*source_);
  options.clock = std::make_shared<ManualClock>(kNow + 1);
  auto two = write_rocksdb_checkpoint(*source_, *storage_, options);
  ASSERT_OK(two);
  EXPECT_EQ(entries_of(local), std::vector<std::string>{"chk-0000000002"}) << "only the newest copy is kept";
  uint64_t total = 0;
  const CheckpointFile* manifest_file = nullptr;
  for (const CheckpointFile& file : two->manifest.files) {
    total += file.size;
    if (file.local_name.starts_with("MANIFEST")) manifest_file = &file;
  }
  ASSERT_NE(manifest_file, nullptr);

  // A damaged file of the kept copy is downloaded instead; the rest comes from the copy.
  const fs::path kept_manifest = local / "chk-0000000002" / manifest_file->local_name;
  ASSERT_EQ(fs::hard_link_count(kept_manifest), 1u) << "a copy, not a link into the live database";
  flip_local_byte(kept_manifest, manifest_file->size / 2);
  RocksDbRestoreOptions restore;
  restore.directory = dir_.file("partly-local");
  restore.local_directory = local.string();
  auto partly = restore_rocksdb_checkpoint(*storage_, 2, restore);
  ASSERT_OK(partly);
  EXPECT_EQ(partly->bytes_read, manifest_file->size);
  EXPECT_TRUE(same_contents(read_all(*open_rocksdb(restore.directory)), expected));
  flip_local_byte(kept_manifest, manifest_file->size / 2);

  // With the kept copy intact, nothing but the manifest is read from the storage: its data
  // objects can even be gone.
  for (const CheckpointFile& file : two->manifest.files) ASSERT_OK(storage_->remove(file.name));
  restore.directory = dir_.file("from-local");
  auto whole = restore_rocksdb_checkpoint(*storage_, 2, restore);
  ASSERT_OK(whole);
  EXPECT_EQ(whole->bytes_read, 0u);
  EXPECT_GT(total, 0u);
  EXPECT_TRUE(same_contents(read_all(*open_rocksdb(restore.directory)), expected));
  // Without the local copy the same restore fails on the first missing object.
  restore.directory = dir_.file("remote");
  restore.local_directory.clear();
  EXPECT_EQ(restore_rocksdb_checkpoint(*storage_, 2, restore).status().code(), StatusCode::kNotFound);
}

// Rescaling 2 -> 1: the checkpoints of two instances (key groups 0-63 and 64-127, each
// database holding other groups' leftovers too) combine into one database.
TEST_P(RocksDbNativeCheckpointTest, CombinesTheCheckpointsOfTwoRangesIntoOneDatabase) {
  auto other = open_rocksdb(dir_.file("other"));
  ASSERT_NE(other, nullptr);
  fill(*source_, 3000, "a");
  put_blobs(*source_, 0, 3000, 1);
  fill(*other, 3000, "b");
  put_blobs(*other, 0, 3000, 2);
  const KeyGroupRange low(0, 64);
  const KeyGroupRange high(64, 128);
  Contents a = within(read_all(*source_), low);
  Contents b = within(read_all(*other), high);
  RocksDbCheckpointOptions options = at(kNow);
  options.key_groups = low;
  ASSERT_OK(write_rocksdb_checkpoint(*source_, *storage_, options));
  auto other_storage = open_memory_storage();
  options.key_groups = high;
  ASSERT_OK(write_rocksdb_checkpoint(*other, *other_storage, options));

  Contents expected = a;
  for (const auto& [column, entries] : b) expected[column].insert(entries.begin(), entries.end());
  const std::vector<RestoreSource> sources{{storage_.get(), 1}, {other_storage.get(), 1}};
  RocksDbRestoreOptions restore;
  restore.directory = dir_.file("combined");
  auto info = restore_rocksdb_checkpoints(sources, restore);
  ASSERT_OK(info);
  EXPECT_EQ(info->ids, (std::vector<CheckpointId>{1, 1}));
  uint64_t copied = 0;
  for (const auto& [column, entries] : b) copied += column == "_ss.states" ? 0 : entries.size();
  EXPECT_EQ(info->entries, copied);
  auto combined = open_rocksdb(restore.directory);
  EXPECT_TRUE(same_contents(read_all(*combined), expected));
  // The expiring column copied into stays expiring.
  EXPECT_EQ(combined->column_with_options("ttl", {.values_carry_expiry = false}).status().code(),
            StatusCode::kInvalidArgument);
  combined.reset();

  // A range across both: each contributes its part.
  restore.directory = dir_.file("middle");
  restore.key_groups = KeyGroupRange(32, 96);
  ASSERT_OK(restore_rocksdb_checkpoints(sources, restore));
  EXPECT_TRUE(same_contents(read_all(*open_rocksdb(restore.directory)), within(expected, KeyGroupRange(32, 96))));

  // Gaps and overlaps are refused before anything is written.
  restore.directory = dir_.file("refused");
  restore.key_groups.reset();
  EXPECT_STATUS(restore_rocksdb_checkpoints({{storage_.get(), 1}}, [&] {
                  RocksDbRestoreOptions wide = restore;
                  wide.key_groups = KeyGroupRange(0, 100);
                  return wide;
                }()),
                StatusCode::kInvalidArgument, "key group 64");
  EXPECT_STATUS(restore_rocksdb_checkpoints({{storage_.get(), 1}, {storage_.get(), 1}}, restore),
                StatusCode::kInvalidArgument, "both hold key groups");
  EXPECT_FALSE(fs::exists(restore.directory));

  // A damaged file of the second checkpoint fails the whole restore and leaves nothing.
  auto manifest = read_checkpoint(*other_storage, 1);
  ASSERT_OK(manifest);
  const CheckpointFile& damaged = manifest->files.front();
  auto bytes = other_storage->read(damaged.name);
  ASSERT_OK(bytes);
  std::string changed = *bytes;
  changed[changed.size() / 2] ^= 0x01;
  auto writer = other_storage->create(damaged.name);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append(changed));
  ASSERT_OK((*writer)->commit());
  const std::vector<std::string> before = entries_of(dir_.path());
  EXPECT_STATUS(restore_rocksdb_checkpoints(sources, restore), StatusCode::kCorruption, damaged.name);
  EXPECT_EQ(entries_of(dir_.path()), before) << "no target and no staging directory is left";
}

INSTANTIATE_TEST_SUITE_P(Storages, RocksDbNativeCheckpointTest, ::testing::Values("directory", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

TEST(RocksDbNativeCheckpointS3Test, IncrementalCheckpointAndRestoreOnS3) {
  S3Server* server = shared_s3_server_or_skip();
  if (server == nullptr) return;
  auto bucket = server->create_fresh_bucket();
  ASSERT_OK(bucket);
  auto storage = open_s3_storage(server->options(*bucket));
  ASSERT_OK(storage);
  TempDir dir;
  auto source = open_rocksdb(dir.file("source"));
  fill(*source, 2000);
  put_blobs(*source, 0, 5000, 1);
  auto one = write_rocksdb_checkpoint(*source, **storage, at(kNow));
  ASSERT_OK(one);
  put_blobs(*source, 0, 50, 2);
  Contents expected = read_all(*source);
  auto two = write_rocksdb_checkpoint(*source, **storage, at(kNow + 1));
  ASSERT_OK(two);
  EXPECT_EQ(two->manifest.kind, CheckpointKind::kIncremental);
  EXPECT_OK(verify_checkpoint(**storage, 2));
  RocksDbRestoreOptions options;
  options.directory = dir.file("restored");
  options.download_threads = 4;
  ASSERT_OK(restore_latest_rocksdb_checkpoint(**storage, options));
  EXPECT_TRUE(same_contents(read_all(*open_rocksdb(options.directory)), expected));
}

}  // namespace
}  // namespace streamstate::testing
