// Internal to the runtime (pipeline.h): the graph a Pipeline builds and how a run turns it into
// task threads. A stage is a set of instances of one parallelism, each a thread: a source stage
// (a source and everything chained after it) or a keyed stage (a keyed process function after
// key_by, and everything chained after it). A StreamPort is a stream inside a stage: the
// consumers attached to it are built into each instance's push chain when the run starts.
//
// Thread-safety: built on one thread; a run builds its tasks before starting their threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/detail/runtime_job.h"
#include "streamstate/detail/runtime_keyed_task.h"
#include "streamstate/detail/runtime_outputs.h"
#include "streamstate/source.h"

namespace streamstate::detail {

struct PipelineConfig;

// One instance being built.
struct TaskSetup {
  JobRuntime& job;
  uint32_t instance = 0;
  uint32_t parallelism = 1;
};

template <typename T>
using ConsumerFactory = std::function<Result<std::unique_ptr<Output<T>>>(TaskSetup&)>;

// What a run offers the stages while they build their tasks (implemented in src/runtime).
class RunEnvironment {
 public:
  virtual ~RunEnvironment() = default;
  virtual JobRuntime& job() = 0;
  virtual uint32_t max_parallelism() const = 0;
  virtual size_t batch_records() const = 0;
  virtual size_t queue_batches() const = 0;
  // The splits a restored checkpoint holds for `source`; nullopt on a fresh start.
  virtual std::optional<std::vector<SourceSplit>> restored_splits(const std::string& source) = 0;
  // A keyed instance's backend (restored when resuming), store and timers.
  virtual Result<KeyedInstance> open_keyed_instance(const std::string& operator_name, uint32_t instance,
                                                    uint32_t parallelism) = 0;
  virtual Result<StateCheckpointPlan> checkpoint_plan(const std::string& operator_name, uint32_t instance) = 0;
};

class StageBase {
 public:
  StageBase(std::string name, std::string kind, uint32_t parallelism)
      : name_(std::move(name)), kind_(std::move(kind)), parallelism_(parallelism) {}
  virtual ~StageBase() = default;
  const std::string& name() const { return name_; }
  const std::string& kind() const { return kind_; }
  uint32_t parallelism() const { return parallelism_; }
  // The stage feeding this one (keyed stages); null for sources.
  StageBase* upstream() const { return upstream_; }
  void set_upstream(StageBase* upstream) { upstream_ = upstream; }

  // First pass of a run: input queues (keyed stages).
  virtual Status create_gates(RunEnvironment& /*env*/) { return Status::ok(); }
  // Second pass: the instances, as thread bodies.
  virtual Result<std::vector<std::function<void()>>> make_tasks(RunEnvironment& env) = 0;
  // After the run: drop the queues and tasks.
  virtual void reset() {}

 private:
  std::string name_;
  std::string kind_;
  uint32_t parallelism_;
  StageBase* upstream_ = nullptr;
};

template <typename T>
class StreamPort {
 public:
  explicit StreamPort(StageBase* stage) : stage_(stage) {}
  StageBase* stage() const { return stage_; }
  void add_consumer(ConsumerFactory<T> factory) { consumers_.push_back(std::move(factory)); }
  Result<std::unique_ptr<Output<T>>> build(TaskSetup& setup) {
    if (consumers_.empty()) return std::unique_ptr<Output<T>>(std::make_unique<DiscardOutput<T>>());
    if (consumers_.size() == 1) return consumers_[0](setup);
    std::vector<std::unique_ptr<Output<T>>> outputs;
    for (auto& factory : consumers_) {
      Result<std::unique_ptr<Output<T>>> output = factory(setup);
      if (!output.is_ok()) return output.status();
      outputs.push_back(std::move(*output));
    }
    return std::unique_ptr<Output<T>>(std::make_unique<FanOutOutput<T>>(std::move(outputs)));
  }

 private:
  StageBase* stage_;
  std::vector<ConsumerFactory<T>> consumers_;
};

// Everything a Pipeline built, owned in one place.
struct PipelineGraph {
  std::vector<std::unique_ptr<StageBase>> stages;
  std::vector<std::shared_ptr<void>> ports;  // StreamPort<T> of every stream
  std::vector<SinkHandle> sinks;
  std::set<std::string> names;  // operator, source and sink names: unique
  Status build_error;           // the first mistake while building; run() reports it

  template <typename T>
  StreamPort<T>* make_port(StageBase* stage) {
    auto port = std::make_shared<StreamPort<T>>(stage);
    StreamPort<T>* raw = port.get();
    ports.push_back(std::move(port));
    return raw;
  }
  // Registers a name; records a build error for a duplicate or bad one.
  bool claim_name(const std::string& name, std::string_view what);
};

}  // namespace streamstate::detail
