// Internal to the runtime (pipeline.h): one source instance's thread. It polls its reader and
// pushes the records into its chain, assigns event times and derives watermarks (bounded
// out-of-orderness, idleness), and - between two polls, so that the positions match exactly
// the records pushed before - injects the checkpoint barriers the coordinator triggers, with
// its splits' positions as its acknowledgement. When its input ends (or the pipeline drains)
// it sends the watermark of a finished input and waits for the final checkpoint's barrier,
// after which it ends its chain.
//
// Thread-safety: run() on the task's own thread; nothing else touches the task meanwhile.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/detail/runtime_job.h"
#include "streamstate/detail/runtime_outputs.h"
#include "streamstate/source.h"

namespace streamstate::detail {

// Event time and watermarks of a source (SourceOptions, without the record type's parts).
struct WatermarkPolicy {
  int64_t max_out_of_order_millis = 0;
  // An instance that emits nothing for this long is idle: watermarks downstream stop waiting
  // for it. 0 = never idle.
  int64_t idle_timeout_millis = 0;
};

template <typename T>
class SourceTask {
 public:
  SourceTask(JobRuntime& job, OperatorCounters& counters, std::string name, uint32_t instance,
             std::unique_ptr<SourceReader<T>> reader, std::unique_ptr<Output<T>> output,
             std::function<int64_t(const T&)> event_time, WatermarkPolicy policy, size_t batch_records)
      : job_(job),
        counters_(counters),
        name_(std::move(name)),
        instance_(instance),
        reader_(std::move(reader)),
        output_(std::move(output)),
        collector_(*this, std::move(event_time)),
        policy_(policy),
        batch_records_(batch_records) {}

  // The thread body. A failure fails the job.
  void run() {
    Status status = loop();
    Status closed = output_->close();
    if (status.is_ok()) status = closed;
    if (!status.is_ok() && !job_.stopping()) job_.fail(status);
  }

 private:
  class Collector final : public SourceOutput<T> {
   public:
    Collector(SourceTask& task, std::function<int64_t(const T&)> event_time)
        : task_(task), event_time_(std::move(event_time)) {}
    void emit(T record) override {
      int64_t time = INT64_MIN;
      if (event_time_) {
        try {
          time = event_time_(record);
        } catch (const std::exception& e) {
          if (status_.is_ok()) status_ = record_failure("source", task_.name_, record, e.what());
          return;
        }
      }
      emit(std::move(record), time);
    }
    void emit(T record, int64_t event_time_millis) override {
      if (!status_.is_ok()) return;
      if (event_time_millis != INT64_MIN) {
        int64_t& max = splits_.empty() ? task_.max_event_time_ : splits_[current_].max_event_time;
        max = std::max(max, event_time_millis);
      }
      ++emitted_;
      status_ = task_.output_->push(std::move(record), event_time_millis);
    }
    void select_split(size_t split_index) override {
      if (split_index >= splits_.size()) splits_.resize(split_index + 1);
      splits_[split_index].seen = true;
      current_ = split_index;
    }
    void finish_split(size_t split_index) override {
      if (split_index >= splits_.size()) splits_.resize(split_index + 1);
      splits_[split_index].finished = true;
    }
    // The event time that bounds the watermark: per split when the reader reports splits (the
    // lowest over the splits that emitted and have not finished), else over all records.
    // INT64_MIN when no split is active.
    int64_t watermark_bound() const {
      if (splits_.empty()) return task_.max_event_time_;
      int64_t bound = INT64_MAX;
      bool any = false;
      for (const SplitTime& split : splits_) {
        if (!split.seen || split.finished) continue;
        any = true;
        bound = std::min(bound, split.max_event_time);
      }
      return any ? bound : INT64_MIN;
    }
    Status take_status() { return std::exchange(status_, Status::ok()); }
    uint64_t take_emitted() { return std::exchange(emitted_, 0); }

   private:
    struct SplitTime {
      int64_t max_event_time = INT64_MIN;
      bool seen = false;
      bool finished = false;
    };
    SourceTask& task_;
    std::function<int64_t(const T&)> event_time_;
    Status status_;
    uint64_t emitted_ = 0;
    std::vector<SplitTime> splits_;
    size_t current_ = 0;
  };

  std::string task_name() const { return name_ + "#" + std::to_string(instance_); }

