// The exactly-once proof: a real pipeline process (streamstate_pipeline_job: generated clicks,
// key by user, a running count and sum, a 10-second event-time window with timers, the
// exactly-once file sink, checkpoints to a directory) is killed with SIGKILL again and again -
// at random moments, inside a checkpoint (in its sink's pre-commit) and between a completed
// checkpoint and its commit - and restarted each time; the output it finally published equals a
// failure-free run's, line for line: nothing lost, nothing repeated. Also across restarts with
// another parallelism (2 -> 3 -> 1 -> 2).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;

struct JobRun {
  bool killed = false;    // ended by SIGKILL
  int exit_code = -1;     // when it exited
};

pid_t start_job(const std::vector<std::string>& args, const std::string& log) {
  pid_t child = ::fork();
  if (child == 0) {
    FILE* out = std::freopen(log.c_str(), "a", stdout);
    FILE* err = std::freopen(log.c_str(), "a", stderr);
    (void)out;
    (void)err;
    std::vector<const char*> argv = {STREAMSTATE_PIPELINE_JOB};
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    argv.push_back(nullptr);
    ::execv(argv[0], const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  return child;
}

// Runs the job; kills it after `kill_after_millis` unless it ends first (-1: never).
JobRun run_job(const std::vector<std::string>& args, const std::string& log, int64_t kill_after_millis) {
  JobRun run;
  const pid_t child = start_job(args, log);
  if (child <= 0) return run;
  int status = 0;
  if (kill_after_millis >= 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_millis);
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(child, &status, WNOHANG) == child) {
        run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return run;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(child, SIGKILL);
  }
  ::waitpid(child, &status, 0);
  run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// Every line of every published file under `directory` (hidden staging files excluded), sorted.
std::vector<std::string> published_lines(const std::string& directory) {
  std::vector<std::string> lines;
  if (!fs::exists(directory)) return lines;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (!entry.is_regular_file() || entry.path().filename().string().starts_with(".")) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string difference(const std::vector<std::string>& actual, const std::vector<std::string>& expected) {
  std::map<std::string, int> count;
  for (const auto& r : actual) ++count[r];
  for (const auto& r : expected) --count[r];
  std::string out;
  int shown = 0;
  for (const auto& [record, n] : count) {
    if (n == 0 || ++shown > 10) continue;
    out += (n > 0 ? "\n  extra " : "\n  missing ") + record + " x" + std::to_string(n > 0 ? n : -n);
  }
  return out;
}

std::vector<std::string> job_args(const std::string& root, const std::string& state, uint32_t parallelism) {
  return {"--checkpoints", root + "/checkpoints", "--output", root + "/output", "--state", state,
          "--events", "150000", "--users", "400", "--seed", "11", "--parallelism", std::to_string(parallelism),
          "--interval-millis", "40", "--rate", "50000"};
}

// Kills and restarts the job until it completes; `parallelism_of(round)` per start.
void kill_until_done(const std::string& state_kind, const std::function<uint32_t(int)>& parallelism_of) {
  testing::TempDir reference_dir;
  testing::TempDir crash_dir;
  const std::string log = crash_dir.file("job.log");
  auto state_for = [&](const testing::TempDir& dir) {
    return state_kind == "rocksdb" ? "rocksdb:" + dir.file("state") : std::string("memory");
  };
  JobRun reference = run_job(job_args(reference_dir.path().string(), state_for(reference_dir), 2), log, -1);
  ASSERT_EQ(reference.exit_code, 0) << "the failure-free run failed; see " << log;
  const std::vector<std::string> expected = published_lines(reference_dir.file("output"));
  ASSERT_GT(expected.size(), 150000u);

  const uint32_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  int kills = 0;
  bool done = false;
  for (int round = 0; round < 40 && !done; ++round) {
    std::vector<std::string> args = job_args(crash_dir.path().string(), state_for(crash_dir), parallelism_of(round));
    int64_t kill_after = std::uniform_int_distribution<int64_t>(60, 450)(random);
    if (round % 3 == 1) {
      args.insert(args.end(), {"--kill-in-pre-commit", std::to_string(std::uniform_int_distribution<int>(1, 6)(random))});
      kill_after = 5000;
    } else if (round % 3 == 2) {
      args.insert(args.end(), {"--kill-in-commit", std::to_string(std::uniform_int_distribution<int>(1, 4)(random))});
      kill_after = 5000;
    }
    JobRun run = run_job(args, log, round < 16 ? kill_after : -1);
    if (run.killed) {
      ++kills;
      continue;
    }
    ASSERT_EQ(run.exit_code, 0) << "round " << round << " failed; see " << log;
    done = true;
  }
  ASSERT_TRUE(done) << "the job never completed; see " << log;
  EXPECT_GE(kills, 10);
  const std::vector<std::string> actual = published_lines(crash_dir.file("output"));
  EXPECT_EQ(actual.size(), expected.size());
  EXPECT_TRUE(actual == expected) << difference(actual, expected);
}

TEST(PipelineKill, MemoryStateOutputEqualsAFailureFreeRun) {
  kill_until_done("memory", [](int) { return 2u; });
}

TEST(PipelineKill, RocksDbStateOutputEqualsAFailureFreeRun) {
  kill_until_done("rocksdb", [](int) { return 2u; });
}

TEST(PipelineKill, RestartsWithAnotherParallelismKeepTheOutputExact) {
  kill_until_done("rocksdb", [](int round) {
    static constexpr uint32_t kParallelism[] = {2, 3, 1, 2};
    return kParallelism[round % 4];
  });
}

}  // namespace
}  // namespace streamstate
