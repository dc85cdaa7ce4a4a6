// Internal to the runtime (pipeline.h): what every task of a running pipeline shares - the
// failure of the job, the checkpoint sources must inject next, the acknowledgements tasks send
// at a barrier, and the counters the metrics are read from. The coordinating logic behind it
// (triggering, completing, committing sinks, retention) is in src/runtime/job_coordinator.cc.
//
// Thread-safety: every member may be called from any task thread and the coordinator at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/clock.h"
#include "streamstate/key_group.h"
#include "streamstate/source.h"
#include "streamstate/status.h"

namespace streamstate::detail {

// Counters of one operator (summed over its instances), updated with relaxed atomics.
struct OperatorCounters {
  std::string name;
  std::string kind;  // "source", "keyed", "sink"
  uint32_t parallelism = 1;
  std::atomic<uint64_t> records_in{0};
  std::atomic<uint64_t> records_out{0};
  std::atomic<uint64_t> late_records_dropped{0};
  std::atomic<uint64_t> malformed_records_skipped{0};  // key_by could not extract their key
  std::atomic<uint64_t> backpressure_nanos{0};  // time producers waited for room in its queues
  std::atomic<uint64_t> queued_batches{0};      // batches waiting in its input queues now
  std::atomic<uint64_t> queue_capacity{0};      // batches its input queues can hold
  std::atomic<int64_t> watermark{INT64_MIN};    // the lowest watermark of its instances
};

// What one task reports when a checkpoint barrier has passed it.
struct TaskAck {
  CheckpointId id = 0;
  std::string task;  // "operator#instance", for messages
  // A source instance: its splits with their positions at the barrier.
  std::string source_name;
  std::vector<SourceSplit> splits;
  // A keyed instance: its state checkpoint (written in the background) and where.
  struct StatePart {
    std::string operator_name;
    uint32_t instance = 0;
    KeyGroupRange key_groups;
    std::string prefix;  // the instance's folder in the checkpoint storage
    std::shared_ptr<PendingCheckpoint> pending;
  };
  std::optional<StatePart> state;
  // Sinks chained in the task: (sink name, committable), in order.
  std::vector<std::pair<std::string, std::string>> committables;
};

// Sinks as the coordinator sees them: commit and recover, whatever their record type.
struct SinkHandle {
  std::string name;
  bool exactly_once = true;
  std::function<Status(const std::string&)> commit;
  std::function<Status(const std::vector<std::string>&)> recover;
};

class JobRuntime {
 public:
  JobRuntime(std::shared_ptr<const Clock> clock, uint32_t source_instances, uint32_t tasks, uint32_t max_parallelism,
             size_t batch_records);

  const Clock& clock() const { return *clock_; }
  uint32_t max_parallelism() const { return max_parallelism_; }
  size_t batch_records() const { return batch_records_; }

  // The first failure wins; every waiting task is woken and stops.
  void fail(Status status);
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  Status failure() const;
  // Cancel: tasks stop without a last checkpoint.
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // Drain: sources stop reading and the pipeline finishes as if its input ended. Suspend: the
  // same, but without the watermark of an ended input (timers stay for the next start).
  void drain(bool end_of_input) {
    end_of_input_.store(end_of_input, std::memory_order_release);
    draining_.store(true, std::memory_order_release);
    event_.notify_all();
  }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  bool drain_ends_input() const { return end_of_input_.load(std::memory_order_acquire); }
  // True when tasks should stop now (failed or cancelled).
  bool stopping() const { return failed() || cancelled(); }
  // Wakes blocked tasks (queues register their wake-ups here).
  void add_wakeup(std::function<void()> wakeup);
  void wake_all();

  // Checkpoints. The coordinator triggers; sources read the newest triggered id between
  // polls and inject a barrier for it. The final checkpoint follows the end of every source.
  void trigger(CheckpointId id, bool final_checkpoint);
  CheckpointId triggered() const { return triggered_.load(std::memory_order_acquire); }
  bool final_triggered() const { return final_.load(std::memory_order_acquire); }
  // A source instance read everything (or stops on drain).
  void source_finished();
  uint32_t sources_finished() const { return sources_finished_.load(std::memory_order_acquire); }
  uint32_t source_instances() const { return source_instances_; }
  uint32_t tasks() const { return tasks_; }

  void acknowledge(TaskAck ack);
  // Drops acknowledgements of checkpoints that will not complete (after the tasks stopped),
  // waiting for their state checkpoints' background writes.
  void discard_acks();
  // Waits until every task acknowledged `id` (or the job stops, or `timeout_millis` passes):
  // the acknowledgements, or nullopt.
  std::optional<std::vector<TaskAck>> wait_for_acks(CheckpointId id, int64_t timeout_millis);
  // Waits until something happens (an acknowledgement, a finished source, a failure) or
  // `timeout_millis` passes.
  void wait_for_event(int64_t timeout_millis);
  void notify_event();

  // The first record a keyed operator processed, in steady-clock milliseconds (0 = none yet).
  void note_first_record();
  int64_t first_record_steady_millis() const { return first_record_.load(std::memory_order_acquire); }

  OperatorCounters& counters(const std::string& name, std::string_view kind, uint32_t parallelism);
  std::vector<const OperatorCounters*> all_counters() const;

 private:
  std::shared_ptr<const Clock> clock_;
  const uint32_t source_instances_;
  const uint32_t tasks_;
  const uint32_t max_parallelism_;
  const size_t batch_records_;
  std::atomic<bool> failed_{false};
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> end_of_input_{true};
  std::atomic<CheckpointId> triggered_{0};
  std::atomic<bool> final_{false};
  std::atomic<uint32_t> sources_finished_{0};
  std::atomic<int64_t> first_record_{0};
  mutable std::mutex mutex_;
  std::condition_variable event_;
  Status failure_;
  std::vector<std::function<void()>> wakeups_;
  std::map<CheckpointId, std::vector<TaskAck>> acks_;
  std::deque<std::unique_ptr<OperatorCounters>> counters_;
};

// Calls user code that returns a Status or Result (a source, a sink), turning an exception it
// throws into kAborted "exception: <what>".
template <typename F>
auto call_guarded(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::aborted(std::string("exception: ") + e.what());
  } catch (...) {
    return Status::aborted("an exception that is not a std::exception");
  }
}

// A printable form of a record for error messages, at most about 200 characters.
std::string printable_record_text(std::string_view text);

}  // namespace streamstate::detail
