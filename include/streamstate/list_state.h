// ListState<T>: a list of values per (current key, namespace) of a KeyedStateStore, like
// Flink's ListState.
//
//   auto events = store->list_state(ListStateDescriptor<std::string>{.name = "events"});
//   events->add("click");
//   events->for_each([](const std::string& event) { ... });   // streams, element by element
//
// Each element is its own backend entry, so add() costs the same whatever the list's length
// (one read of the list's head entry, one batch writing the element and the head), and
// for_each() reads element by element instead of loading the list at once. Under a TTL every
// element expires on its own (docs/keyed-state.md). Elements are stored with Codec<T>; bytes
// the codec rejects give Corruption naming the state and key.
// A default-constructed handle is unbound: its operations fail with FailedPrecondition.
//
// Thread-safety: none; use a handle on the thread that owns its store.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "streamstate/codec.h"
#include "streamstate/detail/state_core.h"
#include "streamstate/state_descriptor.h"
#include "streamstate/status.h"

namespace streamstate {

class KeyedStateStore;

template <typename T>
class ListState {
  static_assert(Encodable<T>,
                "ListState<T>: T has no codec; see streamstate/codec.h (STREAMSTATE_CODEC_FIELDS)");

 public:
  ListState() = default;

  // The state's name; empty for an unbound handle.
  std::string_view name() const {
    return descriptor_ != nullptr ? std::string_view(descriptor_->name) : std::string_view();
  }

  // Appends one element.
  Status add(const T& value) {
    if (Status status = begin(); !status.is_ok()) return status;
    std::string& payload = core_->scratch();
    encode_value_to(value, payload);
    return core_->list_append(std::span<const std::string>(&payload, 1));
  }

  // Appends the elements in order, in one batch.
  Status add_all(const std::vector<T>& values) {
    if (Status status = begin(); !status.is_ok()) return status;
    return core_->list_append(encode_all(values));
  }

  // The live elements in order (empty when there are none).
  Result<std::vector<T>> get() {
    std::vector<T> elements;
    Status status = for_each([&elements](const T& element) { elements.push_back(element); });
    if (!status.is_ok()) return status;
    return elements;
  }

  // Calls fn(const T&) for each live element in order, decoding one at a time. fn may return
  // bool: false stops the iteration. fn must not modify this state (collect, then modify).
  template <typename Fn>
  Status for_each(Fn&& fn) {
    if (Status status = begin(); !status.is_ok()) return status;
    Status failure;
    T element{};
    Status status = core_->list_for_each([&](BytesView payload) {
      if (Status decoded = decode_value_into(payload, element); !decoded.is_ok()) {
        failure = core_->decode_error(decoded);
        return false;
      }
      if constexpr (std::is_same_v<std::invoke_result_t<Fn&, const T&>, bool>) {
        return static_cast<bool>(fn(std::as_const(element)));
      } else {
        fn(std::as_const(element));
        return true;
      }
    });
    return status.is_ok() ? failure : status;
  }

  // Replaces the list with `values` (an empty vector clears it), in one batch.
  Status update(const std::vector<T>& values) {
    if (Status status = begin(); !status.is_ok()) return status;
    return core_->list_replace(encode_all(values));
  }

  Status clear() {
    if (Status status = begin(); !status.is_ok()) return status;
    return core_->list_clear();
  }

 private:
  friend class KeyedStateStore;
  ListState(std::shared_ptr<detail::StateCore> core, std::shared_ptr<const ListStateDescriptor<T>> descriptor)
      : core_(std::move(core)), descriptor_(std::move(descriptor)) {}

  Status begin() {
    if (core_ == nullptr) return detail::unbound_state_handle("ListState");
    return core_->begin_access();
  }

  static std::vector<std::string> encode_all(const std::vector<T>& values) {
    std::vector<std::string> payloads(values.size());
    for (size_t i = 0; i < values.size(); ++i) encode_value_to(values[i], payloads[i]);
    return payloads;
  }

  std::shared_ptr<detail::StateCore> core_;
  std::shared_ptr<const ListStateDescriptor<T>> descriptor_;
};

}  // namespace streamstate
