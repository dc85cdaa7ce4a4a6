// Local recovery (streamstate/local_recovery.h): a restart on the same machine restores from
// the local copy and downloads no data file (over a directory and over s3rver), the local copy
// keeps only the newest checkpoints (shared files of a chain included), a damaged local copy
// costs a download and never a wrong restore, and a local write failure does not fail the
// remote write.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "checkpoint/checkpoint_names.h"
#include "checkpoint/manifest.h"
#include "storage/memory_storage.h"
#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_coordinator.h"
#include "streamstate/checksum.h"
#include "streamstate/local_recovery.h"
#include "testutil/s3_server.h"
#include "testutil/temp_dir.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

namespace fs = std::filesystem;

// Counts what is read from the storage it wraps: bytes of data files and of manifests.
class CountingStorage final : public CheckpointStorage {
 public:
  explicit CountingStorage(std::shared_ptr<CheckpointStorage> inner) : inner_(std::move(inner)) {}

  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override { return inner_->create(name); }
  Result<std::string> read(std::string_view name) override { return count(name, inner_->read(name)); }
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override {
    return count(name, inner_->read_range(name, offset, length));
  }
  Result<std::vector<StoredObject>> list(std::string_view prefix) override { return inner_->list(prefix); }
  Result<bool> exists(std::string_view name) override { return inner_->exists(name); }
  Status remove(std::string_view name) override { return inner_->remove(name); }
  Status remove_incomplete() override { return inner_->remove_incomplete(); }
  std::string describe() const override { return inner_->describe(); }

  std::atomic<uint64_t> data_bytes{0};
  std::atomic<uint64_t> data_reads{0};
  std::atomic<uint64_t> manifest_reads{0};

 private:
  Result<std::string> count(std::string_view name, Result<std::string> bytes) {
    if (bytes.is_ok()) {
      if (internal::is_manifest_name(name)) {
        ++manifest_reads;
      } else {
        ++data_reads;
        data_bytes += bytes->size();
      }
    }
    return bytes;
  }

  std::shared_ptr<CheckpointStorage> inner_;
};

std::shared_ptr<CheckpointStorage> directory_storage(const std::string& path) {
  auto storage = open_directory_storage({.path = path});
  EXPECT_TRUE(storage.is_ok()) << storage.status().to_string();
  return std::move(storage).value();
}

std::unique_ptr<LocalRecoveryStorage> local_recovery(std::shared_ptr<CheckpointStorage> remote, const std::string& path,
                                                     size_t keep = 1) {
  auto storage = open_local_recovery_storage(std::move(remote), {.path = path, .keep_checkpoints = keep});
  EXPECT_TRUE(storage.is_ok()) << storage.status().to_string();
  return storage.is_ok() ? std::move(storage).value() : nullptr;
}

CheckpointOptions at_now() {
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(kNow);
  return options;
}

// Fills a backend, checkpoints it `count` times through `storage` (changing it in between) and
// returns what a restore of the last checkpoint must produce.
Contents write_checkpoints(CheckpointStorage& storage, int count) {
  auto backend = open_memory();
  Contents expected;
  for (int i = 0; i < count; ++i) {
    expected = fill(*backend, 3000, "round" + std::to_string(i));
    auto info = write_checkpoint(*backend, storage, at_now());
    EXPECT_TRUE(info.is_ok()) << info.status().to_string();
  }
  return expected;
}

RestoreOptions restore_at_now() { return RestoreOptions{}; }

Contents restore_latest(CheckpointStorage& storage, RestoreInfo* info_out = nullptr) {
  auto target = open_memory();
  auto info = restore_latest_checkpoint(storage, *target, restore_at_now());
  EXPECT_TRUE(info.is_ok()) << info.status().to_string();
  if (info.is_ok() && info_out != nullptr) *info_out = *info;
  return read_all(*target);
}

std::set<std::string> local_names(const std::string& root) {
  std::set<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) names.insert(fs::relative(entry.path(), root).generic_string());
  }
  return names;
}

