// Pipelines end to end in one process: chaining, keyed state across instances, event-time
// timers, failures, and exactly-once resumption after a crash - also into another parallelism.
#include "streamstate/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "streamstate/map_state.h"
#include "streamstate/sinks.h"
#include "streamstate/value_state.h"
#include "streamstate/config.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/runtime/pipeline_fixtures.h"

namespace streamstate {
namespace {

using testing::CollectedOutput;
using testing::CollectingSink;
using testing::NumberedSource;

struct Click {
  std::string user;
  int64_t time = 0;
};

// Record i of split s: user (s * 7 + i) % users, event time i * 3 + s.
std::shared_ptr<NumberedSource<Click>> clicks(uint32_t splits, uint64_t per_split, uint32_t users) {
  return std::make_shared<NumberedSource<Click>>(splits, per_split, [users](uint32_t s, uint64_t i) {
    return Click{"user-" + std::to_string((s * 7 + i) % users), static_cast<int64_t>(i * 3 + s)};
  });
}

// Emits "user:n" for the n-th click of each user, and "user@window:count" for each 100-ms
// event-time window when the watermark passes it.
class CountAndWindow final : public KeyedProcessFunction<Click, std::string> {
 public:
  Status open(OperatorContext& context) override {
    Result<ValueState<int64_t>> count =
        context.state().value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
    if (!count.is_ok()) return count.status();
    count_ = std::move(*count);
    Result<MapState<int64_t, int64_t>> windows =
        context.state().map_state(MapStateDescriptor<int64_t, int64_t>{.name = "windows"});
    if (!windows.is_ok()) return windows.status();
    windows_ = std::move(*windows);
    return Status::ok();
  }
  Status process(const Click& click, ProcessContext<std::string>& context) override {
    Result<int64_t> n = count_->update_with([](int64_t v) { return v + 1; });
    if (!n.is_ok()) return n.status();
    context.emit(click.user + ":" + std::to_string(*n));
    const int64_t window_end = (click.time / 100 + 1) * 100;
    Result<std::optional<int64_t>> in_window = windows_->get(window_end);
    if (!in_window.is_ok()) return in_window.status();
    if (Status status = windows_->put(window_end, in_window->value_or(0) + 1); !status.is_ok()) return status;
    return context.register_timer(TimeDomain::kEventTime, window_end - 1);
  }
  Status on_timer(TimeDomain, int64_t time, ProcessContext<std::string>& context) override {
    const int64_t window_end = time + 1;
    Result<std::optional<int64_t>> in_window = windows_->get(window_end);
    if (!in_window.is_ok()) return in_window.status();
    if (!in_window->has_value()) return Status::internal("a timer without its window");
    context.emit(std::string(context.key()) + "@" + std::to_string(window_end) + ":" +
                 std::to_string(**in_window));
    return windows_->remove(window_end);
  }