  Status loop() {
    int64_t last_record_millis = job_.clock().now_millis();
    while (!job_.stopping()) {
      const CheckpointId triggered = job_.triggered();
      if (triggered > injected_) {
        const bool final_barrier = job_.final_triggered();
        injected_ = triggered;
        if (Status status = inject(triggered, final_barrier); !status.is_ok()) return status;
        if (final_barrier) return output_->end();
        continue;
      }
      if (finished_) {
        job_.wait_for_event(20);
        continue;
      }
      if (job_.draining()) {
        if (Status status = finish(job_.drain_ends_input()); !status.is_ok()) return status;
        continue;
      }
      Result<SourcePoll> polled = call_guarded([&] { return reader_->poll(collector_, batch_records_); });
      if (Status status = collector_.take_status(); !status.is_ok()) return with_position(status);
      if (!polled.is_ok()) {
        return Status(polled.status().code(), "source '" + name_ + "' instance " + std::to_string(instance_) +
                                                  " failed to read: " + polled.status().message());
      }
      const uint64_t emitted = collector_.take_emitted();
      counters_.records_out.fetch_add(emitted, std::memory_order_relaxed);
      const int64_t now = job_.clock().now_millis();
      if (emitted > 0) {
        last_record_millis = now;
        if (Status status = advance_watermark(); !status.is_ok()) return status;
      }
      if (Status status = output_->flush(); !status.is_ok()) return status;
      if (*polled == SourcePoll::kEnd) {
        if (Status status = finish(true); !status.is_ok()) return status;
      } else if (*polled == SourcePoll::kIdle) {
        if (policy_.idle_timeout_millis > 0 && !idle_ && now - last_record_millis >= policy_.idle_timeout_millis) {
          idle_ = true;
          if (Status status = output_->watermark(watermark_, true); !status.is_ok()) return status;
        }
        job_.wait_for_event(1);
      }
    }
    return Status::ok();
  }

  // A failure of the chain on a record of this instance, with where the instance was reading:
  // the record is at or before these positions.
  Status with_position(const Status& status) const {
    std::string where;
    size_t shown = 0;
    for (const SourceSplit& split : reader_->splits()) {
      if (++shown > 4) {
        where += ", ...";
        break;
      }
      where += (where.empty() ? "" : ", ") + split.id + " at " + (split.position.empty() ? "the start" : split.position);
    }
    return Status(status.code(), status.message() + " (source '" + name_ + "' instance " + std::to_string(instance_) +
                                     ", in the poll that read up to: " + where + ")");
  }

  Status advance_watermark() {
    const int64_t bound = collector_.watermark_bound();
    if (bound == INT64_MIN || bound == INT64_MAX) return Status::ok();
    const int64_t candidate = bound - policy_.max_out_of_order_millis - 1;
    if (candidate <= watermark_ && !idle_) return Status::ok();
    watermark_ = std::max(watermark_, candidate);
    idle_ = false;
    return output_->watermark(watermark_, false);
  }

  // Everything read (or the pipeline drains): the watermark of a finished input fires every
  // event-time timer downstream before the final checkpoint. A suspending pipeline sends none.
  Status finish(bool end_of_input) {
    finished_ = true;
    if (end_of_input) {
      watermark_ = INT64_MAX;
      if (Status status = output_->watermark(watermark_, false); !status.is_ok()) return status;
    }
    if (Status status = output_->flush(); !status.is_ok()) return status;
    job_.source_finished();
    return Status::ok();
  }

  Status inject(CheckpointId id, bool final_barrier) {
    if (Status status = output_->flush(); !status.is_ok()) return status;
    TaskAck ack;
    ack.id = id;
    ack.task = task_name();
    ack.source_name = name_;
    ack.splits = reader_->splits();
    BarrierScope scope{id, final_barrier, &ack};
    if (Status status = output_->barrier(scope); !status.is_ok()) return status;
    job_.acknowledge(std::move(ack));
    return Status::ok();
  }

  JobRuntime& job_;
  OperatorCounters& counters_;
  std::string name_;
  uint32_t instance_;
  std::unique_ptr<SourceReader<T>> reader_;
  std::unique_ptr<Output<T>> output_;
  Collector collector_;
  WatermarkPolicy policy_;
  size_t batch_records_;
  CheckpointId injected_ = 0;
  bool finished_ = false;
  bool idle_ = false;
  int64_t max_event_time_ = INT64_MIN;
  int64_t watermark_ = INT64_MIN;
};

}  // namespace streamstate::detail