// A restart on the same machine: the first storage writes, a new one on the same local path
// restores. Returns the remote's counters of the restore.
void expect_restart_downloads_nothing(std::shared_ptr<CheckpointStorage> remote_inner) {
  TempDir local;
  auto counting = std::make_shared<CountingStorage>(remote_inner);
  Contents expected;
  {
    auto storage = local_recovery(counting, local.file("copy"));
    ASSERT_NE(storage, nullptr);
    expected = write_checkpoints(*storage, 3);
    EXPECT_EQ(storage->statistics().local_write_failures, 0u);
  }
  counting->data_bytes = 0;
  counting->data_reads = 0;
  auto restarted = local_recovery(counting, local.file("copy"));
  ASSERT_NE(restarted, nullptr);
  RestoreInfo info;
  EXPECT_EQ(restore_latest(*restarted, &info), expected);
  EXPECT_EQ(info.ids, std::vector<CheckpointId>{3});
  // No data file came from the remote: only the listing and the manifests did.
  EXPECT_EQ(counting->data_reads.load(), 0u);
  EXPECT_EQ(counting->data_bytes.load(), 0u);
  EXPECT_GT(counting->manifest_reads.load(), 0u);
  LocalRecoveryStatistics stats = restarted->statistics();
  EXPECT_EQ(stats.remote_reads, 0u);
  EXPECT_EQ(stats.remote_bytes_read, 0u);
  EXPECT_GT(stats.local_reads, 0u);
  EXPECT_EQ(stats.local_bytes_read, info.bytes_read);
  EXPECT_EQ(stats.local_copies_rejected, 0u);

  // Another machine (an empty local copy) downloads the same bytes: the counter counts.
  TempDir elsewhere;
  auto other = local_recovery(counting, elsewhere.file("copy"));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(restore_latest(*other), expected);
  EXPECT_EQ(counting->data_bytes.load(), info.bytes_read);
  EXPECT_EQ(other->statistics().remote_bytes_read, info.bytes_read);
  EXPECT_EQ(other->statistics().local_reads, 0u);
}

TEST(LocalRecoveryTest, RestartOnTheSameMachineDownloadsNoDataFromADirectory) {
  TempDir remote;
  expect_restart_downloads_nothing(directory_storage(remote.file("remote")));
}

TEST(LocalRecoveryTest, RestartOnTheSameMachineDownloadsNoDataFromS3) {
#if defined(__SANITIZE_THREAD__)
  // The shared s3rver is forked from a long-lived thread; once it runs, the kill -9 tests of
  // this binary fork a multi-threaded process whose child starts threads, which
  // ThreadSanitizer refuses. The directory case above runs the same code under TSan.
  GTEST_SKIP() << "not under ThreadSanitizer (the s3rver spawner thread breaks the fork tests)";
#endif
  S3Server* server = shared_s3_server_or_skip();
  if (server == nullptr) GTEST_SKIP() << "s3rver is not installed";
  auto bucket = server->create_fresh_bucket();
  ASSERT_OK(bucket);
  auto s3 = open_s3_storage(server->options(*bucket));
  ASSERT_OK(s3);
  expect_restart_downloads_nothing(std::move(s3).value());
}

TEST(LocalRecoveryTest, KeepsOnlyTheNewestCheckpointsLocallyAndEverythingRemotely) {
  TempDir dirs;
  auto remote = directory_storage(dirs.file("remote"));
  {
    auto storage = local_recovery(remote, dirs.file("copy"), /*keep=*/2);
    ASSERT_NE(storage, nullptr);
    write_checkpoints(*storage, 4);
    EXPECT_GT(storage->statistics().objects_pruned, 0u);
  }
  auto folders = [](const std::set<std::string>& names) {
    std::set<std::string> out;
    for (const std::string& name : names) out.insert(name.substr(0, name.find('/')));
    return out;
  };
  const std::set<std::string> newest_two{checkpoint_folder(3), checkpoint_folder(4)};
  EXPECT_EQ(folders(local_names(dirs.file("copy"))), newest_two);
  EXPECT_EQ(folders(local_names(dirs.file("remote"))).size(), 4u);
  EXPECT_TRUE(local_names(dirs.file("copy")).contains(checkpoint_manifest_name(3)));

  // Reopened keeping one, the local copy shrinks to the newest checkpoint at once.
  auto storage = local_recovery(remote, dirs.file("copy"), /*keep=*/1);
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(folders(local_names(dirs.file("copy"))), std::set<std::string>{checkpoint_folder(4)});
}

