// Suite "pipeline": the dataflow runtime (streamstate/pipeline.h) end to end on a keyed running
// sum, against hand-written loops doing the same sums in the same run.
//
// The job: generator_source (GeneratorRandom) of --events events, each a key out of 10,000 (or
// --keys when smaller) and an int64 value, key_by the key's decimal text, a keyed process
// function keeping a ValueState<int64_t> sum per key (update_with), no sink.
//
//   memory/p1                 source 1, keyed 1, memory_state(), no checkpoints
//                             vs a single-thread loop over std::unordered_map (the limit)
//   rocksdb/p1-plain          the same on rocksdb_state(dir), --events / 10 events
//   rocksdb/p1-write-back-cache  the same with PipelineOptions::write_back_cache (defaults)
//                             both vs a loop doing one raw RocksDB Get and Put per event with
//                             the options RocksDbBackend uses, then a memtable flush
//   rocksdb/p1                the better of the two above (the configuration a user would pick;
//                             its baseline text names it)
//   scaling/memory-p2         memory/p1 with source and keyed parallelism 2 vs parallelism 1
//   checkpointing/memory-p1   memory/p1 with a checkpoint every second to a local directory
//                             vs the same job without checkpoints
//   recovery/1m-keys          a job whose state holds --keys keys (default 1,000,000) is
//                             checkpointed; a new Pipeline resumes from it: the figure is
//                             PipelineMetrics::first_record_millis of the resumed run, the
//                             baseline the 1 s target (ratio = 1000 ms / figure)
//
// Checksums: each side adds up the running sum after every event. A single source instance
// emits the events in index order, as the loops do, so the two sides of the p1 cases must agree
// exactly (every update saw the previous one); cases with two source instances check instead
// that every event was processed once.
//
// Latency: one event in 1024 carries the steady-clock time at which it was generated; the keyed
// function measures its age when it processes it. The p99 of those ages (at full throughput,
// so mostly time spent in queues) is printed to stderr per case.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "measure.h"
#include "scratch_dir.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/config.h"
#include "streamstate/pipeline.h"
#include "streamstate/sources.h"
#include "streamstate/value_state.h"
#include "suite.h"
#include "util/status_macros.h"

#if STREAMSTATE_HAS_ROCKSDB
#include <rocksdb/db.h>

#include "raw_rocksdb.h"
#endif

namespace streamstate::bench {
namespace {

constexpr uint64_t kSumKeys = 10'000;
constexpr uint64_t kSeed = 20261126;
constexpr uint64_t kLatencyEvery = 1024;

struct Event {
  uint64_t key = 0;
  int64_t value = 0;
  int64_t generated_nanos = 0;  // steady clock; 0 when the event carries no time
};

int64_t steady_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Event `index` of the stream; both sides call exactly this.
inline Event make_event(uint64_t index, GeneratorRandom& random, uint64_t keys) {
  Event event;
  event.key = random.below(keys);
  event.value = static_cast<int64_t>(random.below(1000));
  if (index % kLatencyEvery == 0) event.generated_nanos = steady_nanos();
  return event;
}

// What the keyed instances of one run add up, read after run() returns.
struct Tally {
  std::mutex mutex;
  uint64_t checksum = 0;
  uint64_t events = 0;
  std::vector<int64_t> latencies_nanos;
};

class RunningSum final : public KeyedProcessFunction<Event, int64_t> {
 public:
  explicit RunningSum(std::shared_ptr<Tally> tally) : tally_(std::move(tally)) {}
  Status open(OperatorContext& context) override {
    STREAMSTATE_ASSIGN_OR_RETURN(sum_,
                                 context.state().value_state(ValueStateDescriptor<int64_t>{.name = "sum", .default_value = 0}));
    return Status::ok();
  }
  Status process(const Event& event, ProcessContext<int64_t>&) override {
    const int64_t value = event.value;
    Result<int64_t> sum = sum_.update_with([value](int64_t current) { return current + value; });
    if (!sum.is_ok()) return sum.status();
    checksum_ += static_cast<uint64_t>(*sum);
    ++events_;
    if (event.generated_nanos != 0) latencies_.push_back(steady_nanos() - event.generated_nanos);
    return Status::ok();
  }
  Status close() override {
    std::lock_guard<std::mutex> lock(tally_->mutex);
    tally_->checksum += checksum_;
    tally_->events += events_;
    tally_->latencies_nanos.insert(tally_->latencies_nanos.end(), latencies_.begin(), latencies_.end());
    return Status::ok();
  }

