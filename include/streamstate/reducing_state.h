// ReducingState<T>: one value per (current key, namespace) of a KeyedStateStore that every
// added value is folded into with the descriptor's reduce function, like Flink's
// ReducingState.
//
//   auto total = store->reducing_state(ReducingStateDescriptor<int64_t>{
//       .name = "total", .reduce = [](const int64_t& a, const int64_t& b) { return a + b; }});
//   total->add(5);
//   auto sum = total->get();   // Result<std::optional<int64_t>>, nullopt before the first add
//
// The reduced value is stored with Codec<T>; bytes the codec rejects give Corruption naming
// the state and key. A default-constructed handle is unbound: its operations fail with
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

template <typename T>
class ReducingState {
  static_assert(Encodable<T>,
                "ReducingState<T>: T has no codec; see streamstate/codec.h (STREAMSTATE_CODEC_FIELDS)");

 public:
  ReducingState() = default;

  // The state's name; empty for an unbound handle.
  std::string_view name() const {
    return descriptor_ != nullptr ? std::string_view(descriptor_->name) : std::string_view();
  }

  // Stores reduce(stored, value), or value when nothing is stored.
  Status add(const T& value) {
    if (Status status = begin(); !status.is_ok()) return status;
    Result<std::optional<T>> stored = read(core_->value_key());
    if (!stored.is_ok()) return stored.status();
    const T reduced = stored->has_value() ? descriptor_->reduce(**stored, value) : value;
    encode_value_to(reduced, core_->begin_write());
    return core_->put(core_->value_key());
  }

  // The reduced value of the current key and namespace, or nullopt.
  Result<std::optional<T>> get() {
    if (Status status = begin(); !status.is_ok()) return status;
    return read(core_->value_key());
  }

  Status clear() {
    if (Status status = begin(); !status.is_ok()) return status;
    return core_->remove(core_->value_key());
  }

  // Folds the values of the current key under the `sources` namespaces into the `target`
  // namespace (reduce(target, sources...)) and removes them, as Flink does when windows merge.
  Status merge_namespaces(BytesView target, std::span<const std::string> sources) {
    if (Status status = begin(); !status.is_ok()) return status;
    std::optional<T> merged;
    for (const std::string& source : sources) {
      if (BytesView(source) == target) continue;
      Result<std::optional<T>> value = read(core_->value_key_in(source));
      if (!value.is_ok()) return value.status();
      if (!value->has_value()) continue;
      merged = merged.has_value() ? descriptor_->reduce(*merged, **value) : std::move(**value);
      if (Status status = core_->remove(core_->value_key_in(source)); !status.is_ok()) return status;
    }
    if (!merged.has_value()) return Status::ok();
    Result<std::optional<T>> existing = read(core_->value_key_in(target));
    if (!existing.is_ok()) return existing.status();
    const T result = existing->has_value() ? descriptor_->reduce(**existing, *merged) : std::move(*merged);
    encode_value_to(result, core_->begin_write());
    return core_->put(core_->value_key_in(target));
  }

 private:
  friend class KeyedStateStore;
  ReducingState(std::shared_ptr<detail::StateCore> core,
                std::shared_ptr<const ReducingStateDescriptor<T>> descriptor)
      : core_(std::move(core)), descriptor_(std::move(descriptor)) {}

  Status begin() {
    if (core_ == nullptr) return detail::unbound_state_handle("ReducingState");
    return core_->begin_access();
  }

  Result<std::optional<T>> read(BytesView key) {
    Result<std::optional<BytesView>> stored = core_->get(key);
    if (!stored.is_ok()) return stored.status();
    if (!stored->has_value()) return std::optional<T>();
    std::optional<T> value(std::in_place);
    if (Status status = decode_value_into(**stored, *value); !status.is_ok()) {
      return core_->decode_error(status);
    }
    return value;
  }

  std::shared_ptr<detail::StateCore> core_;
  std::shared_ptr<const ReducingStateDescriptor<T>> descriptor_;
};

}  // namespace streamstate
