// Internal to the runtime (pipeline.h): the bounded queues between the instances of a stage and
// those of the next (keyed) stage. Every upstream instance has its own channel into every
// downstream instance's InputGate, so that a barrier can block one channel while the others
// go on (alignment). Records travel in batches with their key (already extracted and hashed
// to a key group) and event time; watermarks, barriers and the end of input travel in order
// with them. A full channel blocks its producer: backpressure.
//
// Thread-safety: push() from the channel's producer, everything else from the gate's
// consumer; all calls are safe together.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/detail/runtime_job.h"

namespace streamstate::detail {

template <typename T>
struct KeyedRecord {
  std::string key;
  uint32_t key_group = 0;
  int64_t timestamp = INT64_MIN;
  T value;
};

template <typename T>
struct ChannelMessage {
  enum class Kind : uint8_t { kRecords, kWatermark, kBarrier, kEnd };
  Kind kind = Kind::kRecords;
  std::vector<KeyedRecord<T>> records;  // kRecords
  int64_t watermark = INT64_MIN;        // kWatermark
  bool idle = false;                    // kWatermark: the producer is idle (ignore it in the minimum)
  CheckpointId barrier = 0;             // kBarrier
  bool final_barrier = false;           // kBarrier: the checkpoint after the end of input
};

template <typename T>
class InputGate {
 public:
  InputGate(JobRuntime& job, OperatorCounters& counters, uint32_t channels, size_t capacity_per_channel)
      : job_(job), counters_(counters), channels_(channels), capacity_(capacity_per_channel) {
    counters_.queue_capacity.fetch_add(capacity_per_channel * channels, std::memory_order_relaxed);
    job_.add_wakeup([this] {
      std::lock_guard<std::mutex> lock(mutex_);
      not_full_.notify_all();
      not_empty_.notify_all();
    });
  }

  uint32_t channel_count() const { return static_cast<uint32_t>(channels_.size()); }

  // Blocks while the channel is full; false when the job stops first.
  bool push(uint32_t channel, ChannelMessage<T> message) {
    std::unique_lock<std::mutex> lock(mutex_);
    Channel& c = channels_[channel];
    if (c.queue.size() >= capacity_ && message.kind == ChannelMessage<T>::Kind::kRecords) {
      const auto start = std::chrono::steady_clock::now();
      ++waiting_producers_;
      not_full_.wait(lock, [&] { return c.queue.size() < capacity_ || job_.stopping(); });
      --waiting_producers_;
      counters_.backpressure_nanos.fetch_add(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now() - start)
                                    .count()),
          std::memory_order_relaxed);
    }
    if (job_.stopping()) return false;
    // Control messages never wait: a producer must not deadlock behind a blocked channel
    // holding a barrier; they are few.
    c.queue.push_back(std::move(message));
    counters_.queued_batches.fetch_add(1, std::memory_order_relaxed);
    not_empty_.notify_one();
    return true;
  }

  // The next message of an unblocked channel (round robin), waiting up to `timeout_millis`:
  // (channel, message), or nullopt on timeout or when the job stops.
  std::optional<std::pair<uint32_t, ChannelMessage<T>>> pop(int64_t timeout_millis) {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_millis);
    bool timed_out = false;
    while (true) {
      if (job_.stopping()) return std::nullopt;
      const uint32_t n = channel_count();
      for (uint32_t step = 0; step < n; ++step) {
        const uint32_t index = (next_ + step) % n;
        Channel& c = channels_[index];
        if (c.blocked || c.queue.empty()) continue;
        ChannelMessage<T> message = std::move(c.queue.front());
        c.queue.pop_front();
        counters_.queued_batches.fetch_sub(1, std::memory_order_relaxed);
        next_ = (index + 1) % n;
        // A blocked producer is woken once its channel is half empty, not after every batch:
        // it then pushes several batches in a row instead of one per context switch.
        if (waiting_producers_ > 0 && c.queue.size() <= capacity_ / 2) not_full_.notify_all();
        return std::make_pair(index, std::move(message));
      }
      if (timed_out) return std::nullopt;
      timed_out = not_empty_.wait_until(lock, deadline) == std::cv_status::timeout;
    }
  }

  // Alignment: a blocked channel is not read until unblock_all().
  void block(uint32_t channel) {
    std::lock_guard<std::mutex> lock(mutex_);
    channels_[channel].blocked = true;
  }
  void unblock_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Channel& c : channels_) c.blocked = false;
    not_empty_.notify_all();
  }

 private:
  struct Channel {
    std::deque<ChannelMessage<T>> queue;
    bool blocked = false;
  };
  JobRuntime& job_;
  OperatorCounters& counters_;
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::vector<Channel> channels_;
  const size_t capacity_;
  uint32_t next_ = 0;
  uint32_t waiting_producers_ = 0;  // producers blocked in push() on a full channel
};

}  // namespace streamstate::detail
