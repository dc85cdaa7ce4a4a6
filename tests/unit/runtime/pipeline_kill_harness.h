// The skeleton of the kill -9 proofs of the pipeline runtime: start the job program
// (streamstate_pipeline_job, a real pipeline process), kill it with SIGKILL - at random moments,
// or let it kill itself inside a checkpoint (its sink's pre-commit) or between a completed
// checkpoint and its commit - restart it, and so on until a run completes; then the test
// compares what the job published with a failure-free run's output (`difference`).
//
// Used by pipeline_kill_test.cc (the file sink) and runtime_redis_pipeline_kill_test.cc (Redis
// Streams in and out). Thread-safety: call from the test's main thread (it forks).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "unit/runtime/output_difference.h"

namespace streamstate::testing {

struct JobRun {
  bool killed = false;  // ended by SIGKILL
  int exit_code = -1;   // when it exited
};

// Forks and execs the job program with `args`, its stdout and stderr appended to `log`.
inline pid_t start_job(const std::vector<std::string>& args, const std::string& log) {
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

inline JobRun job_run_of(int status) {
  JobRun run;
  run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// Runs the job; kills it after `kill_after_millis` unless it ends first (-1: never).
inline JobRun run_job(const std::vector<std::string>& args, const std::string& log, int64_t kill_after_millis) {
  const pid_t child = start_job(args, log);
  if (child <= 0) return JobRun{};
  int status = 0;
  if (kill_after_millis >= 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_millis);
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(child, &status, WNOHANG) == child) return job_run_of(status);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(child, SIGKILL);
  }
  ::waitpid(child, &status, 0);
  return job_run_of(status);
}

// Every line of every file the file sink published under `directory` (hidden staging files
// excluded), sorted.
inline std::vector<std::string> published_file_lines(const std::string& directory) {
  namespace fs = std::filesystem;
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

struct KillRounds {
  int kills = 0;           // runs that ended by SIGKILL
  bool completed = false;  // a run processed the whole input and exited 0
};

// Runs the job - `args_of(round)` plus the round's kill - again and again until a run
// completes (at most 40 rounds). Round % 3 == 0: killed after a random 60-450 ms; 1: the job
// kills itself in a random pre-commit (1st to 3rd); 2: in a random commit (1st or 2nd). From
// round 16 on, runs are not killed from outside (so that the job completes). A run that exits
// with an error fails the test (its output is in `log`). Records the kills as the test
// property "kills".
inline void kill_and_restart_until_done(const std::function<std::vector<std::string>(int round)>& args_of,
                                        const std::string& log, std::mt19937& random, KillRounds& rounds) {
  for (int round = 0; round < 40 && !rounds.completed; ++round) {
    std::vector<std::string> args = args_of(round);
    int64_t kill_after = std::uniform_int_distribution<int64_t>(60, 450)(random);
    if (round % 3 == 1) {
      const int pre_commit = std::uniform_int_distribution<int>(1, 3)(random);
      args.insert(args.end(), {"--kill-in-pre-commit", std::to_string(pre_commit)});
      kill_after = 5000;
    } else if (round % 3 == 2) {
      const int commit = std::uniform_int_distribution<int>(1, 2)(random);
      args.insert(args.end(), {"--kill-in-commit", std::to_string(commit)});
      kill_after = 5000;
    }
    JobRun run = run_job(args, log, round < 16 ? kill_after : -1);
    if (run.killed) {
      ++rounds.kills;
      continue;
    }
    ASSERT_EQ(run.exit_code, 0) << "round " << round << " failed; see " << log;
    rounds.completed = true;
  }
  ::testing::Test::RecordProperty("kills", rounds.kills);  // in --gtest_output=xml reports
}

}  // namespace streamstate::testing
