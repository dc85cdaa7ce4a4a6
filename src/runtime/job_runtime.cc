#include "streamstate/detail/runtime_job.h"

#include <chrono>


namespace streamstate::detail {

JobRuntime::JobRuntime(std::shared_ptr<const Clock> clock, uint32_t source_instances, uint32_t tasks,
                       uint32_t max_parallelism, size_t batch_records)
    : clock_(std::move(clock)),
      source_instances_(source_instances),
      tasks_(tasks),
      max_parallelism_(max_parallelism),
      batch_records_(batch_records) {}

void JobRuntime::fail(Status status) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failed_.load(std::memory_order_relaxed)) return;
    failure_ = std::move(status);
    failed_.store(true, std::memory_order_release);
  }
  wake_all();
}

Status JobRuntime::failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

void JobRuntime::cancel() {
  cancelled_.store(true, std::memory_order_release);
  wake_all();
}

void JobRuntime::add_wakeup(std::function<void()> wakeup) {
  std::lock_guard<std::mutex> lock(mutex_);
  wakeups_.push_back(std::move(wakeup));
}

void JobRuntime::wake_all() {
  std::vector<std::function<void()>> wakeups;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wakeups = wakeups_;
  }
  for (auto& wakeup : wakeups) wakeup();
  event_.notify_all();
}

void JobRuntime::trigger(CheckpointId id, bool final_checkpoint) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (final_checkpoint) final_.store(true, std::memory_order_release);
    triggered_.store(id, std::memory_order_release);
  }
  event_.notify_all();
}

void JobRuntime::source_finished() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sources_finished_.fetch_add(1, std::memory_order_acq_rel);
  }
  event_.notify_all();
}

void JobRuntime::acknowledge(TaskAck ack) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    acks_[ack.id].push_back(std::move(ack));
  }
  event_.notify_all();
}

void JobRuntime::discard_acks() {
  std::map<CheckpointId, std::vector<TaskAck>> acks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    acks.swap(acks_);
  }
  for (auto& [id, list] : acks) {
    for (TaskAck& ack : list) {
      if (ack.state && ack.state->pending) (void)ack.state->pending->wait();
    }
  }
}

std::optional<std::vector<TaskAck>> JobRuntime::wait_for_acks(CheckpointId id, int64_t timeout_millis) {
  std::unique_lock<std::mutex> lock(mutex_);
  const bool complete = event_.wait_for(lock, std::chrono::milliseconds(timeout_millis), [&] {
    return stopping() || acks_[id].size() >= tasks_;
  });
  if (!complete || stopping()) return std::nullopt;
  std::vector<TaskAck> acks = std::move(acks_[id]);
  acks_.erase(id);
  return acks;
}

void JobRuntime::wait_for_event(int64_t timeout_millis) {
  std::unique_lock<std::mutex> lock(mutex_);
  event_.wait_for(lock, std::chrono::milliseconds(timeout_millis));
}

void JobRuntime::notify_event() { event_.notify_all(); }

void JobRuntime::note_first_record() {
  if (first_record_.load(std::memory_order_relaxed) != 0) return;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t expected = 0;
  first_record_.compare_exchange_strong(expected, now, std::memory_order_acq_rel);
}

OperatorCounters& JobRuntime::counters(const std::string& name, std::string_view kind, uint32_t parallelism) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& counters : counters_) {
    if (counters->name == name) return *counters;
  }
  auto counters = std::make_unique<OperatorCounters>();
  counters->name = name;
  counters->kind = std::string(kind);
  counters->parallelism = parallelism;
  counters_.push_back(std::move(counters));
  return *counters_.back();
}

std::vector<const OperatorCounters*> JobRuntime::all_counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const OperatorCounters*> out;
  for (const auto& counters : counters_) out.push_back(counters.get());
  return out;
}

std::string printable_record_text(std::string_view text) {
  constexpr size_t kLimit = 200;
  std::string out;
  out.reserve(std::min(text.size(), kLimit) + 8);
  for (size_t i = 0; i < text.size() && i < kLimit; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  if (text.size() > kLimit) out += "...";
  return out;
}

}  // namespace streamstate::detail