 private:
  std::shared_ptr<Tally> tally_;
  ValueState<int64_t> sum_;
  uint64_t checksum_ = 0;
  uint64_t events_ = 0;
  std::vector<int64_t> latencies_;
};

struct JobShape {
  uint64_t events = 0;
  uint64_t keys = kSumKeys;
  uint32_t source_parallelism = 1;
  uint32_t keyed_parallelism = 1;
};

void build_job(Pipeline& pipeline, const JobShape& shape, const std::shared_ptr<Tally>& tally) {
  const uint64_t keys = shape.keys;
  GeneratorOptions generator;
  generator.seed = kSeed;
  generator.count = shape.events;
  pipeline
      .source<Event>("events", generator_source<Event>(generator,
                                                       [keys](uint64_t index, GeneratorRandom& random) {
                                                         return make_event(index, random, keys);
                                                       }),
                     {.parallelism = shape.source_parallelism})
      .key_by([](const Event& event) { return std::to_string(event.key); })
      .process<int64_t>("sum", [tally] { return std::make_unique<RunningSum>(tally); },
                        {.parallelism = shape.keyed_parallelism});
}

// p99 of the latencies the last run of each case collected, printed per case.
struct LatencyLog {
  std::vector<int64_t> last;
  double p99_micros() const {
    if (last.empty()) return 0;
    std::vector<int64_t> sorted = last;
    std::sort(sorted.begin(), sorted.end());
    return static_cast<double>(sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)]) / 1000.0;
  }
};

// One measured run of the job; `options` gets its state backend, checkpoints, etc. from the caller.
SampleFunction job_sample(const JobShape& shape, std::function<Result<PipelineOptions>(int)> make_options,
                          LatencyLog& latency) {
  return [shape, make_options, &latency](int run) -> Result<Sample> {
    STREAMSTATE_ASSIGN_OR_RETURN(PipelineOptions options, make_options(run));
    auto tally = std::make_shared<Tally>();
    Pipeline pipeline(std::move(options));
    build_job(pipeline, shape, tally);
    Stopwatch watch;
    STREAMSTATE_ASSIGN_OR_RETURN(PipelineResult result, pipeline.run());
    const double seconds = watch.seconds();
    (void)result;
    if (tally->events != shape.events) {
      return Status::internal("the pipeline processed " + std::to_string(tally->events) + " events of " +
                              std::to_string(shape.events));
    }
    latency.last = std::move(tally->latencies_nanos);
    return Sample{seconds, shape.events, tally->checksum};
  };
}

// The limit: the same events and sums in one loop over std::unordered_map.
SampleFunction hand_loop(const JobShape& shape) {
  return [shape](int) -> Result<Sample> {
    std::unordered_map<uint64_t, int64_t> sums;
    uint64_t checksum = 0;
    int64_t latency_sink = 0;
    Stopwatch watch;
    for (uint64_t index = 0; index < shape.events; ++index) {
      GeneratorRandom random(generator_record_seed(kSeed, index));
      const Event event = make_event(index, random, shape.keys);
      int64_t& sum = sums[event.key];
      sum += event.value;
      checksum += static_cast<uint64_t>(sum);
      if (event.generated_nanos != 0) latency_sink += steady_nanos() - event.generated_nanos;
    }
    const double seconds = watch.seconds();
    if (latency_sink < 0) return Status::internal("the steady clock went backwards");
    return Sample{seconds, shape.events, checksum};
  };
}

Result<PipelineOptions> plain_options(int) {
  PipelineOptions options;
  options.name = "bench";
  return options;
}

void print_latency(const std::string& name, const LatencyLog& ours) {
  std::cerr << "  " << name << ": p99 end-to-end latency " << ours.p99_micros() << " us (" << ours.last.size()
            << " stamped events, last run)\n";
}

Status add_if_selected(const BenchOptions& options, std::vector<CaseResult>& results, CaseResult result) {
  if (options.selects(result.name)) results.push_back(std::move(result));
  return Status::ok();
}