// The coordinator checkpoints and retires checkpoints through the local-recovery storage: the
// remote keeps what retention keeps, the local copy only the newest, and a restart restores the
// final checkpoint without downloading a data file.
TEST(LocalRecoveryTest, TheCoordinatorsCheckpointsAndRetentionGoThroughTheLocalCopy) {
  TempDir dirs;
  auto counting = std::make_shared<CountingStorage>(std::make_shared<storage::MemoryStorage>());
  auto backend = open_memory();
  Contents expected;
  {
    auto storage = local_recovery(counting, dirs.file("copy"));
    ASSERT_NE(storage, nullptr);
    CheckpointCoordinatorOptions options;
    options.retain_last = 2;
    options.checkpoint = at_now();
    auto coordinator = CheckpointCoordinator::start(*backend, *storage, options);
    ASSERT_OK(coordinator);
    for (int round = 0; round < 4; ++round) {
      fill(*backend, 500, "round" + std::to_string(round));
      ASSERT_OK((*coordinator)->trigger_and_wait());
    }
    expected = fill(*backend, 500, "final");
    auto last = (*coordinator)->shutdown();
    ASSERT_OK(last);
    EXPECT_EQ(last->manifest.id, 5u);
  }
  auto listing = list_checkpoints(*counting);
  ASSERT_OK(listing);
  ASSERT_EQ(listing->valid.size(), 2u);
  EXPECT_EQ(listing->valid.back().id, 5u);
  std::set<std::string> folders;
  for (const std::string& name : local_names(dirs.file("copy"))) folders.insert(name.substr(0, name.find('/')));
  EXPECT_EQ(folders, std::set<std::string>{checkpoint_folder(5)});

  counting->data_reads = 0;
  auto restarted = local_recovery(counting, dirs.file("copy"));
  ASSERT_NE(restarted, nullptr);
  RestoreInfo info;
  EXPECT_EQ(restore_latest(*restarted, &info), expected);
  EXPECT_EQ(info.ids, std::vector<CheckpointId>{5});
  EXPECT_EQ(counting->data_reads.load(), 0u);
}

// Writes `content` under `name` through `storage`.
void put_object(CheckpointStorage& storage, const std::string& name, const std::string& content) {
  auto writer = storage.create(name);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append(content));
  ASSERT_OK((*writer)->commit());
}

CheckpointFile file_of(const std::string& name, const std::string& content, bool shared) {
  CheckpointFile file;
  file.name = name;
  file.size = content.size();
  file.checksum = checksum64(content);
  file.shared = shared;
  file.content = CheckpointFileContent::kRocksDbFile;
  file.local_name = name.substr(name.find('/') + 1);
  return file;
}

// A manifest of checkpoint `id` naming `files`, committed through `storage`.
void put_manifest(CheckpointStorage& storage, CheckpointId id, std::vector<CheckpointFile> files) {
  CheckpointManifest manifest;
  manifest.id = id;
  manifest.kind = id == 1 ? CheckpointKind::kFull : CheckpointKind::kIncremental;
  for (CheckpointId parent = 1; parent < id; ++parent) manifest.parents.push_back(parent);
  manifest.backend_kind = "rocksdb";
  manifest.key_groups = KeyGroupRange(0, kDefaultMaxParallelism);
  manifest.files = std::move(files);
  auto bytes = internal::encode_manifest(manifest);
  ASSERT_OK(bytes);
  put_object(storage, checkpoint_manifest_name(id), *bytes);
}

TEST(LocalRecoveryTest, FilesSharedWithTheChainStayLocal) {
  TempDir dirs;
  auto remote = std::make_shared<storage::MemoryStorage>();
  auto storage = local_recovery(remote, dirs.file("copy"));
  ASSERT_NE(storage, nullptr);
  const std::string base = checkpoint_folder(1) + "/000007.sst";
  const std::string dropped = checkpoint_folder(1) + "/000008.sst";
  const std::string delta = checkpoint_folder(2) + "/000012.sst";
  put_object(*storage, base, "base table");
  put_object(*storage, dropped, "compacted away");
  put_manifest(*storage, 1, {file_of(base, "base table", false), file_of(dropped, "compacted away", false)});
  put_object(*storage, delta, "delta table");
  // Checkpoint 3 is being written while 2 commits: its file is not pruned.
  const std::string in_flight = checkpoint_folder(3) + "/000013.sst";
  put_object(*storage, in_flight, "next");
  put_manifest(*storage, 2, {file_of(base, "base table", true), file_of(delta, "delta table", false)});
  EXPECT_EQ(local_names(dirs.file("copy")),
            (std::set<std::string>{base, delta, checkpoint_manifest_name(2), in_flight}));
  // The shared file is served locally: after reading the manifest, no remote data read.
  ASSERT_OK(storage->read(checkpoint_manifest_name(2)));
  auto shared = storage->read(base);
  ASSERT_OK(shared);
  EXPECT_EQ(*shared, "base table");
  auto range = storage->read_range(base, 5, 5);
  ASSERT_OK(range);
  EXPECT_EQ(*range, "table");
  EXPECT_EQ(storage->statistics().local_reads, 2u);
  EXPECT_EQ(storage->statistics().remote_reads, 0u);
  // The file pruned locally still comes from the remote.
  auto pruned = storage->read(dropped);
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, "compacted away");
  EXPECT_EQ(storage->statistics().remote_reads, 1u);
}

