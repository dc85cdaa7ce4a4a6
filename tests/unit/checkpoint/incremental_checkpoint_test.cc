// Incremental checkpoints of a memory backend that tracks its changes: a delta holds exactly the
// changed entries and the deleted keys, its manifest lists the chain's files, a restore of any
// checkpoint of a chain gives that checkpoint's state, chains end where the options say, a
// failed checkpoint loses nothing for the next one, retention keeps what a chain needs, and
// damage in a tombstone file is kCorruption naming it.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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

std::unique_ptr<MemoryBackend> open_tracking() {
  MemoryBackendOptions options;
  options.track_changes = true;
  auto backend = MemoryBackend::open(options);
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return std::move(backend).value();
}

CheckpointOptions incremental(int64_t millis, uint32_t full_every = 10, double max_delta_share = 10.0) {
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(millis);
  options.block_bytes = 4096;
  options.incremental = {.enabled = true, .full_every = full_every, .max_delta_share = max_delta_share};
  return options;
}

Status checkpointed(StateBackend& backend, CheckpointStorage& storage, CheckpointOptions options) {
  return write_checkpoint(backend, storage, std::move(options)).status();
}

Contents restored(CheckpointStorage& storage, CheckpointId id, const RestoreOptions& options = {}) {
  auto target = open_memory();
  auto info = restore_checkpoint(storage, id, *target, options);
  EXPECT_TRUE(info.is_ok()) << info.status().to_string();
  return read_all(*target);
}

// Changes about 1% of the "counts" entries fill() wrote, deletes a few and adds new ones; the
// expected contents follow.
void change_some(StateBackend& backend, Contents& expected, int round) {
  auto counts = backend.column("counts");
  ASSERT_TRUE(counts.is_ok());
  int i = 0;
  for (auto it = expected["counts"].begin(); it != expected["counts"].end(); ++i) {
    if (i % 100 == round % 100) {
      it->second = "changed-" + std::to_string(round) + "-" + std::to_string(i);
      ASSERT_OK((*counts)->put(it->first, it->second));
      ++it;
    } else if (i % 300 == (round * 7 + 1) % 300) {
      ASSERT_OK((*counts)->remove(it->first));
      it = expected["counts"].erase(it);
    } else {
      ++it;
    }
  }
  std::string key = make_state_key(static_cast<uint32_t>(round) % 128, "new-" + std::to_string(round));
  ASSERT_OK((*counts)->put(key, "fresh"));
  expected["counts"][key] = "fresh";
}

TEST(IncrementalCheckpointTest, DeltaHoldsOnlyTheChangesAndRestoresExactly) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 3000);
  MemoryStorage storage;
  auto first = write_checkpoint(*backend, storage, incremental(kNow));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first->manifest.kind, CheckpointKind::kFull);
  EXPECT_NE(first->full_reason.find("no earlier checkpoint"), std::string::npos) << first->full_reason;
  const Contents at_first = expected;

  change_some(*backend, expected, 1);
  auto second = write_checkpoint(*backend, storage, incremental(kNow));
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  const CheckpointManifest& m = second->manifest;
  EXPECT_EQ(m.kind, CheckpointKind::kIncremental);
  EXPECT_EQ(m.parents, std::vector<CheckpointId>{first->manifest.id});
  EXPECT_TRUE(second->full_reason.empty());
  // The full checkpoint's file, shared, then this checkpoint's puts and tombstones.
  ASSERT_EQ(m.files.size(), 3u);
  EXPECT_TRUE(m.files[0].shared);
  EXPECT_EQ(m.files[0], [&] {
    CheckpointFile file = first->manifest.files[0];
    file.shared = true;
    return file;
  }());
  EXPECT_EQ(m.files[1].name, "chk-0000000002/state.snap");
  EXPECT_EQ(m.files[1].content, CheckpointFileContent::kEntries);
  EXPECT_EQ(m.files[2].name, "chk-0000000002/tombstones.snap");
  EXPECT_EQ(m.files[2].content, CheckpointFileContent::kTombstones);
  // 30 changed + 1 new key; 10 deleted.
  EXPECT_EQ(second->entries, 31u);
  EXPECT_EQ(second->tombstones, 10u);
  EXPECT_LT((m.files[1].size + m.files[2].size) * 10, m.files[0].size);

  EXPECT_EQ(restored(storage, m.id), expected);
  EXPECT_EQ(restored(storage, first->manifest.id), at_first);
  ASSERT_OK(verify_checkpoint(storage, m.id));
  // A key-group sub-range of a chain.
  EXPECT_EQ(restored(storage, m.id, {.key_groups = KeyGroupRange(10, 70)}), within(expected, KeyGroupRange(10, 70)));
}

