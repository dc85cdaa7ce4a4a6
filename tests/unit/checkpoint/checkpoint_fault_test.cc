// Checkpoints under storage faults and damage: a crash or failure at every write of a
// checkpoint leaves the previous one restorable, the partial one ignored by latest() and found
// by the orphan scan; a flipped byte in a snapshot block or in the manifest is kCorruption
// naming the object; a restore that fails while writing leaves the target as it was.
#include <gtest/gtest.h>

#include <atomic>

#include "checkpoint/checkpoint_names.h"
#include "storage/fault_injecting_storage.h"
#include "storage/memory_storage.h"
#include "streamstate/checkpoint.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

using storage::FaultInjectingStorage;
using storage::MemoryStorage;
using storage::StorageOperation;

CheckpointOptions at(int64_t millis) {
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(millis);
  options.block_bytes = 4096;
  options.write_buffer_bytes = 16 * 1024;  // several appends per data file, so faults land in the middle
  return options;
}

struct Faulty {
  std::shared_ptr<MemoryStorage> inner = std::make_shared<MemoryStorage>();
  FaultInjectingStorage storage{inner};
};

enum class FaultKind { kCrash, kFail };

// Checkpoint 1 commits; checkpoint 2 meets the fault at the nth call of `operation`.
// Returns false once n is past the last call (checkpoint 2 then succeeded).
bool fault_at(StorageOperation operation, FaultKind kind, uint64_t n) {
  SCOPED_TRACE("operation " + std::to_string(static_cast<int>(operation)) + (kind == FaultKind::kCrash ? " crash" : " fail") +
               " at call " + std::to_string(n));
  auto backend = open_memory();
  Contents first = fill(*backend, 2000, "first");
  Faulty faulty;
  EXPECT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  fill(*backend, 2000, "second");
  if (kind == FaultKind::kCrash) {
    faulty.storage.crash_at(operation, n);
  } else {
    faulty.storage.fail_nth(operation, n);
  }
  auto second = write_checkpoint(*backend, faulty.storage, at(kNow + 1));
  if (second.is_ok()) {
    EXPECT_FALSE(faulty.storage.crashed());
    return false;
  }
  faulty.storage.restart();
  faulty.storage.disarm();
  auto latest = latest_checkpoint(faulty.storage);
  EXPECT_TRUE(latest.is_ok()) << latest.status().to_string();
  if (latest.is_ok()) {
    EXPECT_EQ(latest->id, 1u);
  }
  auto target = open_memory();
  auto restored = restore_latest_checkpoint(faulty.storage, *target, {});
  EXPECT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(read_all(*target), first);

  // What the failed checkpoint committed is an orphan; garbage collection removes it and the
  // previous checkpoint stays whole.
  auto orphans = find_orphans(faulty.storage);
  EXPECT_TRUE(orphans.is_ok());
  auto objects = faulty.storage.list("chk-0000000002/");
  EXPECT_TRUE(objects.is_ok());
  std::vector<std::string> partial;
  for (const StoredObject& object : *objects) partial.push_back(object.name);
  EXPECT_EQ(*orphans, partial);
  auto report = collect_garbage(faulty.storage, {.retain_last = 1, .remove_orphans = true});
  EXPECT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_EQ(report->deleted_objects, partial);
  EXPECT_TRUE(faulty.inner->incomplete_contents().empty());
  EXPECT_TRUE(faulty.storage.list("chk-0000000002/")->empty());
  EXPECT_OK(verify_checkpoint(faulty.storage, 1));
  return true;
}

