// ValueState<T>: one value per (current key, namespace) of a KeyedStateStore, like Flink's
// ValueState.
//
//   auto count = store->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
//   if (!count.is_ok()) return count.status();
//   if (Status status = store->set_current_key("user-1"); !status.is_ok()) return status;
//   Result<int64_t> n = count->update_with([](int64_t n) { return n + 1; });  // the new count
//   Result<int64_t> current = count->value_or_default();                      // the count, or 0
//
// value() returns the stored value, else the descriptor's default_value, else nullopt;
// value_or_default() the stored value or the default, as a plain Result<T>.
// update_with(fn) reads, applies fn and writes in one call (one backend update; one table
// lookup on the memory backend); see its comment for what fn receives and may return.
// Values are stored with Codec<T>; bytes the codec rejects give Corruption naming the state
// and key. Handles are cheap to copy; all copies (and every handle the store returns for the
// same name) share one state. A default-constructed handle is unbound: its operations fail
// with FailedPrecondition.
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
#include "streamstate/detail/update_with.h"
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

  // The value of the current key and namespace, or the descriptor's default_value when none
  // is stored (or it expired). FailedPrecondition naming the state when the descriptor has no
  // default_value (value() gives std::optional<T> then).
  Result<T> value_or_default() {
    if (core_ == nullptr) return detail::unbound_state_handle("ValueState");
    if (!descriptor_->default_value.has_value()) {
      return detail::missing_default_value(descriptor_->name, "value_or_default()");
    }
    Result<std::optional<T>> current = value();
    if (!current.is_ok()) return current.status();
    return std::move(**current);
  }

  // Reads the value of the current key and namespace, applies fn and stores the result, in
  // one call: one StateColumn::update, so one table lookup on the memory backend, and atomic
  // on every backend. fn receives
  //   - std::optional<T> when it accepts one (a generic lambda too): the stored value, else
  //     the descriptor's default_value, else nullopt - what value() would return;
  //   - otherwise T: the stored value, else the default_value; a descriptor without
  //     default_value makes update_with fail with FailedPrecondition before reading.
  // fn returns T (stored), or std::optional<T>, where an empty one clears the value.
  // update_with returns what fn returned (Result<T> or Result<std::optional<T>>).
  //   count->update_with([](int64_t n) { return n + 1; });
  //   seen->update_with([](std::optional<int64_t> n) -> std::optional<int64_t> {
  //     return n.value_or(0) >= 9 ? std::nullopt : std::optional<int64_t>(n.value_or(0) + 1); });
  // TTL exactly as value() then update() (or clear()): an expired value counts as absent
  // (under kReturnExpiredIfNotCleanedUp fn sees it that once), and a stored result gets a
  // fresh time to live. Stored bytes the codec rejects give Corruption and are left as they
  // are; if fn throws, nothing is stored and update_with returns InvalidArgument. fn runs
  // while the backend holds the key's lock (on Redis it may run again after a conflict):
  // keep it short, free of side effects, and do not use the store from it.
  template <typename Fn>
    requires detail::UpdateFunctionFor<Fn, T>
  Result<detail::UpdateResult<Fn, T>> update_with(Fn&& fn) {
    if (core_ == nullptr) return detail::unbound_state_handle("ValueState");
    if constexpr (!detail::kIsOptionalOf<detail::UpdateArgument<Fn, T>, T>) {
      if (!descriptor_->default_value.has_value()) {
        return detail::missing_default_value(descriptor_->name, "update_with(fn) with fn taking T");
      }
    }
    if (Status status = core_->begin_access(); !status.is_ok()) return status;
    return detail::run_update_with<T>(*core_, core_->value_key(), descriptor_->default_value, fn);
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