 private:
  std::optional<ValueState<int64_t>> count_;
  std::optional<MapState<int64_t, int64_t>> windows_;
};

struct JobShape {
  uint32_t source_parallelism = 2;
  uint32_t keyed_parallelism = 2;
};

// Builds the test job over `source` into `output`.
void build_job(Pipeline& pipeline, std::shared_ptr<NumberedSource<Click>> source,
               std::shared_ptr<CollectedOutput<std::string>> output, JobShape shape) {
  pipeline
      .source<Click>("clicks", source,
                     {.parallelism = shape.source_parallelism,
                      .event_time = [](const Click& c) { return c.time; },
                      .max_out_of_order_millis = 10})
      .key_by([](const Click& c) { return c.user; })
      .process<std::string>("count", [] { return std::make_unique<CountAndWindow>(); },
                            {.parallelism = shape.keyed_parallelism})
      .sink("out", std::make_shared<CollectingSink<std::string>>(output));
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Lists what one output has that the other has not (as multisets), for failure messages.
std::string difference(const std::vector<std::string>& actual, const std::vector<std::string>& expected) {
  std::map<std::string, int> count;
  for (const auto& r : actual) ++count[r];
  for (const auto& r : expected) --count[r];
  std::string out;
  int shown = 0;
  for (const auto& [record, n] : count) {
    if (n == 0) continue;
    if (++shown > 20) break;
    out += (n > 0 ? " extra " : " missing ") + record + " x" + std::to_string(n > 0 ? n : -n) + ";";
  }
  return out;
}

std::vector<std::string> failure_free_output(uint32_t splits, uint64_t per_split, uint32_t users) {
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "reference"});
  build_job(pipeline, clicks(splits, per_split, users), output, {});
  Result<PipelineResult> result = pipeline.run();
  EXPECT_OK(result.status());
  return sorted(output->records());
}

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

// The state backends a resumed pipeline is tested on.
enum class StateKind { kMemory, kRocksDb, kRocksDbWithCache };

class PipelineResume : public ::testing::TestWithParam<StateKind> {
 protected:
  // False when this build cannot run the parameter's backend.
  bool configure(PipelineOptions& options) {
    if (GetParam() == StateKind::kMemory) return true;
#if STREAMSTATE_HAS_ROCKSDB
    options.state_backend = rocksdb_state(directory_.file("state"));
    if (GetParam() == StateKind::kRocksDbWithCache) options.write_back_cache = WriteBackCacheOptions{.max_bytes = 8192};
    return true;
#else
    (void)options;
    return false;
#endif
  }
  testing::TempDir directory_;
};

TEST_P(PipelineResume, AfterCrashesTheOutputIsExactlyTheFailureFreeOne) {
  const std::vector<std::string> expected = failure_free_output(3, 2000, 17);
  std::shared_ptr<CheckpointStorage> storage = open_memory_storage();
  auto output = std::make_shared<CollectedOutput<std::string>>();
  int crashes = 0;
  size_t committed_before_last_run = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto source = clicks(3, 2000, 17);
    source->pace(10, 1000);
    if (attempt < 4) source->fail_after(1500);
    PipelineOptions options{.name = "resumed", .checkpoints = storage, .checkpoint_interval_millis = 1};
    if (!configure(options)) GTEST_SKIP() << "built without RocksDB";
    Pipeline pipeline(options);
    build_job(pipeline, source, output, {});
    committed_before_last_run = output->records().size();
    Result<PipelineResult> result = pipeline.run();
    if (result.is_ok()) {
      // The last run resumed from a checkpoint: it did not start over.
      EXPECT_TRUE(result->metrics.restored_from.has_value());
      EXPECT_LT(source->emitted(), 6000u);
      break;
    }
    ++crashes;
    EXPECT_THAT(result.status().message(), ::testing::HasSubstr("injected crash"));
  }
  EXPECT_GE(crashes, 3);
  // Output committed by the crashed runs stays, and is not repeated.
  EXPECT_GT(committed_before_last_run, 0u);
  EXPECT_TRUE(sorted(output->records()) == expected) << difference(sorted(output->records()), expected);
}

INSTANTIATE_TEST_SUITE_P(States, PipelineResume,
                         ::testing::Values(StateKind::kMemory, StateKind::kRocksDb, StateKind::kRocksDbWithCache),
                         [](const ::testing::TestParamInfo<StateKind>& kind) {
                           switch (kind.param) {
                             case StateKind::kMemory: return std::string("Memory");
                             case StateKind::kRocksDb: return std::string("RocksDb");
                             case StateKind::kRocksDbWithCache: return std::string("RocksDbWithWriteBackCache");
                           }
                           return std::string("Unknown");
                         });

TEST(Pipeline, ResumesIntoAnotherParallelism) {
  const std::vector<std::string> expected = failure_free_output(3, 2000, 17);
  std::shared_ptr<CheckpointStorage> storage = open_memory_storage();
  auto output = std::make_shared<CollectedOutput<std::string>>();
  const std::vector<uint32_t> parallelism = {2, 3, 1, 2};
  for (size_t attempt = 0; attempt < parallelism.size(); ++attempt) {
    auto source = clicks(3, 2000, 17);
    source->pace(10, 1000);
    if (attempt + 1 < parallelism.size()) source->fail_after(1500);
    Pipeline pipeline({.name = "rescaled", .checkpoints = storage, .checkpoint_interval_millis = 1});
    build_job(pipeline, source, output, {.source_parallelism = 2, .keyed_parallelism = parallelism[attempt]});
    Result<PipelineResult> result = pipeline.run();
    EXPECT_EQ(result.is_ok(), attempt + 1 == parallelism.size()) << result.status().to_string();
    if (result.is_ok()) {
      EXPECT_TRUE(result->metrics.restored_from.has_value());
    }
  }
  EXPECT_TRUE(sorted(output->records()) == expected) << difference(sorted(output->records()), expected);
}

