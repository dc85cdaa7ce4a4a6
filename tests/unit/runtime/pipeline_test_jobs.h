// What the pipeline tests share: a click record, a numbered click source, the test job (a
// running count per user and 100-ms event-time windows with timers) and its failure-free
// output, a per-key record counter, and helpers to compare outputs and run a pipeline until
// its output shows something.
#pragma once

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
#include "unit/runtime/output_difference.h"
#include "unit/runtime/pipeline_fixtures.h"


namespace streamstate::pipeline_tests {

using testing::CollectedOutput;
using testing::difference;
using testing::CollectingSink;
using testing::NumberedSource;

struct Click {
  std::string user;
  int64_t time = 0;
};

// Record i of split s: user (s * 7 + i) % users, event time i * 3 + s.
inline std::shared_ptr<NumberedSource<Click>> clicks(uint32_t splits, uint64_t per_split, uint32_t users) {
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
inline void build_job(Pipeline& pipeline, std::shared_ptr<NumberedSource<Click>> source,
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

inline std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

inline std::vector<std::string> failure_free_output(uint32_t splits, uint64_t per_split, uint32_t users) {
  auto output = std::make_shared<CollectedOutput<std::string>>();
  Pipeline pipeline({.name = "reference"});
  build_job(pipeline, clicks(splits, per_split, users), output, {});
  Result<PipelineResult> result = pipeline.run();
  EXPECT_OK(result.status());
  return sorted(output->records());
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

inline bool contains(const std::vector<std::string>& records, const std::string& wanted) {
  return std::find(records.begin(), records.end(), wanted) != records.end();
}

}  // namespace streamstate::pipeline_tests
