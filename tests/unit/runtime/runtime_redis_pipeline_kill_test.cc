// The exactly-once proof over Redis Streams, against a real redis-server: the job program
// (streamstate_pipeline_job --redis) reads generated clicks from four streams with the Redis
// Streams source (a stream per split), keys them by user, keeps a running count and sum and a
// 10-second event-time window with timers, and appends its lines to an output stream through
// the exactly-once Redis Streams sink, with checkpoints to a directory. It is killed with
// SIGKILL again and again - at random moments, inside a checkpoint (in its sink's pre-commit)
// and between a completed checkpoint and its commit - and restarted each time; the entries it
// finally appended to its output stream equal a failure-free run's: nothing lost, nothing
// appended twice, no staged entry left behind. Also across restarts with another parallelism
// of the source and of the keyed operator (2 -> 3 -> 1). The failure-free run's output also equals
// the file job's over the same generated clicks (the clicks survive the trip through Redis).
//
// The server is not killed (only the job), so it runs without persistence.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/runtime/pipeline_kill_harness.h"

namespace streamstate {
namespace {

using testing::difference;
using testing::JobRun;
using testing::KillRounds;
using testing::RedisServer;
using testing::run_job;

constexpr const char* kEvents = "150000";
constexpr const char* kInputStreams[] = {"clicks-0", "clicks-1", "clicks-2", "clicks-3"};

// One redis-server, input and failure-free reference run for the suite's tests; each test
// kills and restarts the job into an output stream of its own.
class RedisPipelineKill : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    server_.reset();
    work_.reset();
  }

  void SetUp() override {
    if (!prepared_) {
      prepared_ = true;
      prepare_suite();
    }
    ASSERT_TRUE(ready_) << "the suite's redis-server, input or failure-free run failed (see the first test)";
  }

  // Starts the server, fills the input streams and runs the failure-free job into out-reference.
  static void prepare_suite() {
    work_ = std::make_unique<testing::TempDir>();
    Result<std::unique_ptr<RedisServer>> server = RedisServer::start();
    ASSERT_OK(server);
    server_ = std::move(server).value();
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    // The generated clicks (the file job's, for the same options), click i into clicks-<i % 4>.
    JobRun fill = run_job({"--fill-redis", address_, "--events", kEvents, "--users", "400", "--seed", "11"},
                          work_->file("fill.log"), -1);
    ASSERT_EQ(fill.exit_code, 0) << "filling the input streams failed; see " << work_->file("fill.log");
    for (const char* stream : kInputStreams) input_lengths_.push_back(stream_length(stream));
    ASSERT_EQ(input_lengths_, (std::vector<uint64_t>{37500, 37500, 37500, 37500}));

    const std::string log = work_->file("reference.log");
    JobRun reference = run_job(job_args("reference", "memory", 2, 2), log, -1);
    ASSERT_EQ(reference.exit_code, 0) << "the failure-free run failed; see " << log;
    expected_ = published_lines("out-reference");
    ASSERT_GT(expected_.size(), 150000u);
    ASSERT_EQ(staging_lists("out-reference"), std::vector<std::string>{});
    // The clicks went through Redis unchanged: the file job over the generator itself
    // publishes the same lines.
    JobRun files = run_job({"--checkpoints", work_->file("files-checkpoints"), "--output", work_->file("files"),
                            "--events", kEvents, "--users", "400", "--seed", "11"},
                           log, -1);
    ASSERT_EQ(files.exit_code, 0) << "the file job failed; see " << log;
    const std::vector<std::string> file_lines = testing::published_file_lines(work_->file("files"));
    ASSERT_TRUE(file_lines == expected_)
        << "the Redis job's lines against the file job's:" << difference(expected_, file_lines);
    ready_ = true;
  }

  static std::vector<std::string> job_args(const std::string& name, const std::string& state, uint32_t parallelism,
                                           uint32_t source_parallelism) {
    return {"--redis", address_, "--output-stream", "out-" + name, "--checkpoints", work_->file(name + "-checkpoints"),
            "--state", state, "--parallelism", std::to_string(parallelism), "--source-parallelism",
            std::to_string(source_parallelism), "--interval-millis", "40", "--rate", "50000"};
  }

