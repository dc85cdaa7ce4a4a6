// The demo pipeline (`make demo`): generated click events -> key by user -> a running count per
// user and a 10-second event-time tumbling window of clicks per user (timers) -> the
// exactly-once file sink; state in RocksDB, a checkpoint every second to a local directory.
//
// Each run reads --events more clicks of an endless, seeded click stream, then stops with a
// last checkpoint (windows still open stay in state). Run it again and it resumes from that
// checkpoint: the next clicks, the same counts and windows, no click counted twice - also after
// Ctrl-C or kill -9 in the middle of a run.
//
// The RocksDB state sits behind a write-back cache: a user clicking many times between two
// checkpoints costs RocksDB one write.
//
//   click_pipeline [--dir build/demo] [--events 3000000] [--users 10000] [--parallelism 2]
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <atomic>
#include <chrono>

#include "streamstate/streamstate.h"

namespace {

using namespace streamstate;

constexpr int64_t kWindowMillis = 10'000;

// Per user: the running count of clicks, and the clicks of each 10-second window, emitted as
// "user,window_end_millis,clicks_in_window,clicks_so_far" when the watermark passes the window.
class ClicksPerUser final : public KeyedProcessFunction<ClickEvent, std::string> {
 public:
  Status open(OperatorContext& context) override {
    Result<ValueState<int64_t>> total =
        context.state().value_state(ValueStateDescriptor<int64_t>{.name = "total", .default_value = 0});
    if (!total.is_ok()) return total.status();
    total_ = std::move(*total);
    Result<MapState<int64_t, int64_t>> windows =
        context.state().map_state(MapStateDescriptor<int64_t, int64_t>{.name = "windows"});
    if (!windows.is_ok()) return windows.status();
    windows_ = std::move(*windows);
    return Status::ok();
  }

  Status process(const ClickEvent& click, ProcessContext<std::string>& context) override {
    if (Result<int64_t> total = total_->update_with([](int64_t n) { return n + 1; }); !total.is_ok()) {
      return total.status();
    }
    const int64_t window_end = (click.time_millis / kWindowMillis + 1) * kWindowMillis;
    Result<int64_t> clicks =
        windows_->update_with(window_end, [](std::optional<int64_t> n) { return n.value_or(0) + 1; });
    if (!clicks.is_ok()) return clicks.status();
    // One timer per user and window: registering it again changes nothing.
    return context.register_timer(TimeDomain::kEventTime, window_end - 1);
  }

  Status on_timer(TimeDomain, int64_t time, ProcessContext<std::string>& context) override {
    const int64_t window_end = time + 1;
    Result<std::optional<int64_t>> clicks = windows_->get(window_end);
    if (!clicks.is_ok()) return clicks.status();
    Result<int64_t> total = total_->value_or_default();
    if (!total.is_ok()) return total.status();
    context.emit(std::string(context.key()) + "," + std::to_string(window_end) + "," +
                 std::to_string(clicks->value_or(0)) + "," + std::to_string(*total));
    return windows_->remove(window_end);
  }

