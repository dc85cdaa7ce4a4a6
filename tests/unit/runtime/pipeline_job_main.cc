// The job the kill -9 tests run and kill: generated clicks -> key by user -> a running count
// per user and a 10-second event-time tumbling window of clicks per user with the running
// count and sum over the windows (timers) ->
// the exactly-once file sink, with checkpoints to a directory. Run again over the same
// directories, it resumes from the last checkpoint.
//
//   streamstate_pipeline_job --checkpoints DIR --output DIR [--state memory|rocksdb:DIR]
//       [--events N] [--users N] [--seed N] [--parallelism N] [--source-parallelism N]
//       [--interval-millis N] [--rate EVENTS_PER_SECOND] [--kill-in-pre-commit N] [--kill-in-commit N]
//
// --kill-in-pre-commit N: the process kills itself with SIGKILL in the N-th pre-commit of its
// sink (inside a checkpoint); --kill-in-commit N: in the N-th commit, after the checkpoint is
// complete and before its output is published. Exit code 0 when the input was processed.
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "streamstate/streamstate.h"

namespace {

using namespace streamstate;

struct Args {
  std::string checkpoints;
  std::string output;
  std::string state = "memory";
  uint64_t events = 200'000;
  uint32_t users = 500;
  uint64_t seed = 7;
  uint32_t parallelism = 2;
  uint32_t source_parallelism = 2;
  int64_t interval_millis = 50;
  int kill_in_pre_commit = 0;
  int kill_in_commit = 0;
  double rate = 0;
};

// Kills the process with SIGKILL at a chosen pre-commit or commit of the sink it wraps.
class KillingSink final : public Sink<std::string> {
 public:
  KillingSink(std::shared_ptr<Sink<std::string>> inner, int kill_in_pre_commit, int kill_in_commit)
      : inner_(std::move(inner)), kill_in_pre_commit_(kill_in_pre_commit), kill_in_commit_(kill_in_commit) {}

  Result<std::unique_ptr<SinkWriter<std::string>>> open_writer(const SinkWriterContext& context) override {
    Result<std::unique_ptr<SinkWriter<std::string>>> writer = inner_->open_writer(context);
    if (!writer.is_ok()) return writer.status();
    return std::unique_ptr<SinkWriter<std::string>>(std::make_unique<Writer>(*this, std::move(*writer)));
  }
  Status commit(const std::string& committable) override {
    if (kill_in_commit_ > 0 && ++commits_ == kill_in_commit_) ::raise(SIGKILL);
    return inner_->commit(committable);
  }
  Status recover(const std::vector<std::string>& committables) override { return inner_->recover(committables); }
  bool exactly_once() const override { return inner_->exactly_once(); }
  std::string describe() const override { return inner_->describe(); }

 private:
  class Writer final : public SinkWriter<std::string> {
   public:
    Writer(KillingSink& sink, std::unique_ptr<SinkWriter<std::string>> inner) : sink_(sink), inner_(std::move(inner)) {}
    Status write(const std::string& record, int64_t time) override { return inner_->write(record, time); }
    Result<std::string> pre_commit(uint64_t checkpoint) override {
      if (sink_.kill_in_pre_commit_ > 0 && ++sink_.pre_commits_ == sink_.kill_in_pre_commit_) ::raise(SIGKILL);
      return inner_->pre_commit(checkpoint);
    }
    Status close() override { return inner_->close(); }

   private:
    KillingSink& sink_;
    std::unique_ptr<SinkWriter<std::string>> inner_;
  };

  std::shared_ptr<Sink<std::string>> inner_;
  int kill_in_pre_commit_;
  int kill_in_commit_;
  std::atomic<int> pre_commits_{0};
  std::atomic<int> commits_{0};
};

// Per user: "count,<user>,<n>" for the n-th click, and per 10-second event-time window when
// the watermark passes it "window,<user>,<end>,<clicks>,<page bytes>,<total clicks>,<total page
// bytes>" - the window's count and sum and the running count and sum over the windows so far.
// Every line is the same whatever order the clicks of different source instances interleave in.
class UserActivity final : public KeyedProcessFunction<ClickEvent, std::string> {
 public:
  static constexpr int64_t kWindowMillis = 10'000;

  Status open(OperatorContext& context) override {
    Result<ValueState<int64_t>> count =
        context.state().value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
    if (!count.is_ok()) return count.status();
    count_ = std::move(*count);
    Result<ValueState<std::pair<int64_t, int64_t>>> totals = context.state().value_state(
        ValueStateDescriptor<std::pair<int64_t, int64_t>>{.name = "totals", .default_value = std::pair<int64_t, int64_t>{0, 0}});
    if (!totals.is_ok()) return totals.status();
    totals_ = std::move(*totals);
    Result<MapState<int64_t, std::pair<int64_t, int64_t>>> windows =
        context.state().map_state(MapStateDescriptor<int64_t, std::pair<int64_t, int64_t>>{.name = "windows"});
    if (!windows.is_ok()) return windows.status();
    windows_ = std::move(*windows);
    return Status::ok();
  }

