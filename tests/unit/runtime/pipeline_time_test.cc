// Time and extra outputs: side outputs, late records, idle source instances, processing-time
// timers on a manual clock.
#include <atomic>

#include "unit/runtime/pipeline_test_jobs.h"

namespace streamstate {
namespace {

using namespace pipeline_tests;
using testing::CollectedOutput;
using testing::CollectingSink;
using testing::NumberedSource;

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
  // `processed` (when given) counts the clicks whose process() has returned: records_in counts
  // a record as it is taken in, before its timers are registered.
  explicit TimerEcho(std::shared_ptr<std::atomic<int>> processed = nullptr) : processed_(std::move(processed)) {}
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
    Status status = Status::ok();
    if (!seen->has_value()) {
      status = seen_->update(true);
      if (status.is_ok()) status = context.register_timer(TimeDomain::kProcessingTime, context.processing_time() + 1000);
    }
    if (processed_ != nullptr) processed_->fetch_add(1);
    return status;
  }
  Status on_timer(TimeDomain domain, int64_t time, ProcessContext<std::string>& context) override {
    context.emit(std::string(domain == TimeDomain::kEventTime ? "event " : "processing ") +
                 std::string(context.key()) + "@" + std::to_string(time));
    return Status::ok();
  }

 private:
  std::optional<ValueState<bool>> seen_;
  std::shared_ptr<std::atomic<int>> processed_;
};

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
  auto processed = std::make_shared<std::atomic<int>>(0);
  Pipeline pipeline({.name = "processing-time",
                     .checkpoints = open_memory_storage(),
                     .checkpoint_interval_millis = 5,
                     .clock = clock});
  pipeline.source<Click>("clicks", source)
      .key_by([](const Click& c) { return c.user; })
      .process<std::string>("echo", [processed] { return std::make_unique<TimerEcho>(processed); })
      .sink("out", std::make_shared<CollectingSink<std::string>>(output));
  bool advanced = false;
  Result<PipelineResult> result = run_until(pipeline, [&] {
    if (processed->load() == 2 && !advanced) {
      // Both clicks processed at 1,000,000: their timers are due at 1,001,000.
      EXPECT_TRUE(output->records().empty());
      clock->advance_millis(999);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      EXPECT_TRUE(output->records().empty()) << "a processing-time timer fired before its time";
      clock->advance_millis(1);
      advanced = true;
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

}  // namespace
}  // namespace streamstate