Status run_memory_cases(const BenchOptions& options, const JobShape& p1, ScratchDir& scratch,
                        std::vector<CaseResult>& results) {
  LatencyLog latency;
  if (options.selects("memory/p1")) {
    STREAMSTATE_ASSIGN_OR_RETURN(
        CaseResult memory,
        measure_case(options, {"memory/p1", "single-thread loop over std::unordered_map (the limit)", true},
                     job_sample(p1, plain_options, latency), hand_loop(p1)));
    memory.unit = "events/s";
    print_latency(memory.name, latency);
    STREAMSTATE_RETURN_IF_ERROR(add_if_selected(options, results, std::move(memory)));
  }
  if (options.selects("scaling/memory-p2")) {
    JobShape p2 = p1;
    p2.source_parallelism = p2.keyed_parallelism = 2;
    LatencyLog p1_latency;
    STREAMSTATE_ASSIGN_OR_RETURN(
        CaseResult scaling,
        measure_case(options, {"scaling/memory-p2", "the same job with parallelism 1", false},
                     job_sample(p2, plain_options, latency), job_sample(p1, plain_options, p1_latency)));
    scaling.unit = "events/s";
    print_latency(scaling.name, latency);
    STREAMSTATE_RETURN_IF_ERROR(add_if_selected(options, results, std::move(scaling)));
  }
  if (options.selects("checkpointing/memory-p1")) {
    auto with_checkpoints = [&scratch](int run) -> Result<PipelineOptions> {
      PipelineOptions job;
      job.name = "bench";
      job.resume = false;
      job.checkpoint_interval_millis = 1000;
      STREAMSTATE_ASSIGN_OR_RETURN(
          std::unique_ptr<CheckpointStorage> storage,
          open_directory_storage({.path = scratch.subdirectory("checkpoints-" + std::to_string(run))}));
      job.checkpoints = std::move(storage);
      return job;
    };
    LatencyLog plain_latency;
    STREAMSTATE_ASSIGN_OR_RETURN(
        CaseResult checkpointing,
        measure_case(options, {"checkpointing/memory-p1", "the same job without checkpoints", true},
                     job_sample(p1, with_checkpoints, latency), job_sample(p1, plain_options, plain_latency)));
    checkpointing.unit = "events/s";
    print_latency(checkpointing.name, latency);
    STREAMSTATE_RETURN_IF_ERROR(add_if_selected(options, results, std::move(checkpointing)));
  }
  return Status::ok();
}

#if STREAMSTATE_HAS_ROCKSDB
// One raw Get and Put per event on a plain rocksdb::DB with RocksDbBackend's options.
SampleFunction raw_rocksdb_loop(const JobShape& shape, ScratchDir& scratch) {
  return [shape, &scratch](int run) -> Result<Sample> {
    const std::string path = scratch.subdirectory("raw-" + std::to_string(run));
    RawRocksDb raw;
    STREAMSTATE_RETURN_IF_ERROR(raw.open(path, {"sum"}));
    rocksdb::ColumnFamilyHandle* column = raw.handles[1];
    uint64_t checksum = 0;
    std::string key;
    std::string stored;
    std::string encoded;
    Status status;
    Stopwatch watch;
    for (uint64_t index = 0; index < shape.events && status.is_ok(); ++index) {
      GeneratorRandom random(generator_record_seed(kSeed, index));
      const Event event = make_event(index, random, shape.keys);
      key = std::to_string(event.key);
      rocksdb::Status got = raw.db->Get(raw.native.read, column, key, &stored);
      if (!got.ok() && !got.IsNotFound()) status = Status::io_error("raw Get: " + got.ToString());
      const int64_t sum =
          (got.ok() && stored.size() == 8 ? static_cast<int64_t>(decode_fixed64(stored.data())) : 0) + event.value;
      encoded.clear();
      put_fixed64(encoded, static_cast<uint64_t>(sum));
      rocksdb::Status put = raw.db->Put(raw.native.write, column, key, encoded);
      if (!put.ok()) status = Status::io_error("raw Put: " + put.ToString());
      checksum += static_cast<uint64_t>(sum);
    }
    rocksdb::Status flushed = raw.db->Flush(rocksdb::FlushOptions(), column);
    const double seconds = watch.seconds();
    STREAMSTATE_RETURN_IF_ERROR(status);
    if (!flushed.ok()) return Status::io_error("raw Flush: " + flushed.ToString());
    STREAMSTATE_RETURN_IF_ERROR(raw.close());
    STREAMSTATE_RETURN_IF_ERROR(scratch.remove("raw-" + std::to_string(run)));
    return Sample{seconds, shape.events, checksum};
  };
}

Status run_rocksdb_cases(const BenchOptions& options, const JobShape& p1, ScratchDir& scratch,
                         std::vector<CaseResult>& results) {
  if (!options.selects("rocksdb/")) return Status::ok();
  JobShape shape = p1;
  shape.events = std::max<uint64_t>(1, p1.events / 10);
  auto rocksdb_options = [&scratch](bool cached) {
    return [&scratch, cached](int run) -> Result<PipelineOptions> {
      PipelineOptions job;
      job.name = "bench";
      job.state_backend =
          rocksdb_state(scratch.subdirectory(std::string(cached ? "cached-" : "plain-") + std::to_string(run)));
      if (cached) job.write_back_cache = WriteBackCacheOptions{};
      return job;
    };
  };
  LatencyLog latency;
  const std::string baseline = "one raw RocksDB Get + Put per event, same options";
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult plain,
                               measure_case(options, {"rocksdb/p1-plain", baseline, true},
                                            job_sample(shape, rocksdb_options(false), latency),
                                            raw_rocksdb_loop(shape, scratch)));
  plain.unit = "events/s";
  print_latency(plain.name, latency);
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult cached,
                               measure_case(options, {"rocksdb/p1-write-back-cache", baseline, true},
                                            job_sample(shape, rocksdb_options(true), latency),
                                            raw_rocksdb_loop(shape, scratch)));
  cached.unit = "events/s";
  print_latency(cached.name, latency);
  CaseResult best = cached.ratio >= plain.ratio ? cached : plain;
  best.baseline = baseline + " (ours: " + (cached.ratio >= plain.ratio ? "with" : "without") +
                  " write_back_cache, the better)";
  best.name = "rocksdb/p1";
  STREAMSTATE_RETURN_IF_ERROR(add_if_selected(options, results, std::move(best)));
  STREAMSTATE_RETURN_IF_ERROR(add_if_selected(options, results, std::move(plain)));
  return add_if_selected(options, results, std::move(cached));
}
#endif