TEST(LocalRecoveryTest, ADamagedLocalCopyIsReadFromTheRemoteInstead) {
  TempDir dirs;
  auto counting = std::make_shared<CountingStorage>(directory_storage(dirs.file("remote")));
  Contents expected;
  {
    auto storage = local_recovery(counting, dirs.file("copy"));
    ASSERT_NE(storage, nullptr);
    expected = write_checkpoints(*storage, 2);
  }
  // Flip one byte in the middle of the local snapshot file (same size, other bytes).
  const std::string snapshot = checkpoint_folder(2) + "/" + std::string(internal::kSnapshotObject);
  const fs::path local_file = fs::path(dirs.file("copy")) / snapshot;
  ASSERT_TRUE(fs::exists(local_file));
  const uint64_t size = fs::file_size(local_file);
  {
    std::fstream file(local_file, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(size / 2));
    char byte = 0;
    file.get(byte);
    file.seekp(static_cast<std::streamoff>(size / 2));
    file.put(static_cast<char>(byte ^ 0x20));
  }
  counting->data_bytes = 0;
  auto restarted = local_recovery(counting, dirs.file("copy"));
  ASSERT_NE(restarted, nullptr);
  RestoreInfo info;
  EXPECT_EQ(restore_latest(*restarted, &info), expected);
  EXPECT_EQ(info.ids, std::vector<CheckpointId>{2});  // not an older checkpoint: the right one
  EXPECT_TRUE(info.skipped.empty());
  LocalRecoveryStatistics stats = restarted->statistics();
  EXPECT_EQ(stats.local_copies_rejected, 1u);
  EXPECT_EQ(stats.remote_reads, 1u);
  EXPECT_EQ(stats.remote_bytes_read, size);
  EXPECT_EQ(counting->data_bytes.load(), size);
  EXPECT_FALSE(fs::exists(local_file));  // the damaged copy is gone
}

// Readers of a kept checkpoint's files while new checkpoints commit (and prune) beside them:
// every read returns the file's bytes, wherever they come from.
TEST(LocalRecoveryTest, ReadsStayCorrectWhileCheckpointsCommitAndPrune) {
  TempDir dirs;
  auto remote = std::make_shared<storage::MemoryStorage>();
  auto storage = local_recovery(remote, dirs.file("copy"));
  ASSERT_NE(storage, nullptr);
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 4; ++i) {
    files.emplace_back(checkpoint_folder(1) + "/00000" + std::to_string(i) + ".sst", std::string(5000 + i, 'a' + i));
    put_object(*storage, files.back().first, files.back().second);
  }
  std::vector<CheckpointFile> entries;
  for (const auto& [name, content] : files) entries.push_back(file_of(name, content, false));
  put_manifest(*storage, 1, entries);
  for (auto& entry : entries) entry.shared = true;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int round = 0; !stop.load() || round < 50; ++round) {
        const auto& [name, content] = files[(t + round) % files.size()];
        auto whole = storage->read(name);
        auto part = storage->read_range(name, 10, 100);
        if (!whole.is_ok() || *whole != content || !part.is_ok() || *part != content.substr(10, 100)) ++wrong;
        if (round % 7 == 0) (void)storage->read(checkpoint_manifest_name(1));
      }
    });
  }
  // Checkpoints 2..20 each share checkpoint 1's files and add one; odd ones drop the sharing.
  for (CheckpointId id = 2; id <= 20; ++id) {
    std::string own = checkpoint_folder(id) + "/000100.sst";
    put_object(*storage, own, "own " + std::to_string(id));
    std::vector<CheckpointFile> listed = id % 2 == 0 ? entries : std::vector<CheckpointFile>{};
    listed.push_back(file_of(own, "own " + std::to_string(id), false));
    put_manifest(*storage, id, listed);
  }
  stop = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(wrong.load(), 0u);
  LocalRecoveryStatistics stats = storage->statistics();
  EXPECT_GT(stats.local_reads, 0u);
  EXPECT_EQ(stats.local_copies_rejected, 0u);
  // Checkpoint 20 does not share: checkpoint 1's files are gone locally, still read remotely.
  EXPECT_EQ(local_names(dirs.file("copy")),
            (std::set<std::string>{checkpoint_folder(20) + "/000100.sst", checkpoint_manifest_name(20)}));
  auto again = storage->read(files[0].first);
  ASSERT_OK(again);
  EXPECT_EQ(*again, files[0].second);
}

