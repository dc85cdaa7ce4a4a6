// Internal to the runtime (pipeline.h): the push chain inside a task. A task pushes each record
// into an Output; stateless operators (map, filter, flat_map) are Outputs that call the user's
// function and push on - chained in the producing task's thread, no queue between them - and a
// chain ends in a sink writer or in an exchange that routes records by key group to the next
// stage's instances. Watermarks, barriers and the end of input follow the same path, in order.
//
// Thread-safety: a chain belongs to one task thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "streamstate/detail/runtime_gate.h"
#include "streamstate/detail/runtime_job.h"
#include "streamstate/key_extractor.h"
#include "streamstate/key_group.h"
#include "streamstate/sink.h"
#include "streamstate/status.h"

namespace streamstate::detail {

// A record as error messages show it.
template <typename T>
std::string printable_record(const T& record) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return printable_record_text(std::string_view(record));
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return printable_record_text(record.dump());
  } else if constexpr (requires(std::ostream& os) { os << record; }) {
    std::ostringstream out;
    out << record;
    return printable_record_text(out.str());
  } else if constexpr (requires { nlohmann::json(record); }) {
    return printable_record_text(nlohmann::json(record).dump());
  } else {
    return "(a record of " + std::to_string(sizeof(T)) + "-byte type; give it operator<< to see it here)";
  }
}

// The failure of user code on a record, as the pipeline reports it.
template <typename T>
Status record_failure(std::string_view what, const std::string& operator_name, const T& record,
                      std::string_view cause) {
  return Status::aborted(std::string(what) + " '" + operator_name + "' failed on record " +
                         printable_record(record) + ": " + std::string(cause));
}

// Where a barrier is: the checkpoint, and the acknowledgement the task is filling in.
struct BarrierScope {
  CheckpointId id = 0;
  bool final_barrier = false;
  TaskAck* ack = nullptr;
};

template <typename T>
class Output {
 public:
  virtual ~Output() = default;
  virtual Status push(T&& value, int64_t timestamp) = 0;
  // Sends what is buffered on (at the end of an input batch or poll).
  virtual Status flush() = 0;
  virtual Status watermark(int64_t watermark, bool idle) = 0;
  virtual Status barrier(const BarrierScope& scope) = 0;
  // The input ended (after the final barrier).
  virtual Status end() = 0;
  // The task stops (finished, failed or cancelled): release resources.
  virtual Status close() = 0;
};

// Forwards everything but records to the next output.
template <typename In, typename Out>
class ForwardingOutput : public Output<In> {
 public:
  explicit ForwardingOutput(std::unique_ptr<Output<Out>> next) : next_(std::move(next)) {}
  Status flush() override { return next_->flush(); }
  Status watermark(int64_t watermark, bool idle) override { return next_->watermark(watermark, idle); }
  Status barrier(const BarrierScope& scope) override { return next_->barrier(scope); }
  Status end() override { return next_->end(); }
  Status close() override { return next_->close(); }

 protected:
  std::unique_ptr<Output<Out>> next_;
};

template <typename In, typename Out, typename F>
class MapOutput final : public ForwardingOutput<In, Out> {
 public:
  MapOutput(std::string name, F fn, OperatorCounters& counters, std::unique_ptr<Output<Out>> next)
      : ForwardingOutput<In, Out>(std::move(next)), name_(std::move(name)), fn_(std::move(fn)), counters_(counters) {}
  Status push(In&& value, int64_t timestamp) override {
    counters_.records_in.fetch_add(1, std::memory_order_relaxed);
    try {
      Out out = std::invoke(fn_, static_cast<const In&>(value));
      counters_.records_out.fetch_add(1, std::memory_order_relaxed);
      return this->next_->push(std::move(out), timestamp);
    } catch (const std::exception& e) {
      return record_failure("map", name_, value, e.what());
    }
  }

 private:
  std::string name_;
  F fn_;
  OperatorCounters& counters_;
};

template <typename T, typename F>
class FilterOutput final : public ForwardingOutput<T, T> {
 public:
  FilterOutput(std::string name, F fn, OperatorCounters& counters, std::unique_ptr<Output<T>> next)
      : ForwardingOutput<T, T>(std::move(next)), name_(std::move(name)), fn_(std::move(fn)), counters_(counters) {}
  Status push(T&& value, int64_t timestamp) override {
    counters_.records_in.fetch_add(1, std::memory_order_relaxed);
    bool keep = false;
    try {
      keep = std::invoke(fn_, static_cast<const T&>(value));
    } catch (const std::exception& e) {
      return record_failure("filter", name_, value, e.what());
    }
    if (!keep) return Status::ok();
    counters_.records_out.fetch_add(1, std::memory_order_relaxed);
    return this->next_->push(std::move(value), timestamp);
  }

