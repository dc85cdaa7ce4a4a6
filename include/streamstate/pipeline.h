// Pipelines: sources, keyed stateful operators and sinks, run on several threads with
// checkpoints that make every input record affect state and output exactly once, across
// crashes and restarts with another parallelism. docs/runtime.md explains it with an example.
//
//   Pipeline pipeline({.name = "clicks", .checkpoints = storage, .state_backend = rocksdb_state("state")});
//   Stream<ClickEvent> clicks = pipeline.source<ClickEvent>("clicks", click_event_source({...}),
//       {.parallelism = 2, .event_time = [](const ClickEvent& c) { return c.time_millis; }});
//   clicks.key_by([](const ClickEvent& c) { return c.user; })
//       .process<UserCount>("count", [] { return std::make_unique<CountPerUser>(); }, {.parallelism = 2})
//       .sink("out", file_sink<UserCount>({.directory = "out"}, format_count));
//   Result<PipelineResult> result = pipeline.run();   // blocks until the input ends or stop()
//
// The shape: a source stage (each instance a thread reading some of the source's splits, with
// map / filter / flat_map and sinks chained into the same thread), then after key_by a keyed
// stage (each instance a thread owning a contiguous range of key groups, fed by bounded queues
// from every upstream instance, records routed by the key group of their key), whose results
// can be mapped, keyed again or sunk. Records move between threads in batches.
//
// Checkpoints (PipelineOptions::checkpoints): every checkpoint_interval_millis the pipeline
// injects a barrier at each source instance; keyed instances align the barriers of their
// inputs (exactly-once) and snapshot their state and timers, sinks pre-commit; when all have
// acknowledged, the pipeline writes a job manifest that names every instance's state
// checkpoint, every source split's position and every sink's pre-committed transactions, then
// tells the sinks to commit. A pipeline that starts over a storage holding job manifests
// resumes from the newest valid one (or resume_from): state and timers are restored - into
// the current parallelism, key groups redistributed - sources continue after their positions,
// and sinks commit what that checkpoint pre-committed and discard the rest. When the input
// ends, a final checkpoint commits the last results.
//
// Errors: a mistake while building (a duplicate name, a parallelism of 0) is reported by
// run(). A failure while running - user code throwing or returning an error, a source or sink
// failing - stops every thread and run() returns it, naming the operator, the record and the
// cause. Nothing a completed checkpoint committed is lost.
//
// Thread-safety: build and run() on one thread; stop() and metrics() from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/clock.h"
#include "streamstate/detail/runtime_graph.h"
#include "streamstate/detail/runtime_stages.h"
#include "streamstate/key_extractor.h"
#include "streamstate/key_group.h"
#include "streamstate/memory.h"
#include "streamstate/process_function.h"
#include "streamstate/sink.h"
#include "streamstate/source.h"
#include "streamstate/status.h"
#include "streamstate/write_back_cache.h"