// A damaged local manifest is deleted at open; the data files stay and are still served
// locally once the restore has read the remote's manifest.
TEST(LocalRecoveryTest, ADamagedLocalManifestIsDeletedAndTheRemoteOneUsed) {
  TempDir dirs;
  auto counting = std::make_shared<CountingStorage>(directory_storage(dirs.file("remote")));
  Contents expected;
  {
    auto storage = local_recovery(counting, dirs.file("copy"));
    ASSERT_NE(storage, nullptr);
    expected = write_checkpoints(*storage, 2);
  }
  const fs::path manifest = fs::path(dirs.file("copy")) / checkpoint_manifest_name(2);
  {
    std::fstream file(manifest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40);
    file.put('#');
  }
  auto restarted = local_recovery(counting, dirs.file("copy"));
  ASSERT_NE(restarted, nullptr);
  EXPECT_FALSE(fs::exists(manifest));
  counting->data_reads = 0;
  RestoreInfo info;
  EXPECT_EQ(restore_latest(*restarted, &info), expected);
  EXPECT_EQ(info.ids, std::vector<CheckpointId>{2});
  EXPECT_EQ(counting->data_reads.load(), 0u);
  EXPECT_EQ(restarted->statistics().local_bytes_read, info.bytes_read);
}

TEST(LocalRecoveryTest, ALocalWriteFailureDoesNotFailTheRemoteWrite) {
  TempDir dirs;
  auto remote = std::make_shared<storage::MemoryStorage>();
  auto storage = local_recovery(remote, dirs.file("copy"));
  ASSERT_NE(storage, nullptr);
  // Object storage holds "a" and "a/b"; a directory cannot, so the second local copy fails.
  put_object(*storage, "a", "one");
  put_object(*storage, "a/b", "two");
  EXPECT_EQ(storage->statistics().local_write_failures, 1u);
  EXPECT_EQ(storage->statistics().objects_copied, 1u);
  auto listed = remote->list("");
  ASSERT_OK(listed);
  EXPECT_EQ(listed->size(), 2u);
  auto read = storage->read("a/b");
  ASSERT_OK(read);
  EXPECT_EQ(*read, "two");
}

TEST(LocalRecoveryTest, RemoveDeletesTheLocalCopyToo) {
  TempDir dirs;
  auto remote = std::make_shared<storage::MemoryStorage>();
  auto storage = local_recovery(remote, dirs.file("copy"));
  ASSERT_NE(storage, nullptr);
  write_checkpoints(*storage, 1);
  ASSERT_FALSE(local_names(dirs.file("copy")).empty());
  auto objects = storage->list("");
  ASSERT_OK(objects);
  for (const StoredObject& object : *objects) ASSERT_OK(storage->remove(object.name));
  EXPECT_TRUE(local_names(dirs.file("copy")).empty());
  EXPECT_STATUS(storage->read(checkpoint_folder(1) + "/" + std::string(internal::kSnapshotObject)),
                StatusCode::kNotFound, "not found");
}

TEST(LocalRecoveryTest, BadOptionsAreRefused) {
  TempDir dirs;
  auto remote = std::make_shared<storage::MemoryStorage>();
  EXPECT_STATUS(open_local_recovery_storage(nullptr, {.path = dirs.file("copy")}), StatusCode::kInvalidArgument,
                "remote");
  EXPECT_STATUS(open_local_recovery_storage(remote, {}), StatusCode::kInvalidArgument, "LocalRecoveryOptions::path");
  EXPECT_STATUS(open_local_recovery_storage(remote, {.path = dirs.file("copy"), .keep_checkpoints = 0}),
                StatusCode::kInvalidArgument, "keep_checkpoints");
  auto storage = local_recovery(remote, dirs.file("copy"));
  ASSERT_NE(storage, nullptr);
  EXPECT_NE(storage->describe().find("memory storage"), std::string::npos);
  EXPECT_NE(storage->describe().find(dirs.file("copy")), std::string::npos);
}

}  // namespace
}  // namespace streamstate::testing