// Sends each number to the main output, its square to side output "squares" when it is odd,
// and its text to side output "texts".
class SplitNumbers final : public KeyedProcessFunction<int64_t, int64_t> {
 public:
  static inline const SideOutput<int64_t> kSquares{"squares"};
  static inline const SideOutput<std::string> kTexts{"texts"};
  Status process(const int64_t& n, ProcessContext<int64_t>& context) override {
    context.emit(n);
    if (n % 2 != 0) context.emit_to(kSquares, n * n);
    context.emit_to(kTexts, "n=" + std::to_string(n));
    return Status::ok();
  }
};

TEST(Pipeline, SideOutputsReachTheirOwnSinks) {
  auto source = std::make_shared<NumberedSource<int64_t>>(2, 50, [](uint32_t s, uint64_t i) {
    return static_cast<int64_t>(s * 100 + i);
  });
  auto main_out = std::make_shared<CollectedOutput<int64_t>>();
  auto squares = std::make_shared<CollectedOutput<int64_t>>();
  auto texts = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "sides", .checkpoints = open_memory_storage(), .checkpoint_interval_millis = 1});
  auto processed = pipeline.source<int64_t>("numbers", source, {.parallelism = 2})
                       .key_by([](const int64_t& n) { return std::to_string(n % 7); })
                       .process<int64_t>("split", [] { return std::make_unique<SplitNumbers>(); }, {.parallelism = 2});
  processed.sink("main", std::make_shared<CollectingSink<int64_t>>(main_out));
  processed.side_output(SplitNumbers::kSquares).sink("squares", std::make_shared<CollectingSink<int64_t>>(squares));
  processed.side_output(SplitNumbers::kTexts).sink("texts", std::make_shared<CollectingSink<std::string>>(texts));
  Result<PipelineResult> result = pipeline.run();
  ASSERT_OK(result.status());
  std::vector<int64_t> all;
  std::vector<int64_t> odd_squares;
  std::vector<std::string> all_texts;
  for (int64_t s = 0; s < 2; ++s) {
    for (int64_t i = 0; i < 50; ++i) {
      const int64_t n = s * 100 + i;
      all.push_back(n);
      if (n % 2 != 0) odd_squares.push_back(n * n);
      all_texts.push_back("n=" + std::to_string(n));
    }
  }
  auto sort = [](auto v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sort(main_out->records()), sort(all));
  EXPECT_EQ(sort(squares->records()), sort(odd_squares));
  EXPECT_EQ(sort(texts->records()), sort(all_texts));
}

TEST(Pipeline, ReadingASideOutputWithAnotherTypeIsABuildError) {
  auto source = std::make_shared<NumberedSource<int64_t>>(1, 1, [](uint32_t, uint64_t i) {
    return static_cast<int64_t>(i);
  });
  Pipeline pipeline;
  auto processed = pipeline.source<int64_t>("numbers", source)
                       .key_by([](const int64_t& n) { return std::to_string(n); })
                       .process<int64_t>("split", [] { return std::make_unique<SplitNumbers>(); });
  (void)processed.side_output(SideOutput<int64_t>("texts"));
  (void)processed.side_output(SideOutput<std::string>("texts"));
  Result<PipelineResult> result = pipeline.run();
  EXPECT_STATUS(result.status(), StatusCode::kInvalidArgument, "side output 'texts' is read with two record types");
}

// Counts records per key; every 50th record (after the first) arrives 1,000 ms behind.
class CountPerKey final : public KeyedProcessFunction<Click, std::string> {
 public:
  Status process(const Click& click, ProcessContext<std::string>& context) override {
    context.emit(click.user + "@" + std::to_string(click.time));
    return Status::ok();
  }
};

std::shared_ptr<NumberedSource<Click>> clicks_with_late_ones() {
  auto source = std::make_shared<NumberedSource<Click>>(1, 500, [](uint32_t, uint64_t i) {
    const int64_t time = static_cast<int64_t>(i) * 10 - (i % 50 == 0 ? 1000 : 0);
    return Click{"user-" + std::to_string(i % 5), time};
  });
  source->pace(10, 0);  // the late record opens a poll: the watermark of the previous one is ahead of it
  return source;
}