namespace streamstate {

enum class CheckpointingMode : uint8_t {
  kExactlyOnce = 0,  // barriers aligned: state and output reflect each record once
  kAtLeastOnce = 1,  // no alignment (lower latency); after a restore some records count twice
};

enum class StopMode : uint8_t {
  // Sources stop reading as if their input ended: every event-time timer fires and a final
  // checkpoint commits everything.
  kDrain = 0,
  // Sources stop reading; a final checkpoint commits what was processed, but timers do not
  // fire (the input has not ended): the next start resumes exactly there, windows still open.
  kSuspend = 1,
  // Stop now; the next start resumes from the last completed checkpoint.
  kCancel = 2,
};

// The state backend of one keyed operator instance.
struct StateBackendRequest {
  std::string pipeline;
  std::string operator_name;
  uint32_t instance = 0;
  KeyGroupRange key_groups;
};
// Returns an EMPTY backend for the instance: a resumed pipeline restores its checkpoint into it.
using StateBackendFactory = std::function<Result<std::shared_ptr<StateBackend>>(const StateBackendRequest&)>;
// In-memory state (the default). Each instance's backend is used by its own thread, so
// `options.concurrent_reads` is turned off.
StateBackendFactory memory_state(MemoryBackendOptions options = {});
// RocksDB state in `directory`/<operator>-<instance>; whatever a previous run left there is
// removed first (the checkpoint is the truth). kInvalidArgument without RocksDB support.
StateBackendFactory rocksdb_state(std::string directory);

struct PipelineMetrics;

struct PipelineOptions {
  // Names the pipeline in messages and job manifests. Default: "pipeline".
  std::string name = "pipeline";
  // Where checkpoints go; null = no checkpoints (exactly-once sinks then commit only when the
  // input ends). Default: null.
  std::shared_ptr<CheckpointStorage> checkpoints{};
  // Between the end of one checkpoint and the start of the next; 0 = only the final one.
  // Default: 1000.
  int64_t checkpoint_interval_millis = 1000;
  CheckpointingMode mode = CheckpointingMode::kExactlyOnce;
  // A checkpoint not complete after this long fails the pipeline. It also bounds how long a
  // sink's transaction stays pre-committed but uncommitted: keep it below the transaction
  // timeout of the system a sink writes to, so that the pipeline fails loudly instead of the
  // system dropping the transaction. Default: 10 minutes.
  int64_t checkpoint_timeout_millis = 600'000;
  // Completed checkpoints kept (older job manifests and the state only they need are deleted).
  // Default: 3.
  uint32_t retained_checkpoints = 3;
  // Keeps a copy of each keyed instance's newest state checkpoint in this local directory
  // (local_recovery.h), so that a restart on the same machine restores from local disk and
  // reads only the manifests from `checkpoints` (S3, a shared directory). Files are verified
  // against the remote manifest's sizes and checksums; a missing or damaged copy is read
  // remotely. Default: "" (none).
  std::string local_recovery_directory{};
  // Resume from the newest valid checkpoint in `checkpoints` when there is one. Default: true.
  bool resume = true;
  // Resume from this checkpoint instead (kNotFound when absent). Default: none.
  std::optional<CheckpointId> resume_from{};
  // Key groups of keyed state; fixed for the life of the checkpoints. Default: 128.
  uint32_t max_parallelism = kDefaultMaxParallelism;
  // Default: memory_state().
  StateBackendFactory state_backend{};
  // Puts a write-back cache (write_back_cache.h) in front of each keyed instance's backend:
  // repeated updates of hot keys stay in memory and reach the backend in one batch at each
  // barrier or when the cache is full. For RocksDB state. Default: none.
  std::optional<WriteBackCacheOptions> write_back_cache{};
  // State checkpoints: compression, incremental, ... (id, key groups and max_parallelism are
  // set by the pipeline).
  CheckpointOptions state_checkpoints{};
  // Processing time and checkpoint timing. Default: the system clock.
  std::shared_ptr<const Clock> clock{};
  // Records per batch between threads, and batches each queue holds per upstream instance.
  size_t batch_records = 512;
  size_t queue_batches = 16;
  // Called from the pipeline's coordinating thread about every progress_interval_millis.
  std::function<void(const PipelineMetrics&)> on_progress{};
  int64_t progress_interval_millis = 1000;
};

template <typename T>
struct SourceOptions {
  uint32_t parallelism = 1;
  // Event time of a record (milliseconds); none = records carry no event time (event-time
  // timers then fire only when the input ends).
  std::function<int64_t(const T&)> event_time{};
  // Watermark = largest event time seen - max_out_of_order_millis - 1.
  int64_t max_out_of_order_millis = 0;
  // An instance with no records for this long stops holding back watermarks. 0 = never.
  int64_t idle_timeout_millis = 0;
};

struct OperatorOptions {
  uint32_t parallelism = 1;
  // A record whose key cannot be extracted (a missing JSON field, an extractor's error or
  // exception): kFail fails the pipeline naming the operator, the record, the source's position
  // and the cause; kSkip drops it and counts it (OperatorMetrics::malformed_records_skipped).
  MalformedRecords malformed_records = MalformedRecords::kFail;
};

struct OperatorMetrics {
  std::string name;
  std::string kind;  // "source", "map", "filter", "flat_map", "keyed", "sink"
  uint32_t parallelism = 1;
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  uint64_t late_records_dropped = 0;
  uint64_t malformed_records_skipped = 0;  // key_by could not extract their key (kSkip)
  double backpressure_seconds = 0;  // producers waiting for room in this operator's queues
  uint64_t queued_batches = 0;
  uint64_t queue_capacity = 0;
  int64_t watermark = INT64_MIN;
  // The pipeline clock's time minus the watermark, when event time is processing-time-like
  // (0 before the first watermark and after the end of input).
  int64_t watermark_lag_millis = 0;
};

struct CheckpointMetrics {
  uint64_t completed = 0;
  uint64_t failed = 0;
  CheckpointId last_id = 0;
  int64_t last_duration_millis = 0;   // trigger to job manifest committed
  int64_t last_sync_micros = 0;       // the longest synchronous snapshot of its instances
  uint64_t last_bytes = 0;            // state bytes written by its instances
  // Age of the oldest pre-committed sink transaction not yet committed (the checkpoint in
  // flight); 0 when none.
  int64_t oldest_uncommitted_millis = 0;
};

struct PipelineMetrics {
  std::string pipeline;
  bool running = false;
  int64_t elapsed_millis = 0;
  std::vector<OperatorMetrics> operators;
  CheckpointMetrics checkpoints;
  std::optional<CheckpointId> restored_from{};
  int64_t restore_millis = 0;  // from run() to every instance restored and started
  // From run() to the first record a keyed operator processed (after a restore: the time to
  // be back at work); -1 until then.
  int64_t first_record_millis = -1;
};

struct PipelineResult {
  PipelineMetrics metrics;
  bool cancelled = false;
};

template <typename T>
class Stream;
template <typename T>
class KeyedStream;

class Pipeline {
 public:
  explicit Pipeline(PipelineOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // A stream read from `source` by options.parallelism instances.
  template <typename T>
  Stream<T> source(std::string name, std::shared_ptr<Source<T>> source, SourceOptions<T> options = {});

  // Runs until the input ends (and the final checkpoint committed), stop(), or a failure.
  // Call once.
  Result<PipelineResult> run();
  // From any thread while run() runs.
  void stop(StopMode mode);
  PipelineMetrics metrics() const;

  const PipelineOptions& options() const;
  detail::PipelineGraph& graph();

 private:
  class Runner;
  PipelineOptions options_;
  std::unique_ptr<detail::PipelineGraph> graph_;
  std::unique_ptr<Runner> runner_;
};

template <typename T>
class Stream {
 public:
  Stream(detail::PipelineGraph* graph, detail::StreamPort<T>* port) : graph_(graph), port_(port) {}

