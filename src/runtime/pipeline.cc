// Pipeline::run: restores, starts the task threads and coordinates checkpoints (trigger, collect
// acknowledgements, write the job manifest, commit sinks, keep the newest few) until the input
// ends, stop() or a failure.
#include "streamstate/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/job_manifest.h"
#include "runtime/job_retention.h"
#include "runtime/prefixed_storage.h"
#include "streamstate/config.h"
#include "streamstate/local_recovery.h"
#include "util/status_macros.h"

namespace streamstate {

namespace {

int64_t steady_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class Pipeline::Runner final : public detail::RunEnvironment {
 public:
  Runner(const PipelineOptions& options, detail::PipelineGraph& graph)
      : options_(options), graph_(graph), clock_(options.clock ? options.clock : system_clock()) {}

  Result<PipelineResult> run();
  void stop(StopMode mode) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!job_) {
      stop_requested_ = mode;
      return;
    }
    if (mode == StopMode::kCancel) {
      job_->cancel();
    } else {
      job_->drain(mode == StopMode::kDrain);
    }
  }
  PipelineMetrics metrics() const;

  // ---- RunEnvironment ----
  detail::JobRuntime& job() override { return *job_; }
  uint32_t max_parallelism() const override { return options_.max_parallelism; }
  size_t batch_records() const override { return options_.batch_records; }
  size_t queue_batches() const override { return options_.queue_batches; }
  std::optional<std::vector<SourceSplit>> restored_splits(const std::string& source) override {
    if (!restored_) return std::nullopt;
    auto it = restored_->sources.find(source);
    if (it == restored_->sources.end()) return std::nullopt;  // a source added since
    return it->second;
  }
  Result<detail::KeyedInstance> open_keyed_instance(const std::string& operator_name, uint32_t instance,
                                                    uint32_t parallelism) override;
  Result<detail::StateCheckpointPlan> checkpoint_plan(const std::string& operator_name, uint32_t instance) override {
    detail::StateCheckpointPlan plan;
    plan.exactly_once = options_.mode == CheckpointingMode::kExactlyOnce;
    if (!options_.checkpoints) return plan;
    plan.prefix = detail::state_prefix(operator_name, instance);
    STREAMSTATE_ASSIGN_OR_RETURN(plan.storage, instance_storage(plan.prefix));
    plan.options = options_.state_checkpoints;
    plan.options.max_parallelism = options_.max_parallelism;
    plan.options.clock = clock_;
    return plan;
  }

 private:
  Status validate() const;
  Status prepare_storage();
  Status run_checkpoint(CheckpointId id, bool final_checkpoint);
  Status retain();
  void report_progress();
  CheckpointStorage* storage() const { return options_.checkpoints.get(); }
  // The folder of a keyed instance's state checkpoints ("state/<operator>/<instance>/"), with
  // a local copy under local_recovery_directory when one is configured. One per folder.
  Result<std::shared_ptr<CheckpointStorage>> instance_storage(const std::string& prefix);
  std::map<std::string, std::shared_ptr<CheckpointStorage>> instance_storages_;

  const PipelineOptions& options_;
  detail::PipelineGraph& graph_;
  std::shared_ptr<const Clock> clock_;
  std::optional<detail::JobManifest> restored_;
  CheckpointId next_id_ = 1;
  // Read by metrics() from other threads.
  std::atomic<int64_t> started_millis_{0};
  std::atomic<int64_t> restore_millis_{0};
  std::atomic<CheckpointId> restored_from_{0};  // 0: not resumed

  mutable std::mutex mutex_;  // job_, checkpoint metrics, stop_requested_
  std::unique_ptr<detail::JobRuntime> job_;
  std::optional<StopMode> stop_requested_;
  CheckpointMetrics checkpoint_metrics_;
  bool running_ = false;
  bool ran_ = false;
  // Steady-clock start of the checkpoint in flight (0 = none): its sink transactions are
  // pre-committed and wait for its completion.
  std::atomic<int64_t> in_flight_since_{0};
};

