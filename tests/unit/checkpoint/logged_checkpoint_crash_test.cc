// kill -9 of a process that keeps memory state with a group-commit write-ahead log and periodic
// checkpoints (LoggedBackend + CheckpointCoordinator into a local directory): a forked child
// recovers (recover_logged_backend: latest checkpoint, then the log after it), starts a
// coordinator checkpointing every 10 ms (which truncates the log behind the oldest retained
// checkpoint) and writes from four threads, acknowledging each put through a pipe once it
// returned. The parent kills it with SIGKILL at a random moment, recovers the same way and
// checks that every acknowledged write of every round is there. Five rounds by default;
// STREAMSTATE_WAL_KILL_ROUNDS=50 runs more by hand.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_coordinator.h"
#include "streamstate/logged_backend.h"
#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "testutil/kill_rounds.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

using Ack = testing::WriteAck;

// State keys (the checkpoint needs a key group in front), spread over all 128 groups.
std::string key_of(const Ack& ack) {
  const std::string user = "r" + std::to_string(ack.round) + "-t" + std::to_string(ack.thread) + "-" +
                           std::to_string(ack.n);
  return make_state_key(static_cast<uint32_t>((ack.n * 7 + ack.thread) % 128), user);
}
std::string value_of(const Ack& ack) { return std::string(ack.n % 40, 'v') + std::to_string(ack.n); }

struct Durable {
  std::unique_ptr<CheckpointStorage> storage;
  std::shared_ptr<StateBackend> memory;
  std::shared_ptr<LoggedBackend> logged;
  LoggedRecoveryInfo recovery;
};

Result<Durable> open_and_recover(const testing::TempDir& dir) {
  Durable durable;
  auto storage = open_directory_storage({.path = dir.file("checkpoints")});
  if (!storage.is_ok()) return storage.status();
  durable.storage = std::move(storage).value();
  WalOptions wal_options;
  wal_options.directory = dir.file("wal");
  wal_options.sync = WalSyncPolicy::kGroupCommit;
  wal_options.segment_bytes = 16 << 10;  // many segments, so truncation has work to do
  auto wal = Wal::open(wal_options);
  if (!wal.is_ok()) return wal.status();
  durable.memory = std::shared_ptr<StateBackend>(MemoryBackend::open({}).value());
  auto logged = LoggedBackend::open(durable.memory, std::shared_ptr<Wal>(std::move(wal).value()));
  if (!logged.is_ok()) return logged.status();
  durable.logged = std::move(logged).value();
  auto recovered = recover_logged_backend(*durable.logged, *durable.storage);
  if (!recovered.is_ok()) return recovered.status();
  durable.recovery = std::move(recovered).value();
  return durable;
}

[[noreturn]] void write_until_killed(const testing::TempDir& dir, uint32_t round, int ack_fd) {
  auto durable = open_and_recover(dir);
  if (!durable.is_ok()) {
    std::fprintf(stderr, "child recovery failed: %s\n", durable.status().to_string().c_str());
    ::_exit(3);
  }
  CheckpointCoordinatorOptions options;
  options.interval = std::chrono::milliseconds(10);
  options.retain_last = 2;
  options.checkpoint_on_shutdown = false;
  auto coordinator = CheckpointCoordinator::start(*durable->logged, *durable->storage, options);
  if (!coordinator.is_ok()) ::_exit(4);
  auto column = durable->logged->column("acks");
  if (!column.is_ok()) ::_exit(5);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t n = 0;; ++n) {
        const Ack ack{round, t, n};
        if (!(*column)->put(key_of(ack), value_of(ack)).is_ok()) ::_exit(6);
        if (!testing::send_ack(ack_fd, ack)) ::_exit(7);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ::_exit(0);
}

TEST(LoggedCheckpointCrashTest, EveryAcknowledgedWriteSurvivesSigkillWithPeriodicCheckpoints) {
  testing::TempDir dir;
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::vector<Ack> acknowledged;
  int recovered_from_checkpoint = 0;
  for (int round = 0; round < testing::kill_rounds(); ++round) {
    const size_t wanted = 2000 + random() % 6000;  // long enough for several checkpoints
    ASSERT_OK(testing::run_until_killed(
        wanted, [&](int ack_fd) { write_until_killed(dir, static_cast<uint32_t>(round), ack_fd); }, acknowledged));

    auto durable = open_and_recover(dir);
    ASSERT_OK(durable);
    if (durable->recovery.checkpoint.has_value()) ++recovered_from_checkpoint;
    auto column = durable->memory->column("acks").value();
    size_t missing = 0;
    for (const Ack& expected : acknowledged) {
      auto value = column->get(key_of(expected));
      ASSERT_OK(value);
      if (!value->has_value() || **value != value_of(expected)) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged writes after round " << round;
  }
  // The writers ran long enough for checkpoints: recovery used them (not only the log).
  EXPECT_GE(recovered_from_checkpoint, 1);
}

}  // namespace
}  // namespace streamstate
