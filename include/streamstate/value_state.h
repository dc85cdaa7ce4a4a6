// ValueState<T>: one value per (current key, namespace) of a KeyedStateStore, like Flink's
// ValueState.
//
//   auto count = store->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
//   store->set_current_key("user-1");
//   int64_t n = count->value().value().value_or(0);
//   count->update(n + 1);
//
// value() returns the stored value, else the descriptor's default_value, else nullopt. Values
// are stored with Codec<T>; bytes the codec rejects give Corruption naming the state and key.
// Handles are cheap to copy; all copies (and every handle the store returns for the same
// name) share one state. A default-constructed handle is unbound: its operations fail with
// FailedPrecondition.
//
// Thread-safety: none; use a handle on the thread that owns its store.
#pragma once

#include <memory>
#include <optional>
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
class ValueState {
  static_assert(Encodable<T>,
                "ValueState<T>: T has no codec; see streamstate/codec.h (STREAMSTATE_CODEC_FIELDS)");

 public:
  ValueState() = default;

  // The state's name; empty for an unbound handle.
  std::string_view name() const {
    return descriptor_ != nullptr ? std::string_view(descriptor_->name) : std::string_view();
  }

  // The value of the current key and namespace, the default value, or nullopt.
  Result<std::optional<T>> value() {
    if (core_ == nullptr) return detail::unbound_state_handle("ValueState");
    if (Status status = core_->begin_access(); !status.is_ok()) return status;
    Result<std::optional<BytesView>> stored = core_->get(core_->value_key());
    if (!stored.is_ok()) return stored.status();
    if (!stored->has_value()) return descriptor_->default_value;
    std::optional<T> result(std::in_place);
    if (Status status = decode_value_into(**stored, *result); !status.is_ok()) {
      return core_->decode_error(status);
    }
    return result;
  }

  Status update(const T& value) {
    if (core_ == nullptr) return detail::unbound_state_handle("ValueState");
    if (Status status = core_->begin_access(); !status.is_ok()) return status;
    encode_value_to(value, core_->begin_write());
    return core_->put(core_->value_key());
  }

  // Removes the value of the current key and namespace.
  Status clear() {
    if (core_ == nullptr) return detail::unbound_state_handle("ValueState");
    if (Status status = core_->begin_access(); !status.is_ok()) return status;
    return core_->remove(core_->value_key());
  }

 private:
  friend class KeyedStateStore;
  ValueState(std::shared_ptr<detail::StateCore> core,
             std::shared_ptr<const ValueStateDescriptor<T>> descriptor)
      : core_(std::move(core)), descriptor_(std::move(descriptor)) {}

  std::shared_ptr<detail::StateCore> core_;
  std::shared_ptr<const ValueStateDescriptor<T>> descriptor_;
};

}  // namespace streamstate