Status Pipeline::Runner::validate() const {
  STREAMSTATE_RETURN_IF_ERROR(graph_.build_error);
  if (graph_.stages.empty()) return Status::invalid_argument("pipeline '" + options_.name + "' has no source");
  if (Status status = validate_max_parallelism(options_.max_parallelism); !status.is_ok()) {
    return Status::invalid_argument("pipeline '" + options_.name + "': " + status.message());
  }
  for (const auto& stage : graph_.stages) {
    if (stage->kind() != "keyed") continue;
    if (Status status = validate_parallelism(options_.max_parallelism, stage->parallelism()); !status.is_ok()) {
      return Status::invalid_argument("operator '" + stage->name() + "': " + status.message());
    }
  }
  if (options_.batch_records == 0 || options_.queue_batches == 0) {
    return Status::invalid_argument("pipeline '" + options_.name +
                                    "': batch_records and queue_batches must be at least 1");
  }
  if (options_.checkpoint_interval_millis < 0) {
    return Status::invalid_argument("pipeline '" + options_.name + "': checkpoint_interval_millis " +
                                    std::to_string(options_.checkpoint_interval_millis) +
                                    " is negative; give 0 (only the final checkpoint) or a positive interval");
  }
  if (options_.retained_checkpoints == 0) {
    return Status::invalid_argument("pipeline '" + options_.name + "': retained_checkpoints must be at least 1");
  }
  return Status::ok();
}

// Finds what to resume from and the next checkpoint id, and removes what no job manifest
// references (state checkpoints of job checkpoints that never completed).
Status Pipeline::Runner::prepare_storage() {
  if (!storage()) {
    if (options_.resume_from) {
      return Status::invalid_argument("pipeline '" + options_.name + "': resume_from needs checkpoint storage");
    }
    return Status::ok();
  }
  STREAMSTATE_RETURN_IF_ERROR(storage()->remove_incomplete());
  if (options_.resume_from) {
    Result<detail::JobManifest> manifest = detail::read_job_checkpoint(*storage(), *options_.resume_from);
    if (!manifest.is_ok()) {
      return Status(manifest.status().code(), "pipeline '" + options_.name + "': cannot resume from checkpoint " +
                                                  std::to_string(*options_.resume_from) + " in " +
                                                  storage()->describe() + ": " + manifest.status().message());
    }
    restored_ = std::move(*manifest);
  } else if (options_.resume) {
    std::vector<std::string> skipped;
    STREAMSTATE_ASSIGN_OR_RETURN(restored_, detail::latest_job_checkpoint(*storage(), &skipped));
  }
  if (restored_) restored_from_ = restored_->id;
  if (restored_ && restored_->max_parallelism != options_.max_parallelism) {
    return Status::failed_precondition(
        "pipeline '" + options_.name + "': checkpoint " + std::to_string(restored_->id) + " has max_parallelism " +
        std::to_string(restored_->max_parallelism) + " but the pipeline asks for " +
        std::to_string(options_.max_parallelism) + "; key groups cannot change (keep " +
        std::to_string(restored_->max_parallelism) + ")");
  }
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointId next, detail::next_job_checkpoint_id(*storage()));
  next_id_ = std::max(next_id_, next);
  return retain();
}

Result<std::shared_ptr<CheckpointStorage>> Pipeline::Runner::instance_storage(const std::string& prefix) {
  auto found = instance_storages_.find(prefix);
  if (found != instance_storages_.end()) return found->second;
  std::shared_ptr<CheckpointStorage> folder = std::make_shared<detail::PrefixedStorage>(options_.checkpoints, prefix);
  if (!options_.local_recovery_directory.empty()) {
    LocalRecoveryOptions local;
    local.path = (std::filesystem::path(options_.local_recovery_directory) / prefix).string();
    Result<std::unique_ptr<LocalRecoveryStorage>> opened = open_local_recovery_storage(folder, local);
    if (!opened.is_ok()) {
      return Status(opened.status().code(), "pipeline '" + options_.name +
                                                "': local_recovery_directory: " + opened.status().message());
    }
    folder = std::shared_ptr<CheckpointStorage>(std::move(*opened));
  }
  instance_storages_.emplace(prefix, folder);
  return folder;
}