TEST(CheckpointFaultTest, CrashOrFailureAtEveryWriteLeavesThePreviousCheckpointRestorable) {
  for (FaultKind kind : {FaultKind::kCrash, FaultKind::kFail}) {
    for (StorageOperation operation : {StorageOperation::kAppend, StorageOperation::kSync, StorageOperation::kCommit}) {
      uint64_t n = 1;
      while (fault_at(operation, kind, n)) ++n;
      if (operation != StorageOperation::kSync) {
        EXPECT_GT(n, 2u);  // at least the data file and the manifest
      }
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(CheckpointFaultTest, CrashAfterTheDataFileLeavesAnOrphanThatLatestIgnores) {
  auto backend = open_memory();
  fill(*backend, 500);
  Faulty faulty;
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  faulty.storage.crash_at(StorageOperation::kCommit, 2);  // the manifest's commit
  EXPECT_EQ(write_checkpoint(*backend, faulty.storage, at(kNow)).status().code(), StatusCode::kIoError);
  faulty.storage.restart();
  EXPECT_TRUE(*faulty.storage.exists("chk-0000000002/state.snap"));
  EXPECT_EQ(latest_checkpoint(faulty.storage)->id, 1u);
  EXPECT_EQ(*find_orphans(faulty.storage), std::vector<std::string>{"chk-0000000002/state.snap"});
  // A dry run lists it and deletes nothing.
  auto dry = collect_garbage(faulty.storage, {.remove_orphans = true, .dry_run = true});
  ASSERT_TRUE(dry.is_ok());
  EXPECT_EQ(dry->deleted_objects, std::vector<std::string>{"chk-0000000002/state.snap"});
  EXPECT_TRUE(*faulty.storage.exists("chk-0000000002/state.snap"));
  // The next checkpoint takes a fresh id, above the orphan's.
  EXPECT_EQ(write_checkpoint(*backend, faulty.storage, at(kNow))->manifest.id, 3u);
}

TEST(CheckpointFaultTest, FlippedByteInASnapshotBlockIsCorruptionNamingTheFile) {
  auto backend = open_memory();
  Contents expected = fill(*backend, 2000);
  Faulty faulty;
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  const std::string file = "chk-0000000002/state.snap";
  auto manifest = read_checkpoint(faulty.storage, 2);
  ASSERT_TRUE(manifest.is_ok());
  uint64_t block = manifest->files[0].columns[1].key_groups[5].offset + 20;  // inside a block of "counts"
  ASSERT_OK(faulty.storage.flip_byte(file, block));
  EXPECT_STATUS(verify_checkpoint(faulty.storage, 2), StatusCode::kCorruption, "file '" + file + "': checksum mismatch");
  EXPECT_STATUS(verify_checkpoint(faulty.storage, 2), StatusCode::kCorruption,
                "column 'counts' key group " + std::to_string(manifest->files[0].columns[1].key_groups[5].key_group) +
                    " block at offset " + std::to_string(block - 20) + ": checksum mismatch");
  EXPECT_OK(verify_checkpoint(faulty.storage, 1));
  auto target = open_memory();
  EXPECT_STATUS(restore_checkpoint(faulty.storage, 2, *target, {}), StatusCode::kCorruption, file);
  EXPECT_TRUE(read_all(*target).empty());
  // restore_latest passes over it, says why, and restores checkpoint 1.
  auto restored = restore_latest_checkpoint(faulty.storage, *target, {});
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(restored->ids, std::vector<CheckpointId>{1});
  ASSERT_EQ(restored->skipped.size(), 1u);
  EXPECT_EQ(restored->skipped[0].id, 2u);
  EXPECT_NE(restored->skipped[0].reason.message().find(file), std::string::npos);
  EXPECT_EQ(read_all(*target), expected);
}

TEST(CheckpointFaultTest, FlippedByteInAManifestMakesLatestSkipItWithTheReason) {
  auto backend = open_memory();
  fill(*backend, 300);
  Faulty faulty;
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  const std::string manifest = "chk-0000000002/manifest.json";
  ASSERT_OK(faulty.storage.flip_byte(manifest, 100));
  EXPECT_STATUS(read_checkpoint(faulty.storage, 2), StatusCode::kCorruption, "checkpoint manifest '" + manifest + "'");
  EXPECT_STATUS(verify_checkpoint(faulty.storage, 2), StatusCode::kCorruption, manifest);
  std::vector<SkippedCheckpoint> skipped;
  auto latest = latest_checkpoint(faulty.storage, &skipped);
  ASSERT_TRUE(latest.is_ok());
  EXPECT_EQ(latest->id, 1u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].reason.code(), StatusCode::kCorruption);
  EXPECT_NE(skipped[0].reason.message().find(manifest), std::string::npos);
  // Its data file is not an orphan: the damaged checkpoint is left for inspection.
  EXPECT_TRUE(find_orphans(faulty.storage)->empty());
}

TEST(CheckpointFaultTest, MissingOrTruncatedFileMakesTheCheckpointInvalid) {
  auto backend = open_memory();
  fill(*backend, 300);
  Faulty faulty;
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  ASSERT_OK(faulty.storage.remove("chk-0000000003/state.snap"));
  ASSERT_OK(faulty.storage.truncate_object("chk-0000000002/state.snap", 100));
  auto listing = list_checkpoints(faulty.storage);
  ASSERT_TRUE(listing.is_ok());
  ASSERT_EQ(listing->valid.size(), 1u);
  EXPECT_EQ(listing->valid[0].id, 1u);
  ASSERT_EQ(listing->skipped.size(), 2u);
  EXPECT_STATUS(listing->skipped[0].reason, StatusCode::kCorruption, "has 100 bytes");
  EXPECT_STATUS(listing->skipped[1].reason, StatusCode::kNotFound, "'chk-0000000003/state.snap' named by its manifest is missing");
  EXPECT_STATUS(verify_checkpoint(faulty.storage, 3), StatusCode::kNotFound, "chk-0000000003/state.snap");
}

// A backend whose write() fails after `allowed` batches, to fail a restore half way.
class FailingWritesBackend final : public StateBackend {
 public:
  explicit FailingWritesBackend(uint64_t allowed) : inner_(open_memory()), allowed_(allowed) {}
  std::string_view kind() const override { return "failing"; }
  BackendCapabilities capabilities() const override { return inner_->capabilities(); }
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override { return inner_->column(name); }
  Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name, const ColumnOptions& options) override {
    return inner_->column_with_options(name, options);
  }
  Result<std::vector<std::string>> list_columns() override { return inner_->list_columns(); }
  Status drop_column(std::string_view name) override { return inner_->drop_column(name); }
  Status write(const WriteBatch& batch) override {
    if (writes_++ >= allowed_) return Status::io_error("injected write failure");
    return inner_->write(batch);
  }
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override { return inner_->snapshot(); }
  BackendStatistics statistics() const override { return inner_->statistics(); }
  Status flush() override { return inner_->flush(); }
  Status close() override { return inner_->close(); }

 private:
  std::unique_ptr<MemoryBackend> inner_;
  uint64_t allowed_;
  std::atomic<uint64_t> writes_{0};
};

TEST(CheckpointFaultTest, RestoreThatFailsWhileWritingLeavesTheTargetAsItWas) {
  auto backend = open_memory();
  fill(*backend, 2000);
  Faulty faulty;
  ASSERT_OK(write_checkpoint(*backend, faulty.storage, at(kNow)));
  for (uint64_t allowed : {0u, 1u, 5u, 20u}) {
    FailingWritesBackend target(allowed);
    ASSERT_OK(target.column("bytes"));  // an empty column that existed before stays, empty
    auto restored = restore_checkpoint(faulty.storage, 1, target, {.threads = 2});
    EXPECT_STATUS(restored, StatusCode::kIoError, "the restored columns were cleared again");
    EXPECT_EQ(read_all(target), (Contents{{"bytes", {}}})) << allowed;
  }
}

}  // namespace
}  // namespace streamstate::testing
