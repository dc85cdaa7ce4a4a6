// Internal to the runtime (pipeline.h): one keyed operator instance's thread. It reads its input
// gate, sets each record's key in the instance's KeyedStateStore and calls the user's
// KeyedProcessFunction; it merges the watermarks of its input channels (the minimum over the
// channels that are neither idle nor ended), drops late records, fires event-time timers as
// the watermark passes them and processing-time timers as the clock does; and it aligns
// checkpoint barriers: in exactly-once mode a channel that delivered barrier n is not read
// until every channel has, then the instance takes its state snapshot (the synchronous part;
// the upload runs in the background), forwards the barrier and acknowledges. In at-least-once
// mode channels are not blocked.
//
// Thread-safety: run() on the task's own thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/detail/runtime_gate.h"
#include "streamstate/detail/runtime_job.h"
#include "streamstate/detail/runtime_outputs.h"
#include "streamstate/detail/runtime_side_outputs.h"
#include "streamstate/detail/runtime_timers.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/process_function.h"

namespace streamstate::detail {

// How a keyed instance checkpoints its state: into `storage` (the instance's folder of the
// pipeline's checkpoint storage), with `options` (id and range filled in per checkpoint).
// No storage: barriers pass without a state snapshot (a pipeline without checkpoints).
struct StateCheckpointPlan {
  std::shared_ptr<CheckpointStorage> storage;
  std::string prefix;
  CheckpointOptions options;
  bool exactly_once = true;
};

// What the factory of a keyed instance's parts hands the task.
struct KeyedInstance {
  std::string operator_name;
  uint32_t instance = 0;
  uint32_t parallelism = 1;
  KeyGroupRange key_groups;
  std::shared_ptr<StateBackend> backend;
  std::unique_ptr<KeyedStateStore> store;
  std::unique_ptr<KeyedTimers> timers;
};

template <typename In, typename Out>
class KeyedTask final : private OperatorContext, private ProcessContext<Out> {
 public:
  KeyedTask(JobRuntime& job, OperatorCounters& counters, KeyedInstance parts,
            std::unique_ptr<KeyedProcessFunction<In, Out>> function, InputGate<In>& gate,
            std::unique_ptr<Output<Out>> output, StateCheckpointPlan plan,
            std::vector<std::unique_ptr<SideChannelBase>> sides, std::unique_ptr<SideChannel<In>> late)
      : job_(job),
        counters_(counters),
        parts_(std::move(parts)),
        function_(std::move(function)),
        gate_(gate),
        output_(std::move(output)),
        plan_(std::move(plan)),
        sides_(std::move(sides)),
        late_(std::move(late)),
        channels_(gate.channel_count()) {}

  // Closes the state (and its backend). The pipeline destroys its tasks only after every state
  // checkpoint they started has finished writing.
  ~KeyedTask() {
    if (parts_.store) (void)parts_.store->close();
  }
  KeyedTask(const KeyedTask&) = delete;
  KeyedTask& operator=(const KeyedTask&) = delete;

  void run() {
    Status status = open_function();
    if (status.is_ok()) status = loop();
    Status closed = close_all();
    if (status.is_ok()) status = closed;
    if (!status.is_ok() && !job_.stopping()) job_.fail(status);
  }

 private:
  struct ChannelState {
    int64_t watermark = INT64_MIN;
    bool idle = false;
    bool ended = false;
    bool barrier_seen = false;
  };

  std::string task_name() const { return parts_.operator_name + "#" + std::to_string(parts_.instance); }

  Status open_function() {
    try {
      Status status = function_->open(*this);
      if (!status.is_ok()) {
        return Status(status.code(), "operator '" + parts_.operator_name + "' instance " +
                                         std::to_string(parts_.instance) + " failed to open: " + status.message());
      }
    } catch (const std::exception& e) {
      return Status::aborted("operator '" + parts_.operator_name + "' failed to open: " + e.what());
    }
    return Status::ok();
  }

  Status close_all() {
    Status first;
    try {
      first = function_->close();
    } catch (const std::exception& e) {
      first = Status::aborted("operator '" + parts_.operator_name + "' failed to close: " + e.what());
    }
    Status closed = each_output([](auto& out) { return out.close(); }, /*stop_at_error=*/false);
    if (first.is_ok()) first = closed;
    return first;
  }

  // Calls `fn` on the main output, then on every side output (and the late records' stream).
  template <typename F>
  Status each_output(F&& fn, bool stop_at_error = true) {
    Status first = fn(*output_);
    if (!first.is_ok() && stop_at_error) return first;
    for (auto& side : sides_) {
      Status status = fn(*side);
      if (first.is_ok()) first = status;
      if (!first.is_ok() && stop_at_error) return first;
    }
    if (late_) {
      Status status = fn(*late_);
      if (first.is_ok()) first = status;
    }
    return first;
  }

  // The first error of a side output since the last call.
  Status side_status() {
    for (auto& side : sides_) {
      if (Status status = side->take_status(); !status.is_ok()) return status;
    }
    if (late_) return late_->take_status();
    return Status::ok();
  }

