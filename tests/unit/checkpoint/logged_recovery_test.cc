// recover_logged_backend and the coordinator's log truncation: recovery replays the whole log
// without a checkpoint, restores the checkpoint and replays only the records after its log
// position otherwise, refuses a checkpoint without a log position and a log truncated past
// what must be replayed; the coordinator truncates the log behind the oldest retained
// checkpoint and recovery afterwards is still exact.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_coordinator.h"
#include "streamstate/logged_backend.h"
#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

using Entries = std::map<std::string, std::string>;

struct LoggedState {
  std::shared_ptr<StateBackend> memory;
  std::shared_ptr<LoggedBackend> logged;
};

LoggedState open_logged(const std::string& wal_directory, bool track_changes = false) {
  WalOptions options;
  options.directory = wal_directory;
  options.segment_bytes = 4096;  // small segments: truncation removes some
  auto wal = Wal::open(options);
  EXPECT_OK(wal);
  LoggedState state;
  MemoryBackendOptions memory;
  memory.track_changes = track_changes;
  state.memory = std::shared_ptr<StateBackend>(MemoryBackend::open(memory).value());
  state.logged = LoggedBackend::open(state.memory, std::shared_ptr<Wal>(std::move(wal).value())).value();
  return state;
}

void write_range(StateBackend& backend, int from, int to, Entries& expected) {
  auto column = backend.column("c").value();
  for (int i = from; i < to; ++i) {
    const std::string key = make_state_key(static_cast<uint32_t>(i % 128), "k" + std::to_string(i % 300));
    const std::string value = "v" + std::to_string(i);
    ASSERT_OK(column->put(key, value));
    expected[key] = value;
  }
}

Entries read_column(StateBackend& backend) {
  Entries out;
  EXPECT_OK(backend.column("c").value()->scan({}, [&](BytesView key, BytesView value) {
    out.emplace(std::string(key), std::string(value));
    return true;
  }));
  return out;
}

TEST(LoggedRecoveryTest, WithoutACheckpointTheWholeLogIsReplayed) {
  testing::TempDir dir;
  auto storage = open_memory_storage();
  Entries expected;
  {
    LoggedState state = open_logged(dir.file("wal"));
    write_range(*state.logged, 0, 500, expected);
  }
  LoggedState state = open_logged(dir.file("wal"));
  auto info = recover_logged_backend(*state.logged, *storage);
  ASSERT_OK(info);
  EXPECT_FALSE(info->checkpoint.has_value());
  EXPECT_EQ(info->records_replayed, 501u);  // the column's creation and 500 puts
  EXPECT_EQ(read_column(*state.memory), expected);
}

// Memory state with a log and incremental checkpoints: each delta records the log position its
// snapshot includes, and recovery from the chain plus the log after it is exact.
TEST(LoggedRecoveryTest, IncrementalCheckpointsCarryTheirLogPosition) {
  testing::TempDir dir;
  auto storage = open_memory_storage();
  Entries expected;
  CheckpointOptions options;
  options.incremental.enabled = true;
  {
    LoggedState state = open_logged(dir.file("wal"), /*track_changes=*/true);
    ASSERT_NE(state.logged->change_tracker(), nullptr);
    write_range(*state.logged, 0, 400, expected);
    auto full = write_checkpoint(*state.logged, *storage, options);
    ASSERT_OK(full);
    EXPECT_EQ(full->manifest.kind, CheckpointKind::kFull);
    write_range(*state.logged, 400, 420, expected);
    auto delta = write_checkpoint(*state.logged, *storage, options);
    ASSERT_OK(delta);
    EXPECT_EQ(delta->manifest.kind, CheckpointKind::kIncremental);
    EXPECT_EQ(delta->entries, 20u);
    ASSERT_TRUE(delta->manifest.log_position.has_value());
    EXPECT_EQ(*delta->manifest.log_position, *full->manifest.log_position + 20);
    write_range(*state.logged, 420, 450, expected);  // only in the log
  }
  LoggedState state = open_logged(dir.file("wal"), /*track_changes=*/true);
  auto info = recover_logged_backend(*state.logged, *storage);
  ASSERT_OK(info);
  EXPECT_EQ(info->checkpoint, std::optional<CheckpointId>(2));
  EXPECT_EQ(info->records_replayed, 30u);
  EXPECT_EQ(read_column(*state.memory), expected);
  // The process restarted: tracking starts over, so the next checkpoint is full.
  auto next = write_checkpoint(*state.logged, *storage, options);
  ASSERT_OK(next);
  EXPECT_EQ(next->manifest.kind, CheckpointKind::kFull);
}

