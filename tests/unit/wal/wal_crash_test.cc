// kill -9 in the middle of group-commit appends: a writer process (streamstate_wal_crash_writer)
// appends from several threads and acknowledges each record through a pipe once its append
// returned; the test kills it with SIGKILL at a random moment, reopens the log (recovery) and
// checks that every acknowledged record is there with exactly its bytes, that it can append
// after them, and that the next writer continues the log. Five rounds by default;
// STREAMSTATE_WAL_KILL_ROUNDS=50 runs more by hand.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "streamstate/wal.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/wal/crash_writer.h"
#include "unit/wal/wal_test_util.h"

namespace streamstate {
namespace {

using testing::CrashAck;
using testing::crash_payload;
using testing::kCrashRecordType;

int kill_rounds() {
  const char* text = std::getenv("STREAMSTATE_WAL_KILL_ROUNDS");
  int rounds = text != nullptr ? std::atoi(text) : 0;
  return rounds > 0 ? rounds : 5;
}

pid_t start_writer(const std::string& directory, uint32_t round, int threads, int ack_fd) {
  const std::string round_text = std::to_string(round);
  const std::string threads_text = std::to_string(threads);
  const std::string fd_text = std::to_string(ack_fd);
  pid_t child = ::fork();
  if (child == 0) {
    const char* argv[] = {STREAMSTATE_WAL_CRASH_WRITER, directory.c_str(), round_text.c_str(), threads_text.c_str(),
                          fd_text.c_str(), nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  return child;
}

bool read_ack(int fd, CrashAck& ack) { return ::read(fd, &ack, sizeof(ack)) == static_cast<ssize_t>(sizeof(ack)); }

TEST(WalCrashTest, AcknowledgedGroupCommitAppendsSurviveSigkill) {
  testing::TempDir directory;
  const std::string path = directory.file("wal");
  const int rounds = kill_rounds();
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::map<uint64_t, std::string> acknowledged;  // sequence -> payload
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t child = start_writer(path, static_cast<uint32_t>(round), 4, pipe_fds[1]);
    ASSERT_GT(child, 0);
    ::close(pipe_fds[1]);
    // Kill after a random number of acknowledgements plus a random pause, so the kill lands
    // anywhere in a write, a sync or a segment rotation.
    const int kill_after = std::uniform_int_distribution<int>(1, 400)(random);
    std::vector<CrashAck> acks;
    CrashAck ack;
    while (static_cast<int>(acks.size()) < kill_after && read_ack(pipe_fds[0], ack)) acks.push_back(ack);
    ::usleep(std::uniform_int_distribution<unsigned>(0, 3000)(random));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int wait_status = 0;
    ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL)
        << "the writer stopped on its own (exit code " << WEXITSTATUS(wait_status) << ")";
    while (read_ack(pipe_fds[0], ack)) acks.push_back(ack);
    ::close(pipe_fds[0]);
    ASSERT_GE(static_cast<int>(acks.size()), kill_after);
    for (const CrashAck& a : acks) {
      ASSERT_EQ(a.round, static_cast<uint32_t>(round));
      ASSERT_TRUE(acknowledged.emplace(a.sequence, crash_payload(a.round, a.thread, a.counter)).second)
          << "sequence number " << a.sequence << " acknowledged twice";
    }

    WalOptions options = testing::wal_options(path, WalSyncPolicy::kGroupCommit);
    auto wal = Wal::open(options);
    ASSERT_OK(wal);
    std::map<uint64_t, std::string> in_log;
    uint64_t previous = 0;
    ASSERT_OK((*wal)->replay(0, [&](const WalRecordView& record) {
      EXPECT_EQ(record.sequence, previous + 1) << "replay is in order without gaps";
      previous = record.sequence;
      in_log.emplace(record.sequence, std::string(record.payload));
      return Status::ok();
    }));
    for (const auto& [sequence, payload] : acknowledged) {
      auto found = in_log.find(sequence);
      ASSERT_NE(found, in_log.end()) << "acknowledged record " << sequence << " is missing";
      ASSERT_EQ(found->second, payload) << "acknowledged record " << sequence << " changed";
    }
    // Appends continue after what was recovered, and are kept like the writer's.
    std::string marker = crash_payload(1000000 + static_cast<uint32_t>(round), 0, 0);
    auto sequence = (*wal)->append(kCrashRecordType, marker);
    ASSERT_OK(sequence);
    EXPECT_EQ(*sequence, previous + 1);
    acknowledged.emplace(*sequence, marker);
    ASSERT_OK((*wal)->close());
  }
}

}  // namespace
}  // namespace streamstate