  Status loop() {
    while (!job_.stopping()) {
      if (Status status = fire_processing_timers(); !status.is_ok()) return status;
      int64_t wait_millis = 50;
      if (std::optional<int64_t> next = parts_.timers->earliest(TimeDomain::kProcessingTime)) {
        wait_millis = std::clamp<int64_t>(*next - job_.clock().now_millis(), 0, 50);
      }
      auto message = gate_.pop(wait_millis);
      if (!message) continue;
      auto& [channel, m] = *message;
      switch (m.kind) {
        case ChannelMessage<In>::Kind::kRecords:
          if (Status status = process_records(m.records); !status.is_ok()) return status;
          break;
        case ChannelMessage<In>::Kind::kWatermark:
          channels_[channel].watermark = std::max(channels_[channel].watermark, m.watermark);
          channels_[channel].idle = m.idle;
          if (Status status = merge_watermarks(); !status.is_ok()) return status;
          break;
        case ChannelMessage<In>::Kind::kBarrier:
          if (Status status = on_barrier(channel, m.barrier, m.final_barrier); !status.is_ok()) return status;
          break;
        case ChannelMessage<In>::Kind::kEnd:
          channels_[channel].ended = true;
          if (Status status = maybe_complete_alignment(); !status.is_ok()) return status;
          if (std::all_of(channels_.begin(), channels_.end(), [](const ChannelState& c) { return c.ended; })) {
            return each_output([](auto& out) { return out.end(); });
          }
          if (Status status = merge_watermarks(); !status.is_ok()) return status;
          break;
      }
    }
    return Status::ok();
  }

  Status process_records(std::vector<KeyedRecord<In>>& records) {
    if (!records.empty() && !first_record_seen_) {
      first_record_seen_ = true;
      job_.note_first_record();
    }
    for (KeyedRecord<In>& record : records) {
      counters_.records_in.fetch_add(1, std::memory_order_relaxed);
      if (record.timestamp != INT64_MIN && record.timestamp <= watermark_) {
        if (late_) {
          late_->emit(std::move(record.value), record.timestamp);
        } else {
          counters_.late_records_dropped.fetch_add(1, std::memory_order_relaxed);
        }
        continue;
      }
      if (Status status = parts_.store->set_current_key_in_group(record.key_group, BytesView(record.key));
          !status.is_ok()) {
        return status;
      }
      current_key_group_ = record.key_group;
      timestamp_ = record.timestamp;
      Status status;
      try {
        status = function_->process(record.value, *this);
      } catch (const std::exception& e) {
        return record_failure("operator", parts_.operator_name, record.value, e.what());
      }
      if (status.is_ok()) status = std::exchange(emit_status_, Status::ok());
      if (status.is_ok()) status = side_status();
      if (!status.is_ok()) return record_failure("operator", parts_.operator_name, record.value, status.to_string());
    }
    if (Status status = side_status(); !status.is_ok()) return status;
    return each_output([](auto& out) { return out.flush(); });
  }

  Status merge_watermarks() {
    int64_t merged = INT64_MAX;
    bool any_active = false;
    for (const ChannelState& c : channels_) {
      if (c.ended || c.idle) continue;
      any_active = true;
      merged = std::min(merged, c.watermark);
    }
    if (!any_active) {
      // Every channel ended: the finished input's watermark. Every remaining channel idle: the
      // largest of their watermarks, as nothing holds it back (what Flink does too).
      merged = INT64_MIN;
      bool all_ended = true;
      for (const ChannelState& c : channels_) {
        if (c.ended) continue;
        all_ended = false;
        merged = std::max(merged, c.watermark);
      }
      if (all_ended) merged = INT64_MAX;
    }
    if (merged <= watermark_) return Status::ok();
    watermark_ = merged;
    counters_.watermark.store(watermark_, std::memory_order_relaxed);
    if (Status status = fire_timers(TimeDomain::kEventTime, watermark_); !status.is_ok()) return status;
    const int64_t watermark = watermark_;
    if (Status status = each_output([watermark](auto& out) { return out.watermark(watermark, false); });
        !status.is_ok()) {
      return status;
    }
    return each_output([](auto& out) { return out.flush(); });
  }

  Status fire_processing_timers() {
    if (!parts_.timers->earliest(TimeDomain::kProcessingTime)) return Status::ok();
    if (Status status = fire_timers(TimeDomain::kProcessingTime, job_.clock().now_millis()); !status.is_ok()) {
      return status;
    }
    return each_output([](auto& out) { return out.flush(); });
  }

  Status fire_timers(TimeDomain domain, int64_t up_to) {
    while (true) {
      Result<std::optional<DueTimer>> due = parts_.timers->pop_due(domain, up_to);
      if (!due.is_ok()) return due.status();
      if (!due->has_value()) return Status::ok();
      const DueTimer& timer = **due;
      if (Status status = parts_.store->set_current_key(BytesView(timer.key)); !status.is_ok()) return status;
      current_key_group_ = parts_.store->current_key_group();
      timestamp_ = timer.time;
      Status status;
      try {
        status = function_->on_timer(domain, timer.time, *this);
      } catch (const std::exception& e) {
        status = Status::aborted(e.what());
      }
      if (status.is_ok()) status = std::exchange(emit_status_, Status::ok());
      if (status.is_ok()) status = side_status();
      if (!status.is_ok()) {
        return Status(status.code(), "operator '" + parts_.operator_name + "' failed on a timer at " +
                                         std::to_string(timer.time) + " for key " +
                                         printable_record_text(timer.key) + ": " + status.message());
      }
    }
  }

