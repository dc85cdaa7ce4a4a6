// kill -9 of a process writing memory state through a LoggedBackend with a group-commit WAL:
// a forked child opens the log, replays it into a fresh memory backend (the state of the rounds
// before) and writes from four threads, acknowledging each put through a pipe once it returned;
// the parent kills it with SIGKILL at a random moment, then recovers the state by replaying the
// log and checks that every acknowledged write of every round is there with its value. Five
// rounds by default; STREAMSTATE_WAL_KILL_ROUNDS=50 runs more by hand.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/logged_backend.h"
#include "streamstate/memory.h"
#include "testutil/kill_rounds.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

using Ack = testing::WriteAck;

std::string key_of(const Ack& ack) {
  return "r" + std::to_string(ack.round) + "-t" + std::to_string(ack.thread) + "-" + std::to_string(ack.n);
}
std::string value_of(const Ack& ack) { return std::string(ack.n % 50, 'v') + std::to_string(ack.n); }

Result<std::shared_ptr<LoggedBackend>> recover(const std::string& directory, std::shared_ptr<StateBackend>& state) {
  WalOptions options;
  options.directory = directory;
  options.sync = WalSyncPolicy::kGroupCommit;
  options.segment_bytes = 64 << 10;  // rotations happen during the run
  auto wal = Wal::open(options);
  if (!wal.is_ok()) return wal.status();
  state = std::shared_ptr<StateBackend>(MemoryBackend::open({}).value());
  auto logged = LoggedBackend::open(state, std::shared_ptr<Wal>(std::move(wal).value()));
  if (!logged.is_ok()) return logged.status();
  auto replayed = (*logged)->replay(0);
  if (!replayed.is_ok()) return replayed.status();
  return logged;
}

// The child: recover, then write until killed.
[[noreturn]] void write_until_killed(const std::string& directory, uint32_t round, int ack_fd) {
  std::shared_ptr<StateBackend> state;
  auto logged = recover(directory, state);
  if (!logged.is_ok()) ::_exit(3);
  auto column = (*logged)->column("acks");
  if (!column.is_ok()) ::_exit(4);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t n = 0;; ++n) {
        const Ack ack{round, t, n};
        if (!(*column)->put(key_of(ack), value_of(ack)).is_ok()) ::_exit(5);
        if (!testing::send_ack(ack_fd, ack)) ::_exit(6);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ::_exit(0);
}

TEST(LoggedBackendCrashTest, EveryAcknowledgedWriteSurvivesSigkill) {
  testing::TempDir dir;
  const std::string directory = dir.file("wal");
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::vector<Ack> acknowledged;
  for (int round = 0; round < testing::kill_rounds(); ++round) {
    // Let it write for a while (past its recovery), then kill it mid-write.
    const size_t wanted = 200 + random() % 3000;
    ASSERT_OK(testing::run_until_killed(
        wanted, [&](int ack_fd) { write_until_killed(directory, static_cast<uint32_t>(round), ack_fd); },
        acknowledged));

    std::shared_ptr<StateBackend> state;
    auto logged = recover(directory, state);
    ASSERT_OK(logged);
    auto column = state->column("acks").value();
    size_t missing = 0;
    for (const Ack& expected : acknowledged) {
      auto value = column->get(key_of(expected));
      ASSERT_OK(value);
      if (!value->has_value() || **value != value_of(expected)) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged writes after round " << round;
  }
}

}  // namespace
}  // namespace streamstate
