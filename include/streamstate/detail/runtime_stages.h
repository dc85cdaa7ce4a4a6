// Internal to the runtime (pipeline.h): the two kinds of stage. A SourceStage deals its
// source's splits (discovered, or restored from a checkpoint) to its instances and runs a
// SourceTask per instance; a KeyedStage owns the input gates its upstream's exchanges push
// into and runs a KeyedTask per instance over that instance's restored state.
//
// Thread-safety: built and run from the thread that runs the pipeline.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/detail/runtime_gate.h"
#include "streamstate/detail/runtime_graph.h"
#include "streamstate/detail/runtime_keyed_task.h"
#include "streamstate/detail/runtime_side_outputs.h"
#include "streamstate/detail/runtime_source_task.h"
#include "streamstate/process_function.h"
#include "streamstate/source.h"

namespace streamstate::detail {

// A side output's chain, as the keyed instance sees it.
template <typename T>
class OutputSideChannel final : public SideChannel<T> {
 public:
  OutputSideChannel(std::string name, std::unique_ptr<Output<T>> output)
      : SideChannel<T>(std::move(name)), output_(std::move(output)) {}
  void emit(T value, int64_t timestamp) override { this->record(output_->push(std::move(value), timestamp)); }
  Status flush() override { return output_->flush(); }
  Status watermark(int64_t watermark, bool idle) override { return output_->watermark(watermark, idle); }
  Status barrier(const BarrierScope& scope) override { return output_->barrier(scope); }
  Status end() override { return output_->end(); }
  Status close() override { return output_->close(); }

 private:
  std::unique_ptr<Output<T>> output_;
};

// A side output of a keyed stage that something reads.
class SidePortBase {
 public:
  explicit SidePortBase(std::string name) : name_(std::move(name)) {}
  virtual ~SidePortBase() = default;
  const std::string& name() const { return name_; }
  virtual Result<std::unique_ptr<SideChannelBase>> build(TaskSetup& setup) = 0;

 private:
  std::string name_;
};

template <typename T>
class SidePort final : public SidePortBase {
 public:
  SidePort(std::string name, StreamPort<T>* port) : SidePortBase(std::move(name)), port_(port) {}
  StreamPort<T>* port() const { return port_; }
  Result<std::unique_ptr<SideChannelBase>> build(TaskSetup& setup) override {
    Result<std::unique_ptr<Output<T>>> output = port_->build(setup);
    if (!output.is_ok()) return output.status();
    return std::unique_ptr<SideChannelBase>(std::make_unique<OutputSideChannel<T>>(name(), std::move(*output)));
  }

 private:
  StreamPort<T>* port_;
};

template <typename T>
class SourceStage final : public StageBase {
 public:
  SourceStage(std::string name, std::shared_ptr<Source<T>> source, uint32_t parallelism,
              std::function<int64_t(const T&)> event_time, WatermarkPolicy policy)
      : StageBase(std::move(name), "source", parallelism),
        source_(std::move(source)),
        event_time_(std::move(event_time)),
        policy_(policy) {}

  StreamPort<T>* port = nullptr;

  Result<std::vector<std::function<void()>>> make_tasks(RunEnvironment& env) override {
    std::vector<SourceSplit> splits;
    if (std::optional<std::vector<SourceSplit>> restored = env.restored_splits(name())) {
      splits = std::move(*restored);
    } else {
      Result<std::vector<SourceSplit>> discovered = call_guarded([&] { return source_->discover_splits(); });
      if (!discovered.is_ok()) {
        return Status(discovered.status().code(),
                      "source '" + name() + "' (" + source_->describe() + "): " + discovered.status().message());
      }
      splits = std::move(*discovered);
    }
    OperatorCounters& counters = env.job().counters(name(), "source", parallelism());
    std::vector<std::function<void()>> tasks;
    for (uint32_t instance = 0; instance < parallelism(); ++instance) {
      std::vector<SourceSplit> mine;
      for (size_t i = instance; i < splits.size(); i += parallelism()) mine.push_back(splits[i]);
      SourceReaderContext context{name(), instance, parallelism()};
      Result<std::unique_ptr<SourceReader<T>>> reader =
          call_guarded([&] { return source_->open_reader(std::move(mine), context); });
      if (!reader.is_ok()) {
        return Status(reader.status().code(), "source '" + name() + "' instance " + std::to_string(instance) + " (" +
                                                  source_->describe() + "): " + reader.status().message());
      }
      TaskSetup setup{env.job(), instance, parallelism()};
      Result<std::unique_ptr<Output<T>>> output = port->build(setup);
      if (!output.is_ok()) return output.status();
      auto task = std::make_shared<SourceTask<T>>(env.job(), counters, name(), instance, std::move(*reader),
                                                  std::move(*output), event_time_, policy_, env.batch_records());
      tasks.push_back([task] { task->run(); });
    }
    return tasks;
  }