  Status on_barrier(uint32_t channel, CheckpointId id, bool final_barrier) {
    if (id != aligning_) {
      aligning_ = id;
      aligning_final_ = final_barrier;
      for (ChannelState& c : channels_) c.barrier_seen = false;
    }
    channels_[channel].barrier_seen = true;
    if (plan_.exactly_once) gate_.block(channel);
    return maybe_complete_alignment();
  }

  Status maybe_complete_alignment() {
    if (aligning_ == 0) return Status::ok();
    for (const ChannelState& c : channels_) {
      if (!c.barrier_seen && !c.ended) return Status::ok();
    }
    const CheckpointId id = aligning_;
    const bool final_barrier = aligning_final_;
    aligning_ = 0;
    Status status = snapshot(id, final_barrier);
    gate_.unblock_all();
    return status;
  }

  Status snapshot(CheckpointId id, bool final_barrier) {
    TaskAck ack;
    ack.id = id;
    ack.task = task_name();
    if (plan_.storage) {
      if (Status status = parts_.store->flush(); !status.is_ok()) return status;
      CheckpointOptions options = plan_.options;
      options.id = id;
      options.key_groups = parts_.key_groups;
      Result<PendingCheckpoint> pending = start_checkpoint(*parts_.backend, *plan_.storage, std::move(options));
      if (!pending.is_ok()) {
        return Status(pending.status().code(), "operator '" + parts_.operator_name + "' instance " +
                                                   std::to_string(parts_.instance) + " could not snapshot for checkpoint " +
                                                   std::to_string(id) + ": " + pending.status().message());
      }
      ack.state = TaskAck::StatePart{parts_.operator_name, parts_.instance, parts_.key_groups, plan_.prefix,
                                     std::make_shared<PendingCheckpoint>(std::move(*pending))};
    }
    BarrierScope scope{id, final_barrier, &ack};
    if (Status status = each_output([&scope](auto& out) { return out.barrier(scope); }); !status.is_ok()) {
      return status;
    }
    job_.acknowledge(std::move(ack));
    return Status::ok();
  }

  // ---- OperatorContext ----
  const std::string& operator_name() const override { return parts_.operator_name; }
  uint32_t instance() const override { return parts_.instance; }
  uint32_t parallelism() const override { return parts_.parallelism; }
  const KeyGroupRange& key_groups() const override { return parts_.key_groups; }
  KeyedStateStore& state() override { return *parts_.store; }

  // ---- ProcessContext ----
  BytesView key() const override { return parts_.store->current_key(); }
  int64_t timestamp() const override { return timestamp_; }
  int64_t current_watermark() const override { return watermark_; }
  int64_t processing_time() const override { return job_.clock().now_millis(); }
  void emit(Out value) override { emit(std::move(value), timestamp_); }
  void emit(Out value, int64_t timestamp) override {
    if (!emit_status_.is_ok()) return;
    counters_.records_out.fetch_add(1, std::memory_order_relaxed);
    emit_status_ = output_->push(std::move(value), timestamp);
  }
  Status register_timer(TimeDomain domain, int64_t time) override {
    if (!parts_.store->has_current_key()) return Status::failed_precondition("register_timer needs a current key");
    return parts_.timers->add(domain, parts_.store->current_key(), current_key_group_, time);
  }
  SideChannelBase* side_channel(const std::string& name) override {
    for (auto& side : sides_) {
      if (side->name() == name) return side.get();
    }
    return nullptr;
  }
  void side_output_failed(Status status) override {
    if (emit_status_.is_ok()) emit_status_ = std::move(status);
  }
  Status delete_timer(TimeDomain domain, int64_t time) override {
    if (!parts_.store->has_current_key()) return Status::failed_precondition("delete_timer needs a current key");
    return parts_.timers->remove(domain, parts_.store->current_key(), current_key_group_, time);
  }

  JobRuntime& job_;
  OperatorCounters& counters_;
  KeyedInstance parts_;
  std::unique_ptr<KeyedProcessFunction<In, Out>> function_;
  InputGate<In>& gate_;
  std::unique_ptr<Output<Out>> output_;
  StateCheckpointPlan plan_;
  std::vector<std::unique_ptr<SideChannelBase>> sides_;
  std::unique_ptr<SideChannel<In>> late_;
  std::vector<ChannelState> channels_;
  int64_t watermark_ = INT64_MIN;
  int64_t timestamp_ = INT64_MIN;
  uint32_t current_key_group_ = 0;
  CheckpointId aligning_ = 0;
  bool aligning_final_ = false;
  bool first_record_seen_ = false;
  Status emit_status_;
};

}  // namespace streamstate::detail