Result<detail::KeyedInstance> Pipeline::Runner::open_keyed_instance(const std::string& operator_name,
                                                                    uint32_t instance, uint32_t parallelism) {
  detail::KeyedInstance parts;
  parts.operator_name = operator_name;
  parts.instance = instance;
  parts.parallelism = parallelism;
  parts.key_groups = KeyGroupRange::for_operator(options_.max_parallelism, parallelism, instance);
  const StateBackendFactory& factory = options_.state_backend ? options_.state_backend : memory_state();
  Result<std::shared_ptr<StateBackend>> backend =
      factory(StateBackendRequest{options_.name, operator_name, instance, parts.key_groups});
  if (!backend.is_ok()) {
    return Status(backend.status().code(), "operator '" + operator_name + "' instance " + std::to_string(instance) +
                                               ": cannot open its state backend: " + backend.status().message());
  }
  parts.backend = std::move(*backend);
  if (restored_) {
    std::vector<RestoreSource> sources;
    for (const detail::JobStateCheckpoint& state : restored_->states) {
      if (state.operator_name != operator_name || state.key_groups.intersect(parts.key_groups).empty()) continue;
      STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<CheckpointStorage> folder, instance_storage(state.prefix));
      sources.push_back(RestoreSource{folder.get(), state.id});
    }
    if (!sources.empty()) {
      RestoreOptions restore;
      restore.key_groups = parts.key_groups;
      Result<RestoreInfo> info = restore_checkpoints(sources, *parts.backend, restore);
      if (!info.is_ok()) {
        return Status(info.status().code(), "operator '" + operator_name + "' instance " + std::to_string(instance) +
                                                ": cannot restore checkpoint " + std::to_string(restored_->id) + ": " +
                                                info.status().message());
      }
    }
  }
  if (options_.write_back_cache) {
    Result<std::shared_ptr<WriteBackCache>> cache = open_write_back_cache(parts.backend, *options_.write_back_cache);
    if (!cache.is_ok()) {
      return Status(cache.status().code(), "operator '" + operator_name + "' instance " + std::to_string(instance) +
                                               ": write_back_cache: " + cache.status().message());
    }
    parts.backend = std::move(*cache);
  }
  KeyedStateStoreOptions store_options;
  store_options.max_parallelism = options_.max_parallelism;
  store_options.key_groups = parts.key_groups;
  store_options.clock = clock_;
  STREAMSTATE_ASSIGN_OR_RETURN(parts.store, KeyedStateStore::open(parts.backend, store_options));
  STREAMSTATE_ASSIGN_OR_RETURN(parts.timers, detail::KeyedTimers::open(parts.backend, parts.key_groups));
  return parts;
}

Result<PipelineResult> Pipeline::Runner::run() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ran_) return Status::failed_precondition("pipeline '" + options_.name + "' was run already; build a new one");
    ran_ = true;
  }
  started_millis_ = steady_millis();
  STREAMSTATE_RETURN_IF_ERROR(validate());
  STREAMSTATE_RETURN_IF_ERROR(prepare_storage());

  uint32_t source_instances = 0;
  uint32_t tasks = 0;
  for (const auto& stage : graph_.stages) {
    tasks += stage->parallelism();
    if (stage->kind() == "source") source_instances += stage->parallelism();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = std::make_unique<detail::JobRuntime>(clock_, source_instances, tasks, options_.max_parallelism,
                                                options_.batch_records);
    running_ = true;
  }
  // Sinks first: publish what the restored checkpoint pre-committed, discard the rest.
  for (const detail::SinkHandle& sink : graph_.sinks) {
    std::vector<std::string> committables;
    if (restored_) {
      auto it = restored_->committables.find(sink.name);
      if (it != restored_->committables.end()) committables = it->second;
    }
    if (Status status = detail::call_guarded([&] { return sink.recover(committables); }); !status.is_ok()) {
      return Status(status.code(), "sink '" + sink.name + "' could not recover: " + status.message());
    }
  }

  std::vector<std::function<void()>> bodies;
  Status status;
  for (const auto& stage : graph_.stages) {
    if (status = stage->create_gates(*this); !status.is_ok()) break;
  }
  if (status.is_ok()) {
    for (const auto& stage : graph_.stages) {
      Result<std::vector<std::function<void()>>> made = stage->make_tasks(*this);
      if (!made.is_ok()) {
        status = made.status();
        break;
      }
      for (auto& body : *made) bodies.push_back(std::move(body));
    }
  }
  std::vector<std::thread> threads;
  if (status.is_ok()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_requested_ == StopMode::kCancel) job_->cancel();
      if (stop_requested_ == StopMode::kDrain) job_->drain(true);
      if (stop_requested_ == StopMode::kSuspend) job_->drain(false);
    }
    restore_millis_ = steady_millis() - started_millis_;
    for (auto& body : bodies) threads.emplace_back(body);

    // Coordinate until the final checkpoint completes or the job stops.
    int64_t last_checkpoint_end = steady_millis();
    int64_t last_progress = last_checkpoint_end;
    while (!job_->stopping()) {
      if (job_->sources_finished() == job_->source_instances()) {
        if (Status done = run_checkpoint(next_id_++, true); !done.is_ok()) job_->fail(done);
        break;
      }
      const int64_t now = steady_millis();
      if (storage() && options_.checkpoint_interval_millis > 0 &&
          now - last_checkpoint_end >= options_.checkpoint_interval_millis) {
        if (Status done = run_checkpoint(next_id_++, false); !done.is_ok()) {
          job_->fail(done);
          break;
        }
        last_checkpoint_end = steady_millis();
      }
      if (options_.on_progress && steady_millis() - last_progress >= options_.progress_interval_millis) {
        last_progress = steady_millis();
        report_progress();
      }
      int64_t wait_millis = 20;
      if (storage() && options_.checkpoint_interval_millis > 0) {
        wait_millis = std::clamp<int64_t>(last_checkpoint_end + options_.checkpoint_interval_millis - steady_millis(), 0, 20);
      }
      if (wait_millis > 0) job_->wait_for_event(wait_millis);
    }
    // Finished tasks end after the final barrier; stopped ones must be woken.
    if (job_->stopping()) job_->wake_all();
    for (std::thread& thread : threads) thread.join();
    status = job_->failed() ? job_->failure() : Status::ok();
  }
  if (!status.is_ok() && !job_->failed()) job_->fail(status);
  job_->discard_acks();  // waits for state checkpoints still being written
  bodies.clear();  // the tasks: their state stores and backends close
  PipelineResult result;
  result.cancelled = job_->cancelled() && !job_->failed();
  result.metrics = metrics();
  result.metrics.running = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = false;
  }
  for (const auto& stage : graph_.stages) stage->reset();
  if (!status.is_ok()) return status;
  if (options_.on_progress) options_.on_progress(result.metrics);
  return result;
}