 private:
  std::string name_;
  F fn_;
  OperatorCounters& counters_;
};

// fn(const In&, std::vector<Out>& out) appends any number of results.
template <typename In, typename Out, typename F>
class FlatMapOutput final : public ForwardingOutput<In, Out> {
 public:
  FlatMapOutput(std::string name, F fn, OperatorCounters& counters, std::unique_ptr<Output<Out>> next)
      : ForwardingOutput<In, Out>(std::move(next)), name_(std::move(name)), fn_(std::move(fn)), counters_(counters) {}
  Status push(In&& value, int64_t timestamp) override {
    counters_.records_in.fetch_add(1, std::memory_order_relaxed);
    buffer_.clear();
    try {
      std::invoke(fn_, static_cast<const In&>(value), buffer_);
    } catch (const std::exception& e) {
      return record_failure("flat_map", name_, value, e.what());
    }
    counters_.records_out.fetch_add(buffer_.size(), std::memory_order_relaxed);
    for (Out& out : buffer_) {
      if (Status status = this->next_->push(std::move(out), timestamp); !status.is_ok()) return status;
    }
    return Status::ok();
  }

 private:
  std::string name_;
  F fn_;
  OperatorCounters& counters_;
  std::vector<Out> buffer_;
};

// Several consumers of one stream: each gets every record (copies; the last one the original).
template <typename T>
class FanOutOutput final : public Output<T> {
 public:
  explicit FanOutOutput(std::vector<std::unique_ptr<Output<T>>> outputs) : outputs_(std::move(outputs)) {}
  Status push(T&& value, int64_t timestamp) override {
    for (size_t i = 0; i + 1 < outputs_.size(); ++i) {
      T copy = value;
      if (Status status = outputs_[i]->push(std::move(copy), timestamp); !status.is_ok()) return status;
    }
    return outputs_.back()->push(std::move(value), timestamp);
  }
  Status flush() override {
    return each([](Output<T>& o) { return o.flush(); });
  }
  Status watermark(int64_t watermark, bool idle) override {
    return each([&](Output<T>& o) { return o.watermark(watermark, idle); });
  }
  Status barrier(const BarrierScope& scope) override {
    return each([&](Output<T>& o) { return o.barrier(scope); });
  }
  Status end() override {
    return each([](Output<T>& o) { return o.end(); });
  }
  Status close() override {
    Status first;
    for (auto& o : outputs_) {
      Status status = o->close();
      if (first.is_ok()) first = status;
    }
    return first;
  }

 private:
  template <typename F>
  Status each(F&& f) {
    for (auto& o : outputs_) {
      if (Status status = f(*o); !status.is_ok()) return status;
    }
    return Status::ok();
  }
  std::vector<std::unique_ptr<Output<T>>> outputs_;
};

// A stream nobody consumes.
template <typename T>
class DiscardOutput final : public Output<T> {
 public:
  Status push(T&&, int64_t) override { return Status::ok(); }
  Status flush() override { return Status::ok(); }
  Status watermark(int64_t, bool) override { return Status::ok(); }
  Status barrier(const BarrierScope&) override { return Status::ok(); }
  Status end() override { return Status::ok(); }
  Status close() override { return Status::ok(); }
};

// Routes records by the key group of their key to the instances of the next (keyed) stage.
template <typename T>
class ExchangeOutput final : public Output<T> {
 public:
  // skipped: counts the records whose key cannot be extracted, which are then dropped; null
  // makes them fail the pipeline.
  ExchangeOutput(std::string key_by_name, KeyExtractor<T> extractor, uint32_t max_parallelism,
                 std::vector<InputGate<T>*> gates, uint32_t channel, size_t batch_records,
                 std::atomic<uint64_t>* skipped = nullptr)
      : name_(std::move(key_by_name)),
        skipped_(skipped),
        extractor_(std::move(extractor)),
        max_parallelism_(max_parallelism),
        gates_(std::move(gates)),
        channel_(channel),
        batch_records_(batch_records),
        buffers_(gates_.size()) {
    // The instance of each key group, computed once instead of once per record.
    target_of_group_.resize(max_parallelism_);
    for (uint32_t group = 0; group < max_parallelism_; ++group) {
      target_of_group_[group] =
          operator_index_for_key_group(max_parallelism_, static_cast<uint32_t>(gates_.size()), group);
    }
  }