  // fn(const T&) -> U, chained in this stream's threads.
  template <typename F>
  auto map(std::string name, F fn) -> Stream<std::decay_t<std::invoke_result_t<F&, const T&>>> {
    using U = std::decay_t<std::invoke_result_t<F&, const T&>>;
    graph_->claim_name(name, "map");
    detail::StreamPort<U>* next = graph_->make_port<U>(port_->stage());
    port_->add_consumer([name, fn, next](detail::TaskSetup& setup) -> Result<std::unique_ptr<detail::Output<T>>> {
      Result<std::unique_ptr<detail::Output<U>>> down = next->build(setup);
      if (!down.is_ok()) return down.status();
      detail::OperatorCounters& counters = setup.job.counters(name, "map", setup.parallelism);
      return std::unique_ptr<detail::Output<T>>(
          std::make_unique<detail::MapOutput<T, U, F>>(name, fn, counters, std::move(*down)));
    });
    return Stream<U>(graph_, next);
  }

  // fn(const T&) -> bool: keeps the records it returns true for.
  template <typename F>
  Stream<T> filter(std::string name, F fn) {
    graph_->claim_name(name, "filter");
    detail::StreamPort<T>* next = graph_->make_port<T>(port_->stage());
    port_->add_consumer([name, fn, next](detail::TaskSetup& setup) -> Result<std::unique_ptr<detail::Output<T>>> {
      Result<std::unique_ptr<detail::Output<T>>> down = next->build(setup);
      if (!down.is_ok()) return down.status();
      detail::OperatorCounters& counters = setup.job.counters(name, "filter", setup.parallelism);
      return std::unique_ptr<detail::Output<T>>(
          std::make_unique<detail::FilterOutput<T, F>>(name, fn, counters, std::move(*down)));
    });
    return Stream<T>(graph_, next);
  }

