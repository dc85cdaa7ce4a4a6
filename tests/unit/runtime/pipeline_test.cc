// Pipelines end to end in one process: chaining, keyed state across instances and stages,
// event-time timers, at-least-once mode, and how mistakes and bad records are reported.
#include "unit/runtime/pipeline_test_jobs.h"

namespace streamstate {
namespace {

using namespace pipeline_tests;
using testing::CollectedOutput;
using testing::CollectingSink;
using testing::NumberedSource;

TEST(Pipeline, ChainsStatelessOperatorsAndCommitsAtTheEnd) {
  auto source = std::make_shared<NumberedSource<int64_t>>(2, 100, [](uint32_t s, uint64_t i) {
    return static_cast<int64_t>(s * 1000 + i);
  });
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "stateless"});
  pipeline.source<int64_t>("numbers", source, {.parallelism = 2})
      .filter("even", [](const int64_t& n) { return n % 2 == 0; })
      .map("text", [](const int64_t& n) { return std::to_string(n * 10); })
      .sink("out", std::make_shared<CollectingSink<std::string>>(output));
  Result<PipelineResult> result = pipeline.run();
  ASSERT_OK(result.status());
  std::vector<std::string> expected;
  for (int64_t s = 0; s < 2; ++s) {
    for (int64_t i = 0; i < 100; i += 2) expected.push_back(std::to_string((s * 1000 + i) * 10));
  }
  EXPECT_EQ(sorted(output->records()), sorted(expected));
  const auto& ops = result->metrics.operators;
  auto even = std::find_if(ops.begin(), ops.end(), [](const OperatorMetrics& m) { return m.name == "even"; });
  ASSERT_NE(even, ops.end());
  EXPECT_EQ(even->records_in, 200u);
  EXPECT_EQ(even->records_out, 100u);
}

TEST(Pipeline, KeyedStateAndEventTimeTimersGiveExactCounts) {
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "counts", .checkpoints = open_memory_storage(), .checkpoint_interval_millis = 1});
  build_job(pipeline, clicks(3, 400, 13), output, {.source_parallelism = 2, .keyed_parallelism = 3});
  Result<PipelineResult> result = pipeline.run();
  ASSERT_OK(result.status());
  // Every click counted once per user, every window emitted once with its clicks.
  std::map<std::string, int64_t> clicks_per_user;
  std::map<std::string, int64_t> windows;
  for (uint32_t s = 0; s < 3; ++s) {
    for (uint64_t i = 0; i < 400; ++i) {
      const std::string user = "user-" + std::to_string((s * 7 + i) % 13);
      ++clicks_per_user[user];
      ++windows[user + "@" + std::to_string((static_cast<int64_t>(i * 3 + s) / 100 + 1) * 100)];
    }
  }
  std::vector<std::string> expected;
  for (const auto& [user, n] : clicks_per_user) {
    for (int64_t k = 1; k <= n; ++k) expected.push_back(user + ":" + std::to_string(k));
  }
  for (const auto& [window, n] : windows) expected.push_back(window + ":" + std::to_string(n));
  EXPECT_EQ(sorted(output->records()), sorted(expected));
  EXPECT_GE(result->metrics.checkpoints.completed, 1u);
}

TEST(Pipeline, AKeyedStageCanFeedAnotherKeyedStage) {
  // Clicks counted per user (3 instances), then the per-user lines counted per user parity
  // (2 instances): every line of the first stage reaches the second once.
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "two-stages", .checkpoints = open_memory_storage(), .checkpoint_interval_millis = 1});
  pipeline.source<Click>("clicks", clicks(2, 300, 10), {.parallelism = 2})
      .key_by([](const Click& c) { return c.user; })
      .process<std::string>("per-user", [] { return std::make_unique<CountRecords<Click>>(); }, {.parallelism = 3})
      .key_by([](const std::string& line) {
        const int user = std::stoi(line.substr(5, line.find(':') - 5));
        return std::string(user % 2 == 0 ? "even" : "odd");
      })
      .process<std::string>("per-parity", [] { return std::make_unique<CountRecords<std::string>>(); },
                            {.parallelism = 2})
      .sink("out", std::make_shared<CollectingSink<std::string>>(output));
  Result<PipelineResult> result = pipeline.run();
  ASSERT_OK(result.status());
  int64_t even = 0;
  for (uint32_t s = 0; s < 2; ++s) {
    for (uint64_t i = 0; i < 300; ++i) even += ((s * 7 + i) % 10) % 2 == 0 ? 1 : 0;
  }
  std::vector<std::string> expected;
  for (int64_t k = 1; k <= even; ++k) expected.push_back("even:" + std::to_string(k));
  for (int64_t k = 1; k <= 600 - even; ++k) expected.push_back("odd:" + std::to_string(k));
  EXPECT_EQ(sorted(output->records()), sorted(expected));
}

