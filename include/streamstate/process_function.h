// The keyed process function: the general stateful operator of a pipeline.
//
// After key_by, each record reaches process() of the operator instance that owns its key's key
// group, with that key current in the instance's KeyedStateStore: value, list, map, reducing
// and aggregating states opened in open() read and write the current key's state. The
// function emits results through the context, reads the record's event time, the current
// watermark and processing time, and registers timers for the current key. A timer fires
// once (timers are deduplicated per key, domain and time) through on_timer(), with its key
// current again. State and timers are part of every checkpoint and follow their key groups
// when a pipeline restarts with another parallelism.
//
// Errors: returning a non-OK Status or throwing fails the pipeline; the failure names the
// operator, its instance, the record (printed) and the cause.
//
// Thread-safety: each operator instance has its own function object (from the factory given
// to KeyedStream::process), called from that instance's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "streamstate/bytes.h"
#include "streamstate/key_group.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/status.h"
#include "streamstate/timer.h"

namespace streamstate {

// A watermark no event can be below (before the first watermark).
inline constexpr int64_t kMinWatermark = INT64_MIN;
// The watermark of a finished input: every event-time timer fires.
inline constexpr int64_t kMaxWatermark = INT64_MAX;

// Names a side output of a keyed process function: a second stream of results, of any type,
// emitted with ProcessContext::emit_to and read with process(...).side_output(tag). Records
// sent to a side output nobody reads are dropped.
template <typename T>
class SideOutput {
 public:
  using Record = T;
  explicit SideOutput(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

namespace detail {
// A side output's path out of a keyed instance (runtime_side_outputs.h).
class SideChannelBase;
template <typename T>
class SideChannel;
}  // namespace detail

// What open() sees: the instance's place and its state.
class OperatorContext {
 public:
  virtual ~OperatorContext() = default;
  virtual const std::string& operator_name() const = 0;
  virtual uint32_t instance() const = 0;
  virtual uint32_t parallelism() const = 0;
  // The key groups this instance owns.
  virtual const KeyGroupRange& key_groups() const = 0;
  // The instance's keyed state; open state handles here and keep them.
  virtual KeyedStateStore& state() = 0;
};

// What process() and on_timer() see.
template <typename Out>
class ProcessContext {
 public:
  virtual ~ProcessContext() = default;
  // The current key (the bytes key_by extracted).
  virtual BytesView key() const = 0;
  // The record's event time, or the timer's time in on_timer; kMinWatermark when the record
  // has none.
  virtual int64_t timestamp() const = 0;
  virtual int64_t current_watermark() const = 0;
  // The pipeline clock's time (milliseconds since the epoch).
  virtual int64_t processing_time() const = 0;
  // Sends a result downstream with the current timestamp, or with `timestamp`.
  virtual void emit(Out value) = 0;
  virtual void emit(Out value, int64_t timestamp) = 0;
  // Sends a result to a side output (with the current timestamp, or `timestamp`).
  template <typename T>
  void emit_to(const SideOutput<T>& tag, T value) {
    emit_to(tag, std::move(value), timestamp());
  }
  template <typename T>
  void emit_to(const SideOutput<T>& tag, T value, int64_t timestamp);
  // Timers of the current key. Registering one that exists, or deleting one that does not,
  // changes nothing.
  virtual Status register_timer(TimeDomain domain, int64_t time) = 0;
  virtual Status delete_timer(TimeDomain domain, int64_t time) = 0;
  // The instance's keyed state, with the current key set.
  virtual KeyedStateStore& state() = 0;

 protected:
  // The side output named `name` of this instance; null when nobody reads it.
  virtual detail::SideChannelBase* side_channel(const std::string& name) = 0;
  // A side output used with another record type than it was read with.
  virtual void side_output_failed(Status status) = 0;
};

template <typename In, typename Out>
class KeyedProcessFunction {
 public:
  using Input = In;
  using Output = Out;
  virtual ~KeyedProcessFunction() = default;
  // Once per instance before the first record (after state is restored).
  virtual Status open(OperatorContext& /*context*/) { return Status::ok(); }
  virtual Status process(const In& record, ProcessContext<Out>& context) = 0;
  // A timer of `domain` registered for the current key at `time` fired.
  virtual Status on_timer(TimeDomain /*domain*/, int64_t /*time*/, ProcessContext<Out>& /*context*/) {
    return Status::ok();
  }
  // Once when the instance stops (finished, failed or cancelled).
  virtual Status close() { return Status::ok(); }
};

}  // namespace streamstate

#include "streamstate/detail/runtime_side_outputs.h"

namespace streamstate {

template <typename Out>
template <typename T>
void ProcessContext<Out>::emit_to(const SideOutput<T>& tag, T value, int64_t timestamp) {
  detail::SideChannelBase* channel = side_channel(tag.name());
  if (channel == nullptr) return;  // nobody reads it
  auto* typed = dynamic_cast<detail::SideChannel<T>*>(channel);
  if (typed == nullptr) {
    side_output_failed(Status::invalid_argument("side output '" + tag.name() +
                                                "' is read with another record type than it is emitted with"));
    return;
  }
  typed->emit(std::move(value), timestamp);
}

// Makes a new function object for each instance.
template <typename In, typename Out>
using KeyedProcessFactory = std::function<std::unique_ptr<KeyedProcessFunction<In, Out>>()>;

}  // namespace streamstate