  // fn(const T&, std::vector<U>& out) appends any number of results.
  template <typename U, typename F>
  Stream<U> flat_map(std::string name, F fn) {
    graph_->claim_name(name, "flat_map");
    detail::StreamPort<U>* next = graph_->make_port<U>(port_->stage());
    port_->add_consumer([name, fn, next](detail::TaskSetup& setup) -> Result<std::unique_ptr<detail::Output<T>>> {
      Result<std::unique_ptr<detail::Output<U>>> down = next->build(setup);
      if (!down.is_ok()) return down.status();
      detail::OperatorCounters& counters = setup.job.counters(name, "flat_map", setup.parallelism);
      return std::unique_ptr<detail::Output<T>>(
          std::make_unique<detail::FlatMapOutput<T, U, F>>(name, fn, counters, std::move(*down)));
    });
    return Stream<U>(graph_, next);
  }

  // Partitions the stream by key: any KeyExtractor (key_extractor.h), or a callable
  // returning std::string / Result<std::string>.
  KeyedStream<T> key_by(KeyExtractor<T> extractor) { return KeyedStream<T>(graph_, port_, std::move(extractor)); }
  // An extractor that may have failed to build (json_field_key with a bad path): its error is
  // reported by run().
  KeyedStream<T> key_by(Result<KeyExtractor<T>> extractor) {
    if (!extractor.is_ok()) {
      if (graph_->build_error.is_ok()) {
        graph_->build_error = Status(extractor.status().code(), "key_by: " + extractor.status().message());
      }
      return key_by(KeyExtractor<T>([](const T&) -> Result<std::string> {
        return Status::failed_precondition("key_by has no usable key extractor");
      }));
    }
    return key_by(std::move(*extractor));
  }
  template <typename F>
    requires(!std::is_same_v<std::decay_t<F>, KeyExtractor<T>> && !std::is_same_v<std::decay_t<F>, Result<KeyExtractor<T>>>)
  KeyedStream<T> key_by(F&& fn) {
    return key_by(make_key_extractor<T>(std::forward<F>(fn)));
  }

  // Writes the stream to a sink made by a factory of sinks.h (file_sink, redis_stream_sink...):
  // a factory's error is reported by run().
  void sink(std::string name, Result<std::unique_ptr<Sink<T>>> made) {
    if (!made.is_ok()) {
      graph_->claim_name(name, "sink");
      if (graph_->build_error.is_ok()) {
        graph_->build_error = Status(made.status().code(), "sink '" + name + "': " + made.status().message());
      }
      return;
    }
    sink(std::move(name), std::shared_ptr<Sink<T>>(std::move(*made)));
  }
  void sink(std::string name, std::unique_ptr<Sink<T>> made) { sink(std::move(name), std::shared_ptr<Sink<T>>(std::move(made))); }
  // Writes the stream to `sink`, one writer per instance of this stream's stage.
  void sink(std::string name, std::shared_ptr<Sink<T>> sink) {
    graph_->claim_name(name, "sink");
    if (!sink) {
      if (graph_->build_error.is_ok()) graph_->build_error = Status::invalid_argument("sink '" + name + "' is null");
      return;
    }
    graph_->sinks.push_back(detail::SinkHandle{
        name, sink->exactly_once(), [sink](const std::string& c) { return sink->commit(c); },
        [sink](const std::vector<std::string>& cs) { return sink->recover(cs); }});
    port_->add_consumer([name, sink](detail::TaskSetup& setup) -> Result<std::unique_ptr<detail::Output<T>>> {
      Result<std::unique_ptr<SinkWriter<T>>> writer =
          sink->open_writer(SinkWriterContext{name, setup.instance, setup.parallelism});
      if (!writer.is_ok()) {
        return Status(writer.status().code(), "sink '" + name + "' (" + sink->describe() + ") instance " +
                                                  std::to_string(setup.instance) + ": " + writer.status().message());
      }
      detail::OperatorCounters& counters = setup.job.counters(name, "sink", setup.parallelism);
      return std::unique_ptr<detail::Output<T>>(
          std::make_unique<detail::SinkOutput<T>>(name, std::move(*writer), sink->exactly_once(), counters));
    });
  }