  static std::string state_of(const std::string& kind, const std::string& name) {
    return kind == "rocksdb" ? "rocksdb:" + work_->file(name + "-state") : std::string("memory");
  }

  static uint64_t stream_length(const std::string& stream) {
    Result<std::vector<std::string>> length = server_->command({"XLEN", stream});
    EXPECT_OK(length);
    return length.is_ok() && length->size() == 1 ? std::stoull(length->front()) : 0;
  }

  // The "line" of every entry of `stream`, sorted; fails the test on an entry of other fields.
  // Read a page at a time: RedisServer::command re-parses its reply buffer as it grows.
  static std::vector<std::string> published_lines(const std::string& stream) {
    std::vector<std::string> lines;
    std::string after = "-";
    for (;;) {
      Result<std::vector<std::string>> flat = server_->command({"XRANGE", stream, after, "+", "COUNT", "4096"});
      EXPECT_OK(flat);
      if (!flat.is_ok() || flat->empty()) break;
      EXPECT_EQ(flat->size() % 3, 0u) << "every entry of " << stream << " is an id and one field";
      for (size_t i = 0; i + 2 < flat->size(); i += 3) {
        EXPECT_EQ((*flat)[i + 1], "line") << "entry " << (*flat)[i] << " of " << stream;
        lines.push_back((*flat)[i + 2]);
      }
      after = "(" + (*flat)[flat->size() - 3];  // after the last entry of this page
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  static std::vector<std::string> staging_lists(const std::string& stream) {
    Result<std::vector<std::string>> keys = server_->command({"KEYS", stream + ":streamstate:staging:*"});
    EXPECT_OK(keys);
    return keys.is_ok() ? *keys : std::vector<std::string>{};
  }

  // Kills and restarts the job into out-<name> (`parallelism_of(round)` for the keyed operator
  // and the source) until it completes; compares that stream with out-reference.
  void kill_until_done(const std::string& name, const std::string& state_kind,
                       const std::function<uint32_t(int)>& parallelism_of) {
    const std::string log = work_->file(name + ".log");
    const uint32_t seed = std::random_device()();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 random(seed);
    KillRounds rounds;
    testing::kill_and_restart_until_done(
        [&](int round) {
          return job_args(name, state_of(state_kind, name), parallelism_of(round), parallelism_of(round));
        },
        log, random, rounds);
    ASSERT_TRUE(rounds.completed) << "the job never completed; see " << log;
    EXPECT_GE(rounds.kills, 10);
    const std::vector<std::string> actual = published_lines("out-" + name);
    EXPECT_EQ(actual.size(), expected_.size());
    EXPECT_TRUE(actual == expected_) << difference(actual, expected_);
    EXPECT_EQ(staging_lists("out-" + name), std::vector<std::string>{}) << "staged entries left behind";
    std::vector<uint64_t> input_lengths;
    for (const char* stream : kInputStreams) input_lengths.push_back(stream_length(stream));
    EXPECT_EQ(input_lengths, input_lengths_) << "the job only reads its input streams";
  }

  static inline bool prepared_ = false;
  static inline bool ready_ = false;
  static inline std::unique_ptr<testing::TempDir> work_;
  static inline std::unique_ptr<RedisServer> server_;
  static inline std::string address_;
  static inline std::vector<uint64_t> input_lengths_;
  static inline std::vector<std::string> expected_;
};

TEST_F(RedisPipelineKill, OutputStreamEqualsAFailureFreeRun) {
  kill_until_done("memory", "memory", [](int) { return 2u; });
}

TEST_F(RedisPipelineKill, RestartsWithAnotherParallelismKeepTheOutputExact) {
  kill_until_done("rescaled", "rocksdb", [](int round) {
    static constexpr uint32_t kParallelism[] = {2, 3, 1};
    return kParallelism[(round / 2) % 3];
  });
}

}  // namespace
}  // namespace streamstate