  Status process(const ClickEvent& click, ProcessContext<std::string>& context) override {
    Result<int64_t> count = count_->update_with([](int64_t n) { return n + 1; });
    if (!count.is_ok()) return count.status();
    context.emit("count," + click.user + "," + std::to_string(*count));
    const int64_t page = static_cast<int64_t>(click.page.size());
    const int64_t window_end = (click.time_millis / kWindowMillis + 1) * kWindowMillis;
    Result<std::pair<int64_t, int64_t>> in_window = windows_->update_with(
        window_end, [page](std::optional<std::pair<int64_t, int64_t>> w) {
          std::pair<int64_t, int64_t> v = w.value_or(std::pair<int64_t, int64_t>{0, 0});
          return std::pair<int64_t, int64_t>{v.first + 1, v.second + page};
        });
    if (!in_window.is_ok()) return in_window.status();
    return context.register_timer(TimeDomain::kEventTime, window_end - 1);
  }

  Status on_timer(TimeDomain, int64_t time, ProcessContext<std::string>& context) override {
    const int64_t window_end = time + 1;
    Result<std::optional<std::pair<int64_t, int64_t>>> window = windows_->get(window_end);
    if (!window.is_ok()) return window.status();
    if (!window->has_value()) return Status::internal("a window timer without its window");
    const auto [clicks, bytes] = **window;
    Result<std::pair<int64_t, int64_t>> totals = totals_->update_with([&](std::pair<int64_t, int64_t> t) {
      return std::pair<int64_t, int64_t>{t.first + clicks, t.second + bytes};
    });
    if (!totals.is_ok()) return totals.status();
    context.emit("window," + std::string(context.key()) + "," + std::to_string(window_end) + "," +
                 std::to_string(clicks) + "," + std::to_string(bytes) + "," + std::to_string(totals->first) + "," +
                 std::to_string(totals->second));
    return windows_->remove(window_end);
  }

 private:
  std::optional<ValueState<int64_t>> count_;
  std::optional<ValueState<std::pair<int64_t, int64_t>>> totals_;
  std::optional<MapState<int64_t, std::pair<int64_t, int64_t>>> windows_;
};

bool parse(int argc, char** argv, Args& args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--checkpoints") args.checkpoints = value;
    else if (flag == "--output") args.output = value;
    else if (flag == "--state") args.state = value;
    else if (flag == "--events") args.events = std::stoull(value);
    else if (flag == "--users") args.users = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--seed") args.seed = std::stoull(value);
    else if (flag == "--parallelism") args.parallelism = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--source-parallelism") args.source_parallelism = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--interval-millis") args.interval_millis = std::stoll(value);
    else if (flag == "--kill-in-pre-commit") args.kill_in_pre_commit = std::stoi(value);
    else if (flag == "--kill-in-commit") args.kill_in_commit = std::stoi(value);
    else if (flag == "--rate") args.rate = std::stod(value);
    else return false;
  }
  return !args.checkpoints.empty() && !args.output.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (argc % 2 == 0 || !parse(argc, argv, args)) {
    std::cerr << "usage: streamstate_pipeline_job --checkpoints DIR --output DIR [options]\n";
    return 2;
  }
  Result<std::unique_ptr<CheckpointStorage>> storage = open_directory_storage({.path = args.checkpoints});
  if (!storage.is_ok()) {
    std::cerr << storage.status().to_string() << "\n";
    return 1;
  }
  Result<std::unique_ptr<Sink<std::string>>> files =
      file_sink<std::string>({.directory = args.output, .prefix = "part", .suffix = ".txt"});
  if (!files.is_ok()) {
    std::cerr << files.status().to_string() << "\n";
    return 1;
  }
  auto sink = std::make_shared<KillingSink>(std::shared_ptr<Sink<std::string>>(std::move(*files)),
                                            args.kill_in_pre_commit, args.kill_in_commit);
  PipelineOptions options;
  options.name = "activity";
  options.checkpoints = std::shared_ptr<CheckpointStorage>(std::move(*storage));
  options.checkpoint_interval_millis = args.interval_millis;
  if (args.state.starts_with("rocksdb:")) options.state_backend = rocksdb_state(args.state.substr(8));
  Pipeline pipeline(options);
  ClickEventOptions clicks;
  clicks.count = args.events;
  clicks.users = args.users;
  clicks.seed = args.seed;
  clicks.events_per_second = 2'000;
  clicks.max_out_of_order_millis = 500;
  clicks.rate = args.rate;
  pipeline
      .source<ClickEvent>("clicks", click_event_source(clicks),
                          {.parallelism = args.source_parallelism,
                           .event_time = [](const ClickEvent& c) { return c.time_millis; },
                           .max_out_of_order_millis = 500})
      .key_by([](const ClickEvent& c) { return c.user; })
      .process<std::string>("activity", [] { return std::make_unique<UserActivity>(); },
                            {.parallelism = args.parallelism})
      .sink("files", sink);
  Result<PipelineResult> result = pipeline.run();
  if (!result.is_ok()) {
    std::cerr << result.status().to_string() << "\n";
    return 1;
  }
  std::cout << "done: restored from "
            << (result->metrics.restored_from ? std::to_string(*result->metrics.restored_from) : std::string("nothing"))
            << ", " << result->metrics.checkpoints.completed << " checkpoints\n";
  return 0;
}
