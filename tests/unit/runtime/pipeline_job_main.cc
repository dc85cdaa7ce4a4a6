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
//
// With Redis built, the same job over Redis Streams:
//
//   streamstate_pipeline_job --fill-redis HOST:PORT [--events N] [--users N] [--seed N]
//   streamstate_pipeline_job --redis HOST:PORT --output-stream KEY --checkpoints DIR [options above]
//
// --fill-redis appends the generated clicks (the same as the file job's for the same options)
// to the streams clicks-0 .. clicks-3, click i to clicks-<i % 4> (the generator's partitions), as
// entries {user, page, time}; it is itself a pipeline per stream: the generator's partition ->
// fields -> the exactly-once Redis Streams sink. --redis reads those streams with the Redis
// Streams source (a stream per split, bounded: it ends at the entries present when it starts)
// and writes every output line as an entry {line} to the stream KEY through the exactly-once
// Redis Streams sink. The Redis source has no rate limit of its own: there --rate paces the step
// that turns entries back into clicks.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

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
  std::string fill_redis;     // HOST:PORT: only fill the input streams
  std::string redis;          // HOST:PORT: the job over Redis Streams
  std::string output_stream;  // with --redis
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
    else if (flag == "--fill-redis") args.fill_redis = value;
    else if (flag == "--redis") args.redis = value;
    else if (flag == "--output-stream") args.output_stream = value;
    else return false;
  }
  if (!args.fill_redis.empty()) return args.redis.empty() && args.checkpoints.empty();
  if (!args.redis.empty()) return !args.checkpoints.empty() && !args.output_stream.empty() && args.output.empty();
  return !args.checkpoints.empty() && !args.output.empty();
}

ClickEventOptions click_options(const Args& args) {
  ClickEventOptions clicks;
  clicks.count = args.events;
  clicks.users = args.users;
  clicks.seed = args.seed;
  clicks.events_per_second = 2'000;
  clicks.max_out_of_order_millis = 500;
  clicks.rate = args.rate;
  return clicks;
}

// The job's pipeline options: checkpoints to args.checkpoints; nullopt (after printing why)
// when the directory cannot be opened.
std::optional<PipelineOptions> job_options(const Args& args) {
  Result<std::unique_ptr<CheckpointStorage>> storage = open_directory_storage({.path = args.checkpoints});
  if (!storage.is_ok()) {
    std::cerr << storage.status().to_string() << "\n";
    return std::nullopt;
  }
  PipelineOptions options;
  options.name = "activity";
  options.checkpoints = std::shared_ptr<CheckpointStorage>(std::move(*storage));
  options.checkpoint_interval_millis = args.interval_millis;
  if (args.state.starts_with("rocksdb:")) options.state_backend = rocksdb_state(args.state.substr(8));
  return options;
}

// key by user -> UserActivity -> `sink`.
void add_activity(Stream<ClickEvent> clicks, const Args& args, const std::string& sink_name,
                  std::shared_ptr<Sink<std::string>> sink) {
  clicks.key_by([](const ClickEvent& c) { return c.user; })
      .process<std::string>("activity", [] { return std::make_unique<UserActivity>(); },
                            {.parallelism = args.parallelism})
      .sink(sink_name, std::move(sink));
}

int run_to_end(Pipeline& pipeline) {
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

int file_job(const Args& args) {
  std::optional<PipelineOptions> options = job_options(args);
  if (!options) return 1;
  Result<std::unique_ptr<Sink<std::string>>> files =
      file_sink<std::string>({.directory = args.output, .prefix = "part", .suffix = ".txt"});
  if (!files.is_ok()) {
    std::cerr << files.status().to_string() << "\n";
    return 1;
  }
  auto sink = std::make_shared<KillingSink>(std::shared_ptr<Sink<std::string>>(std::move(*files)),
                                            args.kill_in_pre_commit, args.kill_in_commit);
  Pipeline pipeline(*options);
  Stream<ClickEvent> clicks =
      pipeline.source<ClickEvent>("clicks", click_event_source(click_options(args)),
                                  {.parallelism = args.source_parallelism,
                                   .event_time = [](const ClickEvent& c) { return c.time_millis; },
                                   .max_out_of_order_millis = 500});
  add_activity(clicks, args, "files", sink);
  return run_to_end(pipeline);
}

#if STREAMSTATE_HAS_REDIS

// The input streams of the Redis job: one per partition of the click generator.
constexpr uint32_t kInputStreams = 4;

std::string input_stream(uint32_t partition) { return "clicks-" + std::to_string(partition); }

// "HOST:PORT" -> host and port; false when it is not that.
bool parse_address(const std::string& text, std::string& host, uint16_t& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = text.substr(0, colon);
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data() + colon + 1, end, port);
  return error == std::errc() && ptr == end && port != 0;
}