 protected:
  detail::PipelineGraph* graph_;
  detail::StreamPort<T>* port_;
};

// The results of a keyed process function, plus its side outputs and late records.
template <typename In, typename Out>
class ProcessedStream : public Stream<Out> {
 public:
  ProcessedStream(detail::PipelineGraph* graph, detail::KeyedStage<In, Out>* stage)
      : Stream<Out>(graph, stage->port), stage_(stage) {}

  // The records the function sent to `tag` with ProcessContext::emit_to.
  template <typename T>
  Stream<T> side_output(const SideOutput<T>& tag) {
    Status error;
    detail::StreamPort<T>* port = stage_->template side_port<T>(*this->graph_, tag.name(), error);
    if (port == nullptr) {
      if (this->graph_->build_error.is_ok()) this->graph_->build_error = error;
      port = this->graph_->template make_port<T>(stage_);
    }
    return Stream<T>(this->graph_, port);
  }

  // Records that arrived at or below the operator's watermark (late). Without this stream they
  // are dropped and counted (OperatorMetrics::late_records_dropped).
  Stream<In> late_records() {
    if (stage_->late_port == nullptr) stage_->late_port = this->graph_->template make_port<In>(stage_);
    return Stream<In>(this->graph_, stage_->late_port);
  }

 private:
  detail::KeyedStage<In, Out>* stage_;
};

template <typename T>
class KeyedStream {
 public:
  KeyedStream(detail::PipelineGraph* graph, detail::StreamPort<T>* port, KeyExtractor<T> extractor)
      : graph_(graph), port_(port), extractor_(std::move(extractor)) {}

  // A keyed process function (process_function.h): `factory` makes one per instance.
  template <typename Out>
  ProcessedStream<T, Out> process(std::string name, KeyedProcessFactory<T, Out> factory, OperatorOptions options = {}) {
    graph_->claim_name(name, "operator");
    if (options.parallelism == 0 && graph_->build_error.is_ok()) {
      graph_->build_error =
          Status::invalid_argument("operator '" + name + "': parallelism 0; give at least 1 instance");
      options.parallelism = 1;
    }
    auto stage = std::make_unique<detail::KeyedStage<T, Out>>(name, options.parallelism, std::move(factory));
    detail::KeyedStage<T, Out>* raw = stage.get();
    raw->set_upstream(port_->stage());
    raw->port = graph_->make_port<Out>(raw);
    graph_->stages.push_back(std::move(stage));
    KeyExtractor<T> extractor = extractor_;
    const bool skip = options.malformed_records == MalformedRecords::kSkip;
    port_->add_consumer([raw, name, extractor, skip](detail::TaskSetup& setup)
                            -> Result<std::unique_ptr<detail::Output<T>>> {
      std::atomic<uint64_t>* skipped = nullptr;
      if (skip) skipped = &setup.job.counters(name, "keyed", raw->parallelism()).malformed_records_skipped;
      return std::unique_ptr<detail::Output<T>>(std::make_unique<detail::ExchangeOutput<T>>(
          name, extractor, setup.job.max_parallelism(), raw->gates(), setup.instance, setup.job.batch_records(),
          skipped));
    });
    return ProcessedStream<T, Out>(graph_, raw);
  }

 private:
  detail::PipelineGraph* graph_;
  detail::StreamPort<T>* port_;
  KeyExtractor<T> extractor_;
};

template <typename T>
Stream<T> Pipeline::source(std::string name, std::shared_ptr<Source<T>> source, SourceOptions<T> options) {
  graph_->claim_name(name, "source");
  if (!source && graph_->build_error.is_ok()) graph_->build_error = Status::invalid_argument("source '" + name + "' is null");
  if (options.parallelism == 0 && graph_->build_error.is_ok()) {
    graph_->build_error = Status::invalid_argument("source '" + name + "': parallelism 0; give at least 1 instance");
    options.parallelism = 1;
  }
  auto stage = std::make_unique<detail::SourceStage<T>>(
      name, std::move(source), options.parallelism, std::move(options.event_time),
      detail::WatermarkPolicy{options.max_out_of_order_millis, options.idle_timeout_millis});
  detail::SourceStage<T>* raw = stage.get();
  raw->port = graph_->make_port<T>(raw);
  graph_->stages.push_back(std::move(stage));
  return Stream<T>(graph_.get(), raw->port);
}

}  // namespace streamstate
