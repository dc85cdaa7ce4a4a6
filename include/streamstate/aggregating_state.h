// AggregatingState<IN, ACC, OUT>: an accumulator per (current key, namespace) of a
// KeyedStateStore that IN values are added to and an OUT result is read from, like Flink's
// AggregatingState with an AggregateFunction.
//
//   AggregatingStateDescriptor<double, std::pair<double, int64_t>, double> average{
//       .name = "average",
//       .create_accumulator = [] { return std::pair<double, int64_t>{0.0, 0}; },
//       .add = [](std::pair<double, int64_t>& acc, const double& v) { acc.first += v; ++acc.second; },
//       .get_result = [](const std::pair<double, int64_t>& acc) { return acc.first / acc.second; }};
//   auto avg = store->aggregating_state(average);
//   avg->add(4.0);
//   auto result = avg->get();   // Result<std::optional<double>>, nullopt before the first add
//
// The accumulator is what is stored (Codec<ACC>); bytes the codec rejects give Corruption
// naming the state and key. A default-constructed handle is unbound: its operations fail with
// FailedPrecondition.
//
// Thread-safety: none; use a handle on the thread that owns its store.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "streamstate/codec.h"
#include "streamstate/detail/state_core.h"
#include "streamstate/state_descriptor.h"
#include "streamstate/status.h"

namespace streamstate {

class KeyedStateStore;

template <typename IN, typename ACC, typename OUT>
class AggregatingState {
  static_assert(
      Encodable<ACC>,
      "AggregatingState<IN, ACC, OUT>: the accumulator type ACC has no codec; see streamstate/codec.h");

 public:
  using Descriptor = AggregatingStateDescriptor<IN, ACC, OUT>;

  AggregatingState() = default;

  // The state's name; empty for an unbound handle.
  std::string_view name() const {
    return descriptor_ != nullptr ? std::string_view(descriptor_->name) : std::string_view();
  }

  // Adds value to the stored accumulator (a new one from create_accumulator when none).
  Status add(const IN& value) {
    if (Status status = begin(); !status.is_ok()) return status;
    Result<std::optional<ACC>> stored = read(core_->value_key());
    if (!stored.is_ok()) return stored.status();
    ACC accumulator = stored->has_value() ? std::move(**stored) : descriptor_->create_accumulator();
    descriptor_->add(accumulator, value);
    encode_value_to(accumulator, core_->begin_write());
    return core_->put(core_->value_key());
  }

  // get_result of the stored accumulator, or nullopt when nothing was added.
  Result<std::optional<OUT>> get() {
    if (Status status = begin(); !status.is_ok()) return status;
    Result<std::optional<ACC>> stored = read(core_->value_key());
    if (!stored.is_ok()) return stored.status();
    if (!stored->has_value()) return std::optional<OUT>();
    return std::optional<OUT>(descriptor_->get_result(**stored));
  }

  Status clear() {
    if (Status status = begin(); !status.is_ok()) return status;
    return core_->remove(core_->value_key());
  }

  // Merges the accumulators of the current key under the `sources` namespaces into the
  // `target` namespace with the descriptor's merge function and removes them.
  // FailedPrecondition when the descriptor has no merge function.
  Status merge_namespaces(BytesView target, std::span<const std::string> sources) {
    if (Status status = begin(); !status.is_ok()) return status;
    if (!descriptor_->merge) {
      return Status::failed_precondition("aggregating state '" + descriptor_->name +
                                         "': merge_namespaces needs the descriptor's merge function; set "
                                         "AggregatingStateDescriptor::merge");
    }
    std::optional<ACC> merged;
    for (const std::string& source : sources) {
      if (BytesView(source) == target) continue;
      Result<std::optional<ACC>> accumulator = read(core_->value_key_in(source));
      if (!accumulator.is_ok()) return accumulator.status();
      if (!accumulator->has_value()) continue;
      merged = merged.has_value() ? descriptor_->merge(*merged, **accumulator) : std::move(**accumulator);
      if (Status status = core_->remove(core_->value_key_in(source)); !status.is_ok()) return status;
    }
    if (!merged.has_value()) return Status::ok();
    Result<std::optional<ACC>> existing = read(core_->value_key_in(target));
    if (!existing.is_ok()) return existing.status();
    const ACC result = existing->has_value() ? descriptor_->merge(**existing, *merged) : std::move(*merged);
    encode_value_to(result, core_->begin_write());
    return core_->put(core_->value_key_in(target));
  }

 private:
  friend class KeyedStateStore;
  AggregatingState(std::shared_ptr<detail::StateCore> core, std::shared_ptr<const Descriptor> descriptor)
      : core_(std::move(core)), descriptor_(std::move(descriptor)) {}

  Status begin() {
    if (core_ == nullptr) return detail::unbound_state_handle("AggregatingState");
    return core_->begin_access();
  }

  Result<std::optional<ACC>> read(BytesView key) {
    Result<std::optional<BytesView>> stored = core_->get(key);
    if (!stored.is_ok()) return stored.status();
    if (!stored->has_value()) return std::optional<ACC>();
    std::optional<ACC> accumulator(std::in_place);
    if (Status status = decode_value_into(**stored, *accumulator); !status.is_ok()) {
      return core_->decode_error(status);
    }
    return accumulator;
  }

  std::shared_ptr<detail::StateCore> core_;
  std::shared_ptr<const Descriptor> descriptor_;
};

}  // namespace streamstate