TEST(IncrementalCheckpointTest, ChainsOfManyDeltasRestoreEachCheckpoint) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 2000);
  MemoryStorage storage;
  std::vector<Contents> states;
  for (int round = 0; round < 6; ++round) {
    if (round > 0) change_some(*backend, expected, round);
    auto info = write_checkpoint(*backend, storage, incremental(kNow, /*full_every=*/4));
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    states.push_back(expected);
    // full_every 4: a full checkpoint, then three deltas, then a full one again.
    const bool full = round % 4 == 0;
    EXPECT_EQ(info->manifest.kind, full ? CheckpointKind::kFull : CheckpointKind::kIncremental) << round;
    if (round == 4) {
      EXPECT_NE(info->full_reason.find("full_every 4"), std::string::npos) << info->full_reason;
    }
    if (round == 3) {
      EXPECT_EQ(info->manifest.parents, (std::vector<CheckpointId>{1, 2, 3}));
    }
  }
  for (size_t i = 0; i < states.size(); ++i) {
    SCOPED_TRACE("checkpoint " + std::to_string(i + 1));
    EXPECT_EQ(restored(storage, i + 1, {.threads = 3}), states[i]);
  }
}

TEST(IncrementalCheckpointTest, ChainEndsOnceDeltasPassTheirShareOfTheFull) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 2000);
  MemoryStorage storage;
  ASSERT_OK(checkpointed(*backend, storage, incremental(kNow, 10, 0.0)));
  change_some(*backend, expected, 1);
  auto delta = write_checkpoint(*backend, storage, incremental(kNow, 10, 0.0));
  ASSERT_TRUE(delta.is_ok());
  EXPECT_EQ(delta->manifest.kind, CheckpointKind::kIncremental);  // no delta bytes yet: 0 is not above 0
  change_some(*backend, expected, 2);
  auto full = write_checkpoint(*backend, storage, incremental(kNow, 10, 0.0));
  ASSERT_TRUE(full.is_ok());
  EXPECT_EQ(full->manifest.kind, CheckpointKind::kFull);
  EXPECT_NE(full->full_reason.find("max_delta_share"), std::string::npos) << full->full_reason;
  EXPECT_EQ(restored(storage, full->manifest.id), expected);
}

TEST(IncrementalCheckpointTest, BackendsWithoutTrackingAndOtherStoragesGetFullCheckpoints) {
  auto plain = open_memory();
  fill(*plain, 500);
  MemoryStorage storage;
  ASSERT_OK(checkpointed(*plain, storage, incremental(kNow)));
  auto again = write_checkpoint(*plain, storage, incremental(kNow));
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->manifest.kind, CheckpointKind::kFull);

  auto backend = open_tracking();
  Contents expected = fill(*backend, 500);
  MemoryStorage other;
  ASSERT_OK(checkpointed(*backend, storage, incremental(kNow)));
  change_some(*backend, expected, 1);
  auto elsewhere = write_checkpoint(*backend, other, incremental(kNow));
  ASSERT_TRUE(elsewhere.is_ok());
  EXPECT_EQ(elsewhere->manifest.kind, CheckpointKind::kFull);
  EXPECT_NE(elsewhere->full_reason.find("another storage"), std::string::npos) << elsewhere->full_reason;
  EXPECT_EQ(restored(other, elsewhere->manifest.id), expected);

  EXPECT_EQ(write_checkpoint(*backend, storage, incremental(kNow, 0)).status().code(), StatusCode::kInvalidArgument);
}

TEST(IncrementalCheckpointTest, BaseDeletedMeansFull) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 500);
  MemoryStorage storage;
  auto first = write_checkpoint(*backend, storage, incremental(kNow));
  ASSERT_TRUE(first.is_ok());
  ASSERT_OK(storage.remove(checkpoint_manifest_name(first->manifest.id)));
  change_some(*backend, expected, 1);
  auto next = write_checkpoint(*backend, storage, incremental(kNow));
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(next->manifest.kind, CheckpointKind::kFull);
  EXPECT_NE(next->full_reason.find("cannot be read"), std::string::npos) << next->full_reason;
  EXPECT_EQ(restored(storage, next->manifest.id), expected);
}

// A checkpoint that fails is never confirmed: the next delta still holds its keys.
TEST(IncrementalCheckpointTest, FailedCheckpointLosesNothingForTheNext) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 1000);
  auto inner = std::make_shared<MemoryStorage>();
  FaultInjectingStorage storage(inner);
  ASSERT_OK(checkpointed(*backend, storage, incremental(kNow)));
  change_some(*backend, expected, 1);
  storage.fail_nth(StorageOperation::kCommit, 1);
  EXPECT_FALSE(write_checkpoint(*backend, storage, incremental(kNow)).is_ok());
  storage.disarm();
  change_some(*backend, expected, 2);
  auto next = write_checkpoint(*backend, storage, incremental(kNow));
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_EQ(next->manifest.kind, CheckpointKind::kIncremental);
  EXPECT_EQ(next->manifest.parents, std::vector<CheckpointId>{1});
  EXPECT_EQ(restored(storage, next->manifest.id), expected);
}