TEST(Pipeline, LateRecordsGoToTheirStreamOrAreCountedAsDropped) {
  for (bool read_late : {true, false}) {
    SCOPED_TRACE(read_late ? "late records read" : "late records not read");
    auto main_out = std::make_shared<CollectedOutput<std::string>>();
    auto late_out = std::make_shared<CollectedOutput<int64_t>>();
    Pipeline pipeline({.name = "late"});
    auto processed = pipeline
                         .source<Click>("clicks", clicks_with_late_ones(),
                                        {.event_time = [](const Click& c) { return c.time; }})
                         .key_by([](const Click& c) { return c.user; })
                         .process<std::string>("count", [] { return std::make_unique<CountPerKey>(); });
    processed.sink("main", std::make_shared<CollectingSink<std::string>>(main_out));
    if (read_late) {
      processed.late_records()
          .map("late-time", [](const Click& c) { return c.time; })
          .sink("late", std::make_shared<CollectingSink<int64_t>>(late_out));
    }
    Result<PipelineResult> result = pipeline.run();
    ASSERT_OK(result.status());
    std::vector<int64_t> late_times;
    for (int64_t i = 50; i < 500; i += 50) late_times.push_back(i * 10 - 1000);
    EXPECT_EQ(main_out->records().size(), 500u - late_times.size());
    const auto& ops = result->metrics.operators;
    auto count = std::find_if(ops.begin(), ops.end(), [](const OperatorMetrics& m) { return m.name == "count"; });
    ASSERT_NE(count, ops.end());
    if (read_late) {
      std::vector<int64_t> got = late_out->records();
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, late_times);
      EXPECT_EQ(count->late_records_dropped, 0u);
    } else {
      EXPECT_EQ(count->late_records_dropped, late_times.size());
    }
  }
}

// Emits "<key>@<time>" when an event-time or processing-time timer of its key fires; registers
// an event-time timer at each record's time + 100 and a processing-time timer 1 s after the
// first record of each key.
class TimerEcho final : public KeyedProcessFunction<Click, std::string> {
 public:
  Status open(OperatorContext& context) override {
    Result<ValueState<bool>> seen = context.state().value_state(ValueStateDescriptor<bool>{.name = "seen"});
    if (!seen.is_ok()) return seen.status();
    seen_ = std::move(*seen);
    return Status::ok();
  }
  Status process(const Click& click, ProcessContext<std::string>& context) override {
    if (Status status = context.register_timer(TimeDomain::kEventTime, click.time + 100); !status.is_ok()) {
      return status;
    }
    Result<std::optional<bool>> seen = seen_->value();
    if (!seen.is_ok()) return seen.status();
    if (seen->has_value()) return Status::ok();
    if (Status status = seen_->update(true); !status.is_ok()) return status;
    return context.register_timer(TimeDomain::kProcessingTime, context.processing_time() + 1000);
  }
  Status on_timer(TimeDomain domain, int64_t time, ProcessContext<std::string>& context) override {
    context.emit(std::string(domain == TimeDomain::kEventTime ? "event " : "processing ") +
                 std::string(context.key()) + "@" + std::to_string(time));
    return Status::ok();
  }

 private:
  std::optional<ValueState<bool>> seen_;
};

// Runs `pipeline` on a thread until `done()` holds for its committed output (checked every
// millisecond, at most 20 s), then drains it.
template <typename F>
Result<PipelineResult> run_until(Pipeline& pipeline, F done) {
  Result<PipelineResult> result = Status::internal("not run");
  std::thread runner([&] { result = pipeline.run(); });
  for (int i = 0; i < 20'000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  pipeline.stop(StopMode::kSuspend);
  runner.join();
  return result;
}

bool contains(const std::vector<std::string>& records, const std::string& wanted) {
  return std::find(records.begin(), records.end(), wanted) != records.end();
}

TEST(Pipeline, AnIdleSourceInstanceStopsHoldingBackTheWatermark) {
  // Instance 0 reads three clicks and then waits for more; instance 1 has nothing at all.
  auto source = std::make_shared<testing::EndlessSource<Click>>(
      std::vector<Click>{{"a", 1000}, {"b", 2000}, {"a", 5000}});
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "idle", .checkpoints = open_memory_storage(), .checkpoint_interval_millis = 5});
  pipeline
      .source<Click>("clicks", source,
                     {.parallelism = 2, .event_time = [](const Click& c) { return c.time; }, .idle_timeout_millis = 20})
      .key_by([](const Click& c) { return c.user; })
      .process<std::string>("echo", [] { return std::make_unique<TimerEcho>(); }, {.parallelism = 2})
      .sink("out", std::make_shared<CollectingSink<std::string>>(output));
  // The watermark reaches 4999 (the last click minus 1): the timers at 1100 and 2100 fire
  // though both instances wait forever, the one at 5100 does not.
  Result<PipelineResult> result = run_until(pipeline, [&] {
    std::vector<std::string> records = output->records();
    return contains(records, "event a@1100") && contains(records, "event b@2100");
  });
  ASSERT_OK(result.status());
  std::vector<std::string> records = output->records();
  EXPECT_TRUE(contains(records, "event a@1100"));
  EXPECT_TRUE(contains(records, "event b@2100"));
  EXPECT_FALSE(contains(records, "event a@5100"));
}