Status Pipeline::Runner::run_checkpoint(CheckpointId id, bool final_checkpoint) {
  const int64_t start = steady_millis();
  in_flight_since_.store(start, std::memory_order_release);
  struct InFlight {
    std::atomic<int64_t>& since;
    ~InFlight() { since.store(0, std::memory_order_release); }
  } in_flight{in_flight_since_};
  job_->trigger(id, final_checkpoint);
  std::optional<std::vector<detail::TaskAck>> acks = job_->wait_for_acks(id, options_.checkpoint_timeout_millis);
  if (!acks) {
    if (job_->stopping()) return job_->failed() ? job_->failure() : Status::aborted("the pipeline was cancelled");
    return Status::timeout("pipeline '" + options_.name + "': checkpoint " + std::to_string(id) + " did not complete in " +
                           std::to_string(options_.checkpoint_timeout_millis) +
                           " ms (checkpoint_timeout_millis); an operator may be stuck or backpressured");
  }
  detail::JobManifest manifest;
  manifest.id = id;
  manifest.pipeline = options_.name;
  manifest.created_millis = clock_->now_millis();
  manifest.final_checkpoint = final_checkpoint;
  manifest.max_parallelism = options_.max_parallelism;
  for (const auto& stage : graph_.stages) manifest.parallelism[stage->name()] = stage->parallelism();
  int64_t sync_micros = 0;
  uint64_t bytes = 0;
  std::sort(acks->begin(), acks->end(), [](const detail::TaskAck& a, const detail::TaskAck& b) { return a.task < b.task; });
  for (detail::TaskAck& ack : *acks) {
    if (!ack.source_name.empty()) {
      auto& splits = manifest.sources[ack.source_name];
      splits.insert(splits.end(), ack.splits.begin(), ack.splits.end());
    }
    for (auto& [sink, committable] : ack.committables) manifest.committables[sink].push_back(std::move(committable));
    if (ack.state) {
      Result<CheckpointInfo> info = ack.state->pending->wait();
      if (!info.is_ok()) {
        return Status(info.status().code(), "checkpoint " + std::to_string(id) + " of operator '" +
                                                ack.state->operator_name + "' instance " +
                                                std::to_string(ack.state->instance) + " failed: " + info.status().message());
      }
      sync_micros = std::max(sync_micros, info->sync_micros);
      bytes += info->bytes_written;
      manifest.states.push_back(detail::JobStateCheckpoint{ack.state->operator_name, ack.state->instance,
                                                           ack.state->key_groups, ack.state->prefix, id,
                                                           info->bytes_written});
    }
  }
  if (storage()) {
    if (Status status = detail::write_job_manifest(*storage(), manifest); !status.is_ok()) {
      return Status(status.code(), "pipeline '" + options_.name + "': cannot commit checkpoint " +
                                       std::to_string(id) + ": " + status.message());
    }
  }
  // The checkpoint is complete: publish what the sinks pre-committed for it.
  for (const detail::SinkHandle& sink : graph_.sinks) {
    auto it = manifest.committables.find(sink.name);
    if (it == manifest.committables.end()) continue;
    for (const std::string& committable : it->second) {
      if (Status status = detail::call_guarded([&] { return sink.commit(committable); }); !status.is_ok()) {
        return Status(status.code(), "sink '" + sink.name + "' could not commit checkpoint " + std::to_string(id) +
                                         " (it is committed again on restart): " + status.message());
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++checkpoint_metrics_.completed;
    checkpoint_metrics_.last_id = id;
    checkpoint_metrics_.last_duration_millis = steady_millis() - start;
    checkpoint_metrics_.last_sync_micros = sync_micros;
    checkpoint_metrics_.last_bytes = bytes;
  }
  return storage() ? retain() : Status::ok();
}

// Keeps the newest retained_checkpoints job manifests and the state checkpoints they name.
Status Pipeline::Runner::retain() { return detail::retain_job_checkpoints(*storage(), options_.retained_checkpoints); }

PipelineMetrics Pipeline::Runner::metrics() const {
  PipelineMetrics metrics;
  metrics.pipeline = options_.name;
  std::lock_guard<std::mutex> lock(mutex_);
  metrics.running = running_;
  const int64_t started = started_millis_.load();
  metrics.elapsed_millis = started == 0 ? 0 : steady_millis() - started;
  metrics.checkpoints = checkpoint_metrics_;
  if (const int64_t since = in_flight_since_.load(std::memory_order_acquire); since != 0) {
    metrics.checkpoints.oldest_uncommitted_millis = steady_millis() - since;
  }
  if (const CheckpointId restored = restored_from_.load(); restored != 0) metrics.restored_from = restored;
  metrics.restore_millis = restore_millis_.load();
  if (job_ && job_->first_record_steady_millis() != 0) {
    metrics.first_record_millis = job_->first_record_steady_millis() - started;
  }
  if (job_) {
    for (const detail::OperatorCounters* counters : job_->all_counters()) {
      OperatorMetrics op;
      op.name = counters->name;
      op.kind = counters->kind;
      op.parallelism = counters->parallelism;
      op.records_in = counters->records_in.load(std::memory_order_relaxed);
      op.records_out = counters->records_out.load(std::memory_order_relaxed);
      op.late_records_dropped = counters->late_records_dropped.load(std::memory_order_relaxed);
      op.malformed_records_skipped = counters->malformed_records_skipped.load(std::memory_order_relaxed);
      op.backpressure_seconds = static_cast<double>(counters->backpressure_nanos.load(std::memory_order_relaxed)) / 1e9;
      op.queued_batches = counters->queued_batches.load(std::memory_order_relaxed);
      op.queue_capacity = counters->queue_capacity.load(std::memory_order_relaxed);
      op.watermark = counters->watermark.load(std::memory_order_relaxed);
      if (op.watermark != INT64_MIN && op.watermark != INT64_MAX && clock_) {
        op.watermark_lag_millis = clock_->now_millis() - op.watermark;
      }
      metrics.operators.push_back(std::move(op));
    }
  }
  return metrics;
}

void Pipeline::Runner::report_progress() { options_.on_progress(metrics()); }

Pipeline::Pipeline(PipelineOptions options)
    : options_(std::move(options)),
      graph_(std::make_unique<detail::PipelineGraph>()),
      runner_(std::make_unique<Runner>(options_, *graph_)) {}

Pipeline::~Pipeline() = default;

Result<PipelineResult> Pipeline::run() { return runner_->run(); }

void Pipeline::stop(StopMode mode) { runner_->stop(mode); }

PipelineMetrics Pipeline::metrics() const { return runner_->metrics(); }

const PipelineOptions& Pipeline::options() const { return options_; }

detail::PipelineGraph& Pipeline::graph() { return *graph_; }

}  // namespace streamstate