TEST(LoggedRecoveryTest, TheCheckpointIsRestoredAndOnlyTheLogAfterItReplayed) {
  testing::TempDir dir;
  auto storage = open_memory_storage();
  Entries expected;
  uint64_t position = 0;
  {
    LoggedState state = open_logged(dir.file("wal"));
    write_range(*state.logged, 0, 400, expected);
    auto checkpoint = write_checkpoint(*state.logged, *storage, {});
    ASSERT_OK(checkpoint);
    ASSERT_TRUE(checkpoint->manifest.log_position.has_value());
    position = *checkpoint->manifest.log_position;
    auto manifest = read_checkpoint(*storage, checkpoint->manifest.id);  // it survives the JSON
    ASSERT_OK(manifest);
    EXPECT_EQ(manifest->log_position, checkpoint->manifest.log_position);
    write_range(*state.logged, 400, 700, expected);
  }
  LoggedState state = open_logged(dir.file("wal"));
  auto info = recover_logged_backend(*state.logged, *storage);
  ASSERT_OK(info);
  ASSERT_TRUE(info->checkpoint.has_value());
  EXPECT_EQ(info->replayed_from, position + 1);
  EXPECT_EQ(info->records_replayed, 300u);
  EXPECT_EQ(read_column(*state.memory), expected);
}

TEST(LoggedRecoveryTest, ACheckpointWithoutALogPositionIsRefused) {
  testing::TempDir dir;
  auto storage = open_memory_storage();
  auto plain = MemoryBackend::open({}).value();
  ASSERT_OK(plain->column("c").value()->put(make_state_key(1, "k"), "v"));
  ASSERT_OK(write_checkpoint(*plain, *storage, {}));
  LoggedState state = open_logged(dir.file("wal"));
  auto info = recover_logged_backend(*state.logged, *storage);
  EXPECT_EQ(info.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(info.status().message().find("no log position"), std::string::npos) << info.status().message();
}

TEST(LoggedRecoveryTest, ALogTruncatedPastWhatMustBeReplayedIsRefused) {
  testing::TempDir dir;
  auto storage = open_memory_storage();
  Entries expected;
  {
    LoggedState state = open_logged(dir.file("wal"));
    write_range(*state.logged, 0, 600, expected);
    ASSERT_OK(state.logged->wal().truncate_before(300));  // and no checkpoint covers 1..299
  }
  LoggedState state = open_logged(dir.file("wal"));
  auto info = recover_logged_backend(*state.logged, *storage);
  EXPECT_EQ(info.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(info.status().message().find("truncated"), std::string::npos) << info.status().message();
}

TEST(LoggedRecoveryTest, TheCoordinatorTruncatesTheLogBehindTheOldestRetainedCheckpoint) {
  testing::TempDir dir;
  auto storage = open_memory_storage();
  Entries expected;
  {
    LoggedState state = open_logged(dir.file("wal"));
    CheckpointCoordinatorOptions options;
    options.retain_last = 2;
    options.checkpoint_on_shutdown = false;
    auto coordinator = CheckpointCoordinator::start(*state.logged, *storage, options).value();
    for (int round = 0; round < 4; ++round) {
      write_range(*state.logged, round * 300, round * 300 + 300, expected);
      ASSERT_OK(coordinator->trigger_and_wait());
    }
    write_range(*state.logged, 1200, 1300, expected);
    EXPECT_GT(coordinator->statistics().log_segments_removed, 0u);
    EXPECT_GT(state.logged->wal().statistics().first_sequence, 1u);
    // What the oldest retained checkpoint (3) needs is still there.
    auto oldest = read_checkpoint(*storage, 3);
    ASSERT_OK(oldest);
    EXPECT_LE(state.logged->wal().statistics().first_sequence, *oldest->log_position + 1);
  }
  LoggedState state = open_logged(dir.file("wal"));
  auto info = recover_logged_backend(*state.logged, *storage);
  ASSERT_OK(info);
  EXPECT_EQ(info->checkpoint, CheckpointId{4});
  EXPECT_EQ(read_column(*state.memory), expected);
}

}  // namespace
}  // namespace streamstate