TEST(Pipeline, ProcessingTimeTimersFollowThePipelineClock) {
  auto clock = std::make_shared<ManualClock>(1'000'000);
  auto source = std::make_shared<testing::EndlessSource<Click>>(std::vector<Click>{{"a", 1}, {"b", 2}});
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "processing-time",
                     .checkpoints = open_memory_storage(),
                     .checkpoint_interval_millis = 5,
                     .clock = clock});
  pipeline.source<Click>("clicks", source)
      .key_by([](const Click& c) { return c.user; })
      .process<std::string>("echo", [] { return std::make_unique<TimerEcho>(); })
      .sink("out", std::make_shared<CollectingSink<std::string>>(output));
  bool advanced = false;
  Result<PipelineResult> result = run_until(pipeline, [&] {
    const PipelineMetrics metrics = pipeline.metrics();
    for (const OperatorMetrics& op : metrics.operators) {
      if (op.name == "echo" && op.records_in == 2 && !advanced) {
        // Both clicks processed at 1,000,000: their timers are due at 1,001,000.
        EXPECT_TRUE(output->records().empty());
        clock->advance_millis(999);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        EXPECT_TRUE(output->records().empty()) << "a processing-time timer fired before its time";
        clock->advance_millis(1);
        advanced = true;
      }
    }
    std::vector<std::string> records = output->records();
    return contains(records, "processing a@1001000") && contains(records, "processing b@1001000");
  });
  ASSERT_OK(result.status());
  EXPECT_TRUE(advanced);
  std::vector<std::string> records = output->records();
  EXPECT_TRUE(contains(records, "processing a@1001000"));
  EXPECT_TRUE(contains(records, "processing b@1001000"));
}

// Counts records per key, emitting "<key>:<n>".
template <typename T>
class CountRecords final : public KeyedProcessFunction<T, std::string> {
 public:
  Status open(OperatorContext& context) override {
    Result<ValueState<int64_t>> count =
        context.state().value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
    if (!count.is_ok()) return count.status();
    count_ = std::move(*count);
    return Status::ok();
  }
  Status process(const T&, ProcessContext<std::string>& context) override {
    Result<int64_t> n = count_->update_with([](int64_t v) { return v + 1; });
    if (!n.is_ok()) return n.status();
    context.emit(std::string(context.key()) + ":" + std::to_string(*n));
    return Status::ok();
  }

 private:
  std::optional<ValueState<int64_t>> count_;
};

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

TEST(Pipeline, ALocalCopyRestoresWhenTheRemoteDataFilesAreDamaged) {
  const std::vector<std::string> expected = failure_free_output(3, 2000, 17);
  testing::TempDir remote_dir;
  testing::TempDir local_dir;
  Result<std::unique_ptr<CheckpointStorage>> remote = open_directory_storage({.path = remote_dir.file("chk")});
  ASSERT_OK(remote.status());
  std::shared_ptr<CheckpointStorage> storage = std::move(*remote);
  auto output = std::make_shared<CollectedOutput<std::string>>();
  auto run = [&](bool local, uint64_t fail_after) {
    auto source = clicks(3, 2000, 17);
    source->pace(10, 1000);
    if (fail_after > 0) source->fail_after(fail_after);
    PipelineOptions options{.name = "local", .checkpoints = storage, .checkpoint_interval_millis = 1};
    if (local) options.local_recovery_directory = local_dir.file("copy");
    Pipeline pipeline(options);
    build_job(pipeline, source, output, {});
    return pipeline.run();
  };
  // A first run to the end (its final checkpoint is what the next runs restore).
  Result<PipelineResult> first = run(true, 0);
  ASSERT_OK(first.status());
  // Damage every state file in the remote storage.
  int damaged = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(remote_dir.file("chk"))) {
    if (!entry.is_regular_file() || entry.path().filename() != "state.snap") continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(20);
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    file.seekp(20);
    file.write(&byte, 1);
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  Result<PipelineResult> without_copy = run(false, 0);
  EXPECT_STATUS(without_copy.status(), StatusCode::kCorruption, "state.snap");
  Result<PipelineResult> with_copy = run(true, 0);
  ASSERT_OK(with_copy.status());
  EXPECT_TRUE(with_copy->metrics.restored_from.has_value());
  EXPECT_TRUE(sorted(output->records()) == expected) << difference(sorted(output->records()), expected);
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