// Limits the calls of pace(), from any threads together, to `rate` per second (0 = no limit),
// with bursts of at most a tenth of a second's worth.
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate), last_(std::chrono::steady_clock::now()) {}

  void pace() {
    if (rate_ <= 0) return;
    std::unique_lock<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    tokens_ = std::min(tokens_ + std::chrono::duration<double>(now - last_).count() * rate_, std::max(1.0, rate_ / 10));
    last_ = now;
    tokens_ -= 1;
    if (tokens_ >= -rate_ / 1000) return;  // less than a millisecond behind: sleep later, longer
    const std::chrono::duration<double> wait(-tokens_ / rate_);
    lock.unlock();
    std::this_thread::sleep_for(wait);
  }

 private:
  const double rate_;
  std::mutex mutex_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_;
};

// A click as a stream entry, and back: fields user, page and time (decimal milliseconds).
void click_fields(const ClickEvent& click, RedisStreamFields& fields) {
  fields.emplace_back("user", click.user);
  fields.emplace_back("page", click.page);
  fields.emplace_back("time", std::to_string(click.time_millis));
}

std::optional<int64_t> entry_time(const RedisStreamEntry& entry) {
  for (const auto& [field, value] : entry.fields) {
    if (field != "time") continue;
    int64_t time = 0;
    auto [ptr, error] = std::from_chars(value.data(), value.data() + value.size(), time);
    if (error == std::errc() && ptr == value.data() + value.size()) return time;
  }
  return std::nullopt;
}

// Throws (failing the pipeline, naming the entry) when the entry is not a click.
ClickEvent entry_click(const RedisStreamEntry& entry) {
  ClickEvent click;
  int found = 0;
  for (const auto& [field, value] : entry.fields) {
    if (field == "user") click.user = value, found |= 1;
    if (field == "page") click.page = value, found |= 2;
  }
  const std::optional<int64_t> time = entry_time(entry);
  if (found != 3 || !time) {
    throw std::invalid_argument("entry " + entry.id + " of stream " + entry.stream +
                                " is not a click: it needs the fields user, page and time (a number)");
  }
  click.time_millis = *time;
  return click;
}

// One split of another source (a partition of the generator): the fill pipeline of a stream.
class PartitionSource final : public Source<ClickEvent> {
 public:
  PartitionSource(std::shared_ptr<Source<ClickEvent>> inner, uint32_t partition)
      : inner_(std::move(inner)), partition_(partition) {}

  Result<std::vector<SourceSplit>> discover_splits() override {
    Result<std::vector<SourceSplit>> all = inner_->discover_splits();
    if (!all.is_ok()) return all.status();
    if (partition_ >= all->size()) {
      return Status::invalid_argument("partition " + std::to_string(partition_) + " of " + inner_->describe() +
                                      ", which has " + std::to_string(all->size()));
    }
    return std::vector<SourceSplit>{(*all)[partition_]};
  }
  Result<std::unique_ptr<SourceReader<ClickEvent>>> open_reader(std::vector<SourceSplit> splits,
                                                                const SourceReaderContext& context) override {
    return inner_->open_reader(std::move(splits), context);
  }
  std::string describe() const override { return inner_->describe() + ", partition " + std::to_string(partition_); }

 private:
  std::shared_ptr<Source<ClickEvent>> inner_;
  uint32_t partition_;
};