TEST(Pipeline, AtLeastOnceModeGivesTheSameOutputWithoutFailures) {
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "at-least-once",
                     .checkpoints = open_memory_storage(),
                     .checkpoint_interval_millis = 1,
                     .mode = CheckpointingMode::kAtLeastOnce});
  build_job(pipeline, clicks(3, 400, 13), output, {.source_parallelism = 2, .keyed_parallelism = 2});
  Result<PipelineResult> result = pipeline.run();
  ASSERT_OK(result.status());
  EXPECT_GE(result->metrics.checkpoints.completed, 1u);
  EXPECT_EQ(sorted(output->records()), failure_free_output(3, 400, 13));
}

TEST(Pipeline, ASinkThatCannotBeMadeIsReportedByRun) {
  testing::TempDir directory;
  { std::ofstream(directory.file("a-file")) << "not a directory"; }
  auto source = std::make_shared<NumberedSource<int64_t>>(1, 1, [](uint32_t, uint64_t i) {
    return static_cast<int64_t>(i);
  });
  Pipeline pipeline;
  pipeline.source<int64_t>("numbers", source)
      .map("text", [](const int64_t& n) { return std::to_string(n); })
      .sink("files", file_sink<std::string>({.directory = directory.file("a-file") + "/out"}));
  Result<PipelineResult> result = pipeline.run();
  EXPECT_FALSE(result.is_ok());
  EXPECT_THAT(result.status().message(), ::testing::HasSubstr("sink 'files'"));
  EXPECT_THAT(result.status().message(), ::testing::HasSubstr("a-file/out"));
}

TEST(Pipeline, AKeyExtractorThatFailedToBuildIsReportedByRun) {
  auto source = std::make_shared<NumberedSource<nlohmann::json>>(1, 1, [](uint32_t, uint64_t i) {
    return nlohmann::json{{"n", i}};
  });
  Pipeline pipeline;
  pipeline.source<nlohmann::json>("records", source)
      .key_by(json_field_key("user..id"))
      .process<std::string>("count", [] { return std::make_unique<CountRecords<nlohmann::json>>(); });
  Result<PipelineResult> result = pipeline.run();
  EXPECT_STATUS(result.status(), StatusCode::kInvalidArgument, "key_by: ");
}

// Every third record has no "user" field.
std::shared_ptr<NumberedSource<nlohmann::json>> records_missing_keys() {
  return std::make_shared<NumberedSource<nlohmann::json>>(1, 30, [](uint32_t, uint64_t i) {
    if (i % 3 == 2) return nlohmann::json{{"n", i}};
    return nlohmann::json{{"user", "u" + std::to_string(i % 2)}, {"n", i}};
  });
}

TEST(Pipeline, RecordsWithoutAKeyFailNamingTheSourcePositionOrAreSkipped) {
  {
    Pipeline pipeline;
    pipeline.source<nlohmann::json>("records", records_missing_keys())
        .key_by(json_field_key("user"))
        .process<std::string>("count", [] { return std::make_unique<CountRecords<nlohmann::json>>(); });
    Result<PipelineResult> result = pipeline.run();
    EXPECT_STATUS(result.status(), StatusCode::kAborted, "key_by 'count' failed on record {\"n\":2}");
    EXPECT_THAT(result.status().message(), ::testing::HasSubstr("source 'records' instance 0"));
    EXPECT_THAT(result.status().message(), ::testing::HasSubstr("split-0 at "));
  }
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline;
  pipeline.source<nlohmann::json>("records", records_missing_keys())
      .key_by(json_field_key("user"))
      .process<std::string>("count", [] { return std::make_unique<CountRecords<nlohmann::json>>(); },
                            {.malformed_records = MalformedRecords::kSkip})
      .sink("out", std::make_shared<CollectingSink<std::string>>(output));
  Result<PipelineResult> result = pipeline.run();
  ASSERT_OK(result.status());
  EXPECT_EQ(output->records().size(), 20u);
  const auto& ops = result->metrics.operators;
  auto count = std::find_if(ops.begin(), ops.end(), [](const OperatorMetrics& m) { return m.name == "count"; });
  ASSERT_NE(count, ops.end());
  EXPECT_EQ(count->malformed_records_skipped, 10u);
}

TEST(Pipeline, UserErrorsNameTheOperatorAndTheRecord) {
  auto source = std::make_shared<NumberedSource<int64_t>>(1, 10, [](uint32_t, uint64_t i) {
    return static_cast<int64_t>(i);
  });
  Pipeline pipeline;
  pipeline.source<int64_t>("numbers", source)
      .map("explode", [](const int64_t& n) -> int64_t {
        if (n == 7) throw std::runtime_error("seven is not allowed");
        return n;
      });
  Result<PipelineResult> result = pipeline.run();
  EXPECT_STATUS(result.status(), StatusCode::kAborted, "map 'explode' failed on record 7: seven is not allowed");
}

TEST(Pipeline, BuildMistakesAreReportedByRun) {
  auto source = std::make_shared<NumberedSource<int64_t>>(1, 1, [](uint32_t, uint64_t i) {
    return static_cast<int64_t>(i);
  });
  Pipeline pipeline;
  auto numbers = pipeline.source<int64_t>("numbers", source);
  numbers.map("numbers", [](const int64_t& n) { return n; });
  Result<PipelineResult> result = pipeline.run();
  EXPECT_STATUS(result.status(), StatusCode::kInvalidArgument, "'numbers' is used twice");
}

}  // namespace
}  // namespace streamstate