// recovery/1m-keys: first_record_millis of a pipeline resuming from a checkpoint of `keys` keys.
Status run_recovery_case(const BenchOptions& options, ScratchDir& scratch, std::vector<CaseResult>& results) {
  if (!options.selects("recovery/1m-keys")) return Status::ok();
  const uint64_t keys = options.keys;
  std::vector<double> millis;
  std::string per_run;  // "first record / restored" of each run, for stderr
  for (int run = 0; run < options.runs; ++run) {
    const std::string directory = scratch.subdirectory("recovery-" + std::to_string(run));
    auto options_for = [&directory]() -> Result<PipelineOptions> {
      PipelineOptions job;
      job.name = "bench";
      job.checkpoint_interval_millis = 0;  // only the final checkpoint
      STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointStorage> storage,
                                   open_directory_storage({.path = directory}));
      job.checkpoints = std::move(storage);
      return job;
    };
    // First run: one event per key, then the final checkpoint holds every key.
    {
      STREAMSTATE_ASSIGN_OR_RETURN(PipelineOptions first, options_for());
      Pipeline pipeline(std::move(first));
      build_job(pipeline, {.events = keys, .keys = keys}, std::make_shared<Tally>());
      STREAMSTATE_RETURN_IF_ERROR(pipeline.run().status());
    }
    // The resumed run: the same job over a longer stream continues after the checkpoint.
    STREAMSTATE_ASSIGN_OR_RETURN(PipelineOptions second, options_for());
    auto tally = std::make_shared<Tally>();
    Pipeline pipeline(std::move(second));
    build_job(pipeline, {.events = keys + 1000, .keys = keys}, tally);
    STREAMSTATE_ASSIGN_OR_RETURN(PipelineResult result, pipeline.run());
    if (!result.metrics.restored_from) return Status::internal("recovery/1m-keys: the second run did not resume");
    if (tally->events != 1000 || result.metrics.first_record_millis < 0) {
      return Status::internal("recovery/1m-keys: the resumed run processed " + std::to_string(tally->events) +
                              " events, expected the 1000 after the checkpoint");
    }
    millis.push_back(static_cast<double>(std::max<int64_t>(result.metrics.first_record_millis, 1)));
    per_run += (per_run.empty() ? "" : ", ") + std::to_string(result.metrics.first_record_millis) + " / " +
               std::to_string(result.metrics.restore_millis) + " ms";
    STREAMSTATE_RETURN_IF_ERROR(scratch.remove("recovery-" + std::to_string(run)));
  }
  std::sort(millis.begin(), millis.end());
  CaseResult result;
  result.name = "recovery/1m-keys";
  result.unit = "ms to first record";
  result.value = millis[millis.size() / 2];
  result.baseline = "target: 1 s (ratio = 1000 ms / ours)";
  result.baseline_value = 1000;
  result.ratio = 1000.0 / result.value;
  result.runs = options.runs;
  result.operations = result.baseline_operations = keys;
  std::cerr << "  recovery/1m-keys: " << keys << " keys in state, first record after " << result.value
            << " ms (median); first_record_millis / restore_millis of each run: " << per_run << "\n";
  return add_if_selected(options, results, std::move(result));
}

Status run_pipeline_suite(const BenchOptions& options, std::vector<CaseResult>& results) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch, ScratchDir::create(options.dir));
  const JobShape p1{.events = options.events, .keys = std::min<uint64_t>(kSumKeys, options.keys)};
  STREAMSTATE_RETURN_IF_ERROR(run_memory_cases(options, p1, *scratch, results));
#if STREAMSTATE_HAS_ROCKSDB
  STREAMSTATE_RETURN_IF_ERROR(run_rocksdb_cases(options, p1, *scratch, results));
#endif
  return run_recovery_case(options, *scratch, results);
}

const SuiteRegistration kPipelineSuite("pipeline",
                                       "the dataflow runtime: a keyed running sum vs hand-written loops",
                                       &run_pipeline_suite);

}  // namespace
}  // namespace streamstate::bench