 private:
  std::optional<ValueState<int64_t>> total_;
  std::optional<MapState<int64_t, int64_t>> windows_;
};

struct Args {
  std::string dir = "build/demo";
  uint64_t events = 3'000'000;
  uint32_t users = 10'000;
  uint32_t parallelism = 2;
};

bool parse(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    try {
      if (flag == "--dir") args.dir = value;
      else if (flag == "--events") args.events = std::stoull(value);
      else if (flag == "--users") args.users = static_cast<uint32_t>(std::stoul(value));
      else if (flag == "--parallelism") args.parallelism = static_cast<uint32_t>(std::stoul(value));
      else return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return args.events > 0 && args.users > 0 && args.parallelism > 0;
}

Pipeline* running = nullptr;

void on_interrupt(int) {
  // Ctrl-C: stop with a last checkpoint, as a planned stop would (a second Ctrl-C kills).
  if (running != nullptr) running->stop(StopMode::kSuspend);
  std::signal(SIGINT, SIG_DFL);
}

uint64_t records_of(const PipelineMetrics& metrics, std::string_view name) {
  for (const OperatorMetrics& op : metrics.operators) {
    if (op.name == name) return op.kind == "source" ? op.records_out : op.records_in;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse(argc, argv, args)) {
    std::cerr << "usage: click_pipeline [--dir DIR] [--events N] [--users N] [--parallelism N]\n";
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::absolute(args.dir);
  const std::string checkpoints = (dir / "checkpoints").string();
  const std::string state = (dir / "state").string();
  const std::string output = (dir / "output").string();

  Result<std::unique_ptr<CheckpointStorage>> storage = open_directory_storage({.path = checkpoints});
  if (!storage.is_ok()) {
    std::cerr << "cannot open the checkpoint directory: " << storage.status().to_string() << "\n";
    return 1;
  }
  Result<std::unique_ptr<Sink<std::string>>> files =
      file_sink<std::string>({.directory = output, .prefix = "clicks", .suffix = ".csv"});
  if (!files.is_ok()) {
    std::cerr << "cannot open the output directory: " << files.status().to_string() << "\n";
    return 1;
  }

  PipelineOptions options;
  options.name = "click-demo";
  options.checkpoints = std::shared_ptr<CheckpointStorage>(std::move(*storage));
  options.checkpoint_interval_millis = 1000;
  options.state_backend = rocksdb_state(state);
  options.write_back_cache = WriteBackCacheOptions{};  // hot users stay in memory between checkpoints
  options.progress_interval_millis = 500;
  const uint64_t target = args.events;
  Pipeline pipeline(options);

  ClickEventOptions clicks;
  clicks.count = 0;  // endless: each run reads --events more
  clicks.users = args.users;
  clicks.seed = 2026;
  clicks.events_per_second = 20'000;  // event time advances 1 s per 20,000 clicks
  clicks.max_out_of_order_millis = 2'000;
  pipeline
      .source<ClickEvent>("clicks", click_event_source(clicks),
                          {.parallelism = args.parallelism,
                           .event_time = [](const ClickEvent& c) { return c.time_millis; },
                           .max_out_of_order_millis = 2'000})
      .key_by([](const ClickEvent& c) { return c.user; })
      .process<std::string>("clicks-per-user", [] { return std::make_unique<ClicksPerUser>(); },
                            {.parallelism = args.parallelism})
      .sink("window-counts", std::shared_ptr<Sink<std::string>>(std::move(*files)));

  std::cout << "streamstate demo: clicks -> key by user -> running count + 10 s windows -> files\n"
            << "  state       RocksDB in " << state << "\n"
            << "  checkpoints every second to " << checkpoints << "\n"
            << "  output      " << output << "\n";
  running = &pipeline;
  std::signal(SIGINT, on_interrupt);
  // Progress, and the stop once this run read its share of the stream.
  std::atomic<bool> stopping{false};
  std::thread watcher([&] {
    for (int tick = 1;; ++tick) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      PipelineMetrics m = pipeline.metrics();
      if (!m.running && m.elapsed_millis > 0) break;
      const uint64_t read = records_of(m, "clicks");
      const uint64_t processed = records_of(m, "clicks-per-user");
      if (read >= target && !stopping.exchange(true)) pipeline.stop(StopMode::kSuspend);
      if (tick % 10 != 0) continue;
      std::fprintf(stderr, "\r  %6.1f s  read %9llu of %llu clicks  processed %9llu  checkpoints %llu   ",
                   static_cast<double>(m.elapsed_millis) / 1000.0, static_cast<unsigned long long>(read),
                   static_cast<unsigned long long>(target), static_cast<unsigned long long>(processed),
                   static_cast<unsigned long long>(m.checkpoints.completed));
    }
  });
  Result<PipelineResult> result = pipeline.run();
  running = nullptr;
  watcher.join();
  std::fprintf(stderr, "\n");
  if (!result.is_ok()) {
    std::cerr << "the pipeline failed: " << result.status().to_string() << "\n";
    return 1;
  }
  const PipelineMetrics& m = result->metrics;
  const uint64_t processed = records_of(m, "clicks-per-user");
  const double seconds = static_cast<double>(m.elapsed_millis) / 1000.0;
  std::cout << (m.restored_from ? "resumed from checkpoint " + std::to_string(*m.restored_from) +
                                      ": state restored in " + std::to_string(m.restore_millis) +
                                      " ms, first click processed after " + std::to_string(m.first_record_millis) +
                                      " ms"
                                : std::string("started fresh (no checkpoint yet)"))
            << "\n"
            << "processed " << processed << " clicks in " << seconds << " s ("
            << static_cast<uint64_t>(seconds > 0 ? static_cast<double>(processed) / seconds : 0) << " clicks/s), "
            << m.checkpoints.completed << " checkpoints, last " << m.checkpoints.last_id << "\n"
            << "window counts (user,window_end,clicks,total) in " << output << "\n"
            << "run again to continue from checkpoint " << m.checkpoints.last_id << "; rm -rf " << dir.string()
            << " to start over\n";
  return 0;
}