TEST(IncrementalCheckpointTest, ExpiredAndDroppedStateDoesNotComeBack) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 600);
  MemoryStorage storage;
  ASSERT_OK(checkpointed(*backend, storage, incremental(kNow)));
  // A live TTL entry rewritten with an expiry that has passed by the next checkpoint: a
  // tombstone, so the older live value of the full checkpoint is not restored.
  const std::string key = expected["ttl"].begin()->first;
  put(*backend, "ttl", key, expiring(kNow + 5, "short-lived"), true);
  expected["ttl"].erase(key);
  // A column created after the base, and one dropped after it.
  put(*backend, "added", make_state_key(3, "a"), "x");
  expected["added"][make_state_key(3, "a")] = "x";
  ASSERT_OK(backend->drop_column("bytes"));
  expected.erase("bytes");
  auto delta = write_checkpoint(*backend, storage, incremental(kNow + 10));
  ASSERT_TRUE(delta.is_ok()) << delta.status().to_string();
  EXPECT_EQ(delta->manifest.kind, CheckpointKind::kIncremental);
  EXPECT_EQ(delta->tombstones, 1u);
  EXPECT_EQ(std::count(delta->manifest.columns.begin(), delta->manifest.columns.end(), "bytes"), 0);
  EXPECT_EQ(restored(storage, delta->manifest.id), expected);
}

TEST(IncrementalCheckpointTest, RetentionKeepsTheChainOfTheRetainedCheckpoint) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 800);
  MemoryStorage storage;
  for (int round = 0; round < 3; ++round) {
    if (round > 0) change_some(*backend, expected, round);
    ASSERT_OK(checkpointed(*backend, storage, incremental(kNow, 3)));
  }
  auto report = collect_garbage(storage, {.retain_last = 1});
  ASSERT_TRUE(report.is_ok());
  EXPECT_EQ(report->removed, (std::vector<CheckpointId>{1, 2}));
  // Only the manifests went: checkpoint 3 needs every file of 1 and 2.
  EXPECT_EQ(report->deleted_objects, (std::vector<std::string>{checkpoint_manifest_name(1), checkpoint_manifest_name(2)}));
  EXPECT_EQ(restored(storage, 3), expected);

  change_some(*backend, expected, 3);
  auto full = write_checkpoint(*backend, storage, incremental(kNow, 3));  // the chain is full: 3 checkpoints
  ASSERT_TRUE(full.is_ok());
  EXPECT_EQ(full->manifest.kind, CheckpointKind::kFull);
  report = collect_garbage(storage, {.retain_last = 1});
  ASSERT_TRUE(report.is_ok());
  auto left = storage.list("");
  ASSERT_TRUE(left.is_ok());
  for (const StoredObject& object : *left) EXPECT_TRUE(object.name.starts_with("chk-0000000004/")) << object.name;
  EXPECT_EQ(restored(storage, 4), expected);
}

TEST(IncrementalCheckpointTest, DamagedTombstoneFileIsNamed) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 600);
  auto inner = std::make_shared<MemoryStorage>();
  FaultInjectingStorage storage(inner);
  ASSERT_OK(checkpointed(*backend, storage, incremental(kNow)));
  change_some(*backend, expected, 1);
  auto delta = write_checkpoint(*backend, storage, incremental(kNow));
  ASSERT_TRUE(delta.is_ok());
  ASSERT_OK(storage.flip_byte("chk-0000000002/tombstones.snap", 20));
  auto target = open_memory();
  auto failed = restore_checkpoint(storage, 2, *target, {});
  ASSERT_EQ(failed.status().code(), StatusCode::kCorruption);
  EXPECT_NE(failed.status().message().find("chk-0000000002/tombstones.snap"), std::string::npos)
      << failed.status().message();
  EXPECT_TRUE(read_all(*target).empty() || read_all(*target) == Contents{});
  auto verified = verify_checkpoint(storage, 2);
  EXPECT_EQ(verified.code(), StatusCode::kCorruption);
}