// Appends the generated clicks to the input streams: a pipeline per stream, generator
// partition -> the exactly-once Redis Streams sink, committed when its input ends.
int fill_redis(const Args& args) {
  RedisStreamSinkOptions sink_options;
  if (!parse_address(args.fill_redis, sink_options.host, sink_options.port)) {
    std::cerr << "--fill-redis " << args.fill_redis << ": give HOST:PORT\n";
    return 2;
  }
  ClickEventOptions clicks = click_options(args);
  clicks.splits = kInputStreams;
  clicks.rate = 0;
  for (uint32_t partition = 0; partition < kInputStreams; ++partition) {
    sink_options.stream_key = input_stream(partition);
    Result<std::unique_ptr<Sink<ClickEvent>>> sink = redis_stream_sink<ClickEvent>(sink_options, click_fields);
    if (!sink.is_ok()) {
      std::cerr << sink.status().to_string() << "\n";
      return 1;
    }
    PipelineOptions options;
    options.name = "fill-" + input_stream(partition);
    options.checkpoint_interval_millis = 0;
    Pipeline pipeline(options);
    pipeline.source<ClickEvent>("clicks", std::make_shared<PartitionSource>(click_event_source(clicks), partition))
        .sink("stream", std::shared_ptr<Sink<ClickEvent>>(std::move(*sink)));
    if (run_to_end(pipeline) != 0) return 1;
  }
  return 0;
}

int redis_job(const Args& args) {
  RedisStreamSourceOptions source;
  if (!parse_address(args.redis, source.host, source.port)) {
    std::cerr << "--redis " << args.redis << ": give HOST:PORT\n";
    return 2;
  }
  for (uint32_t partition = 0; partition < kInputStreams; ++partition) {
    source.streams.push_back(input_stream(partition));
  }
  source.stop_at_end = true;
  RedisStreamSinkOptions sink_options;
  sink_options.host = source.host;
  sink_options.port = source.port;
  sink_options.stream_key = args.output_stream;
  Result<std::unique_ptr<Sink<std::string>>> lines = redis_stream_sink<std::string>(
      sink_options, [](const std::string& line, RedisStreamFields& fields) { fields.emplace_back("line", line); });
  if (!lines.is_ok()) {
    std::cerr << lines.status().to_string() << "\n";
    return 1;
  }
  auto sink = std::make_shared<KillingSink>(std::shared_ptr<Sink<std::string>>(std::move(*lines)),
                                            args.kill_in_pre_commit, args.kill_in_commit);
  std::optional<PipelineOptions> options = job_options(args);
  if (!options) return 1;
  Pipeline pipeline(*options);
  auto pacer = std::make_shared<Pacer>(args.rate);
  Stream<ClickEvent> clicks =
      pipeline
          .source<RedisStreamEntry>("clicks", redis_stream_source(source),
                                    {.parallelism = args.source_parallelism,
                                     .event_time = [](const RedisStreamEntry& e) { return entry_time(e).value_or(0); },
                                     .max_out_of_order_millis = 500})
          .map("parse", [pacer](const RedisStreamEntry& entry) {
            pacer->pace();
            return entry_click(entry);
          });
  add_activity(clicks, args, "stream", sink);
  return run_to_end(pipeline);
}

#endif  // STREAMSTATE_HAS_REDIS

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (argc % 2 == 0 || !parse(argc, argv, args)) {
    std::cerr << "usage: streamstate_pipeline_job --checkpoints DIR --output DIR [options]\n"
                 "       streamstate_pipeline_job --fill-redis HOST:PORT [--events N --users N --seed N]\n"
                 "       streamstate_pipeline_job --redis HOST:PORT --output-stream KEY --checkpoints DIR [options]\n";
    return 2;
  }
  if (!args.fill_redis.empty() || !args.redis.empty()) {
#if STREAMSTATE_HAS_REDIS
    return args.fill_redis.empty() ? redis_job(args) : fill_redis(args);
#else
    std::cerr << "--redis and --fill-redis need streamstate built with Redis (STREAMSTATE_WITH_REDIS)\n";
    return 2;
#endif
  }
  return file_job(args);
}