  Status push(T&& value, int64_t timestamp) override {
    // Built in place from the extractor's result: no placeholder Result (whose construction
    // from an OK Status would format an error message for every record).
    std::optional<Result<std::string>> key;
    try {
      key.emplace(extractor_(static_cast<const T&>(value)));
    } catch (const std::exception& e) {
      if (skipped_ != nullptr) return skip();
      return record_failure("key_by", name_, value, e.what());
    }
    if (!key->is_ok()) {
      if (skipped_ != nullptr) return skip();
      return record_failure("key_by", name_, value, key->status().to_string());
    }
    const uint32_t group = key_group_for_key(BytesView(**key), max_parallelism_);
    const uint32_t target = target_of_group_[group];
    auto& buffer = buffers_[target];
    if (buffer.capacity() == 0) buffer.reserve(batch_records_);
    buffer.push_back(KeyedRecord<T>{std::move(**key), group, timestamp, std::move(value)});
    if (buffer.size() >= batch_records_) return send_records(target);
    return Status::ok();
  }
  Status flush() override {
    for (uint32_t target = 0; target < buffers_.size(); ++target) {
      if (Status status = send_records(target); !status.is_ok()) return status;
    }
    return Status::ok();
  }
  Status watermark(int64_t watermark, bool idle) override {
    ChannelMessage<T> message;
    message.kind = ChannelMessage<T>::Kind::kWatermark;
    message.watermark = watermark;
    message.idle = idle;
    return broadcast(message);
  }
  Status barrier(const BarrierScope& scope) override {
    ChannelMessage<T> message;
    message.kind = ChannelMessage<T>::Kind::kBarrier;
    message.barrier = scope.id;
    message.final_barrier = scope.final_barrier;
    return broadcast(message);
  }
  Status end() override {
    ChannelMessage<T> message;
    message.kind = ChannelMessage<T>::Kind::kEnd;
    return broadcast(message);
  }
  Status close() override { return Status::ok(); }

 private:
  Status skip() {
    skipped_->fetch_add(1, std::memory_order_relaxed);
    return Status::ok();
  }

  Status send_records(uint32_t target) {
    auto& buffer = buffers_[target];
    if (buffer.empty()) return Status::ok();
    ChannelMessage<T> message;
    message.records = std::move(buffer);
    buffer = {};
    if (!gates_[target]->push(channel_, std::move(message))) return Status::aborted("the pipeline is stopping");
    return Status::ok();
  }
  Status broadcast(const ChannelMessage<T>& control) {
    if (Status status = flush(); !status.is_ok()) return status;
    for (InputGate<T>* gate : gates_) {
      ChannelMessage<T> copy;
      copy.kind = control.kind;
      copy.watermark = control.watermark;
      copy.idle = control.idle;
      copy.barrier = control.barrier;
      copy.final_barrier = control.final_barrier;
      if (!gate->push(channel_, std::move(copy))) return Status::aborted("the pipeline is stopping");
    }
    return Status::ok();
  }

  std::string name_;
  std::atomic<uint64_t>* skipped_;
  KeyExtractor<T> extractor_;
  uint32_t max_parallelism_;
  std::vector<InputGate<T>*> gates_;
  uint32_t channel_;
  size_t batch_records_;
  std::vector<std::vector<KeyedRecord<T>>> buffers_;
  std::vector<uint32_t> target_of_group_;  // key group -> index into gates_
};

// The end of a chain: a sink instance's writer.
template <typename T>
class SinkOutput final : public Output<T> {
 public:
  SinkOutput(std::string name, std::unique_ptr<SinkWriter<T>> writer, bool exactly_once, OperatorCounters& counters)
      : name_(std::move(name)), writer_(std::move(writer)), exactly_once_(exactly_once), counters_(counters) {}
  Status push(T&& value, int64_t timestamp) override {
    counters_.records_in.fetch_add(1, std::memory_order_relaxed);
    Status status;
    try {
      status = writer_->write(value, timestamp);
    } catch (const std::exception& e) {
      return record_failure("sink", name_, value, e.what());
    }
    if (!status.is_ok()) return record_failure("sink", name_, value, status.to_string());
    return Status::ok();
  }
  Status flush() override { return Status::ok(); }
  Status watermark(int64_t, bool) override { return Status::ok(); }
  Status barrier(const BarrierScope& scope) override {
    Result<std::string> committable = call_guarded([&] { return writer_->pre_commit(scope.id); });
    if (!committable.is_ok()) {
      return Status(committable.status().code(),
                    "sink '" + name_ + "' could not pre-commit checkpoint " + std::to_string(scope.id) + ": " +
                        committable.status().message());
    }
    if (exactly_once_ && !committable->empty()) scope.ack->committables.emplace_back(name_, std::move(*committable));
    return Status::ok();
  }
  Status end() override { return Status::ok(); }
  Status close() override {
    if (!writer_) return Status::ok();
    Status status;
    try {
      status = writer_->close();
    } catch (const std::exception& e) {
      status = Status::aborted("sink '" + name_ + "' failed to close: " + e.what());
    }
    writer_.reset();
    return status;
  }

 private:
  std::string name_;
  std::unique_ptr<SinkWriter<T>> writer_;
  bool exactly_once_;
  OperatorCounters& counters_;
};

}  // namespace streamstate::detail