// A restore of a whole checkpoint reads each file whole and checks its XXH3, so damage a block
// checksum does not cover (the file's index, its header) is found too, and restore_latest
// falls back to the previous checkpoint.
TEST(IncrementalCheckpointTest, DamageOutsideTheBlocksOfASmallFileIsFound) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 600);
  auto inner = std::make_shared<MemoryStorage>();
  FaultInjectingStorage storage(inner);
  ASSERT_OK(checkpointed(*backend, storage, incremental(kNow)));
  const Contents at_first = expected;
  change_some(*backend, expected, 1);
  auto delta = write_checkpoint(*backend, storage, incremental(kNow));
  ASSERT_TRUE(delta.is_ok());
  const CheckpointFile& tombstones = delta->manifest.files.back();
  ASSERT_EQ(tombstones.content, CheckpointFileContent::kTombstones);
  for (uint64_t offset : {uint64_t{4}, tombstones.size - 40}) {  // the header's magic; the index
    SCOPED_TRACE("offset " + std::to_string(offset));
    ASSERT_OK(storage.flip_byte(tombstones.name, offset));
    auto target = open_memory();
    auto latest = restore_latest_checkpoint(storage, *target, {});
    ASSERT_TRUE(latest.is_ok()) << latest.status().to_string();
    EXPECT_EQ(latest->ids, std::vector<CheckpointId>{1});
    ASSERT_EQ(latest->skipped.size(), 1u);
    EXPECT_EQ(latest->skipped[0].reason.code(), StatusCode::kCorruption);
    EXPECT_NE(latest->skipped[0].reason.message().find(tombstones.name), std::string::npos)
        << latest->skipped[0].reason.message();
    EXPECT_EQ(read_all(*target), at_first);
    ASSERT_OK(storage.flip_byte(tombstones.name, offset));  // repaired
  }
  EXPECT_EQ(restored(storage, 2), expected);
}

TEST(IncrementalCheckpointTest, ProgressIsReportedWhileWritingAndRestoring) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 3000);
  MemoryStorage storage;
  ASSERT_OK(checkpointed(*backend, storage, incremental(kNow)));
  change_some(*backend, expected, 1);
  std::vector<CheckpointProgress> reports;
  CheckpointOptions options = incremental(kNow);
  options.write_buffer_bytes = 256;  // several appends per file
  options.on_progress = [&](const CheckpointProgress& progress) { reports.push_back(progress); };
  auto delta = write_checkpoint(*backend, storage, options);
  ASSERT_TRUE(delta.is_ok());
  ASSERT_GT(reports.size(), 3u);
  for (size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].bytes_written, reports[i - 1].bytes_written);
    EXPECT_GE(reports[i].files_committed, reports[i - 1].files_committed);
  }
  EXPECT_EQ(reports.back().id, delta->manifest.id);
  EXPECT_EQ(reports.back().files_committed, 2u);  // its entries and tombstones
  EXPECT_EQ(reports.back().bytes_written, delta->manifest.files[1].size + delta->manifest.files[2].size);

  std::vector<RestoreProgress> restores;
  auto target = open_memory();
  auto info = restore_checkpoint(storage, delta->manifest.id, *target,
                                 {.threads = 2, .on_progress = [&](const RestoreProgress& progress) {
                                    restores.push_back(progress);
                                  }});
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  ASSERT_FALSE(restores.empty());
  EXPECT_EQ(restores.back().entries_written, info->entries + info->deletes);
  EXPECT_EQ(restores.back().entries_total, restores.back().entries_written);
  EXPECT_EQ(info->deletes, 10u);
}

// Writers keep writing while incremental checkpoints run; every checkpoint restores to a state
// that the final restore, taken once writers stopped, converges on.
TEST(IncrementalCheckpointTest, DeltasTakenWhileWritersRunAddUp) {
  auto backend = open_tracking();
  Contents expected = fill(*backend, 1000);
  MemoryStorage storage;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      auto column = backend->column("counts");
      for (uint64_t i = 0; !stop.load(); ++i) {
        const uint64_t n = i % 500;  // each writer churns over 500 keys
        std::string key = make_state_key(static_cast<uint32_t>((n * 13 + static_cast<uint64_t>(w)) % 128),
                                         "w" + std::to_string(w) + "-" + std::to_string(n));
        Status status = i % 7 == 0 ? (*column)->remove(key) : (*column)->put(key, std::to_string(i));
        if (!status.is_ok()) return;
      }
    });
  }
  for (int round = 0; round < 8; ++round) {
    auto info = write_checkpoint(*backend, storage, incremental(kNow, 5));
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    EXPECT_EQ(info->manifest.kind, round % 5 == 0 ? CheckpointKind::kFull : CheckpointKind::kIncremental)
        << round << ": " << info->full_reason;
  }
  stop = true;
  for (std::thread& writer : writers) writer.join();
  auto last = write_checkpoint(*backend, storage, incremental(kNow, 5));
  ASSERT_TRUE(last.is_ok());
  EXPECT_EQ(last->manifest.kind, CheckpointKind::kIncremental) << last->full_reason;
  expected["counts"] = read_all(*backend)["counts"];  // the writers wrote only there
  EXPECT_EQ(restored(storage, last->manifest.id), expected);
}

}  // namespace
}  // namespace streamstate::testing
