// The exactly-once proof: a real pipeline process (streamstate_pipeline_job: generated clicks,
// key by user, a running count and sum, a 10-second event-time window with timers, the
// exactly-once file sink, checkpoints to a directory) is killed with SIGKILL again and again -
// at random moments, inside a checkpoint (in its sink's pre-commit) and between a completed
// checkpoint and its commit - and restarted each time; the output it finally published equals a
// failure-free run's, line for line: nothing lost, nothing repeated. Also across restarts with
// another parallelism (2 -> 3 -> 1 -> 2).
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "testutil/temp_dir.h"
#include "unit/runtime/pipeline_kill_harness.h"

namespace streamstate {
namespace {

using testing::difference;
using testing::JobRun;
using testing::KillRounds;
using testing::run_job;

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
  const std::vector<std::string> expected = testing::published_file_lines(reference_dir.file("output"));
  ASSERT_GT(expected.size(), 150000u);

  const uint32_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  KillRounds rounds;
  testing::kill_and_restart_until_done(
      [&](int round) { return job_args(crash_dir.path().string(), state_for(crash_dir), parallelism_of(round)); },
      log, random, rounds);
  ASSERT_TRUE(rounds.completed) << "the job never completed; see " << log;
  EXPECT_GE(rounds.kills, 10);
  const std::vector<std::string> actual = testing::published_file_lines(crash_dir.file("output"));
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