 private:
  std::shared_ptr<Source<T>> source_;
  std::function<int64_t(const T&)> event_time_;
  WatermarkPolicy policy_;
};

template <typename In, typename Out>
class KeyedStage final : public StageBase {
 public:
  KeyedStage(std::string name, uint32_t parallelism, KeyedProcessFactory<In, Out> factory)
      : StageBase(std::move(name), "keyed", parallelism), factory_(std::move(factory)) {}

  StreamPort<Out>* port = nullptr;
  // Late records (at or below the watermark) go here when something reads them; else dropped.
  StreamPort<In>* late_port = nullptr;

  // The stream of side output `name`, made on first use; null (with `error` set) when it was
  // asked for with another record type before.
  template <typename T>
  StreamPort<T>* side_port(PipelineGraph& graph, const std::string& name, Status& error) {
    for (const auto& side : side_ports_) {
      if (side->name() != name) continue;
      auto* typed = dynamic_cast<SidePort<T>*>(side.get());
      if (typed == nullptr) {
        error = Status::invalid_argument("operator '" + this->name() + "': side output '" + name +
                                         "' is read with two record types");
        return nullptr;
      }
      return typed->port();
    }
    StreamPort<T>* created = graph.make_port<T>(this);
    side_ports_.push_back(std::make_unique<SidePort<T>>(name, created));
    return created;
  }

  // The gates of the current run, one per instance (the upstream's exchanges push into them).
  std::vector<InputGate<In>*> gates() const {
    std::vector<InputGate<In>*> out;
    for (const auto& gate : gates_) out.push_back(gate.get());
    return out;
  }

  Status create_gates(RunEnvironment& env) override {
    gates_.clear();
    OperatorCounters& counters = env.job().counters(name(), "keyed", parallelism());
    const uint32_t channels = upstream() == nullptr ? 1 : upstream()->parallelism();
    for (uint32_t instance = 0; instance < parallelism(); ++instance) {
      gates_.push_back(std::make_unique<InputGate<In>>(env.job(), counters, channels, env.queue_batches()));
    }
    return Status::ok();
  }

  Result<std::vector<std::function<void()>>> make_tasks(RunEnvironment& env) override {
    OperatorCounters& counters = env.job().counters(name(), "keyed", parallelism());
    std::vector<std::function<void()>> tasks;
    for (uint32_t instance = 0; instance < parallelism(); ++instance) {
      Result<KeyedInstance> parts = env.open_keyed_instance(name(), instance, parallelism());
      if (!parts.is_ok()) return parts.status();
      std::unique_ptr<KeyedProcessFunction<In, Out>> function;
      try {
        function = factory_();
      } catch (const std::exception& e) {
        return Status::aborted("operator '" + name() + "': its factory threw: " + e.what());
      }
      if (!function) {
        return Status::invalid_argument("operator '" + name() + "': its factory returned no function object");
      }
      TaskSetup setup{env.job(), instance, parallelism()};
      Result<std::unique_ptr<Output<Out>>> output = port->build(setup);
      if (!output.is_ok()) return output.status();
      std::vector<std::unique_ptr<SideChannelBase>> sides;
      for (const auto& side : side_ports_) {
        Result<std::unique_ptr<SideChannelBase>> channel = side->build(setup);
        if (!channel.is_ok()) return channel.status();
        sides.push_back(std::move(*channel));
      }
      std::unique_ptr<SideChannel<In>> late;
      if (late_port != nullptr) {
        Result<std::unique_ptr<Output<In>>> late_output = late_port->build(setup);
        if (!late_output.is_ok()) return late_output.status();
        late = std::make_unique<OutputSideChannel<In>>("late records", std::move(*late_output));
      }
      Result<StateCheckpointPlan> plan = env.checkpoint_plan(name(), instance);
      if (!plan.is_ok()) return plan.status();
      auto task = std::make_shared<KeyedTask<In, Out>>(env.job(), counters, std::move(*parts), std::move(function),
                                                       *gates_[instance], std::move(*output), std::move(*plan),
                                                       std::move(sides), std::move(late));
      tasks.push_back([task] { task->run(); });
    }
    return tasks;
  }

  void reset() override { gates_.clear(); }

 private:
  KeyedProcessFactory<In, Out> factory_;
  std::vector<std::unique_ptr<InputGate<In>>> gates_;
  std::vector<std::unique_ptr<SidePortBase>> side_ports_;
};

}  // namespace streamstate::detail
