// MapState<K, V>: a map per (current key, namespace) of a KeyedStateStore, like Flink's
// MapState.
//
//   auto carts = store->map_state(MapStateDescriptor<std::string, int64_t>{.name = "cart"});
//   carts->put("sku-1", 2);
//   auto quantity = carts->get("sku-1");          // Result<std::optional<int64_t>>
//   carts->update_with("sku-1", [](std::optional<int64_t> n) { return n.value_or(0) + 1; });
//
// Each entry is its own backend entry (key: the scoped prefix + Codec<K> bytes, value:
// Codec<V> bytes), so put() and remove() touch one entry whatever the map's size, and under a
// TTL each entry expires on its own. Iteration (keys, values, entries, for_each, is_empty) is
// a prefix scan: in key-byte order on ordered backends (RocksDB), unordered otherwise.
// Bytes a codec rejects give Corruption naming the state and key.
// A default-constructed handle is unbound: its operations fail with FailedPrecondition.
//
// Thread-safety: none; use a handle on the thread that owns its store.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "streamstate/codec.h"
#include "streamstate/detail/state_core.h"
#include "streamstate/detail/update_with.h"
#include "streamstate/state_descriptor.h"
#include "streamstate/status.h"

namespace streamstate {

class KeyedStateStore;

template <typename K, typename V>
class MapState {
  static_assert(Encodable<K>,
                "MapState<K, V>: K has no codec; see streamstate/codec.h (STREAMSTATE_CODEC_FIELDS)");
  static_assert(Encodable<V>,
                "MapState<K, V>: V has no codec; see streamstate/codec.h (STREAMSTATE_CODEC_FIELDS)");

 public:
  MapState() = default;

  // The state's name; empty for an unbound handle.
  std::string_view name() const {
    return descriptor_ != nullptr ? std::string_view(descriptor_->name) : std::string_view();
  }

  Result<std::optional<V>> get(const K& key) {
    if (Status status = begin(); !status.is_ok()) return status;
    Result<std::optional<BytesView>> stored = core_->get(entry_key(key));
    if (!stored.is_ok()) return stored.status();
    if (!stored->has_value()) return std::optional<V>();
    std::optional<V> value(std::in_place);
    if (Status status = decode_value_into(**stored, *value); !status.is_ok()) {
      return core_->decode_error(status);
    }
    return value;
  }

  Status put(const K& key, const V& value) {
    if (Status status = begin(); !status.is_ok()) return status;
    const BytesView stored_key = entry_key(key);
    encode_value_to(value, core_->begin_write());
    return core_->put(stored_key);
  }

  // Reads entry `key`, applies fn and stores the result, in one call: one StateColumn::update
  // (one table lookup on the memory backend), atomic on every backend. fn receives
  // std::optional<V>, the entry's value or nullopt (a map has no default), and returns V
  // (stored) or std::optional<V>, where an empty one removes the entry. Returns what fn
  // returned. TTL exactly as get() then put() (or remove()): an expired entry counts as
  // absent (seen that once under kReturnExpiredIfNotCleanedUp), a stored result gets a fresh
  // time to live. Corruption for stored bytes the codec rejects (left as they are);
  // InvalidArgument if fn throws (nothing stored). fn runs under the backend's key lock and
  // may run again on Redis: keep it short, without side effects, and off the store.
  template <typename Fn>
    requires std::invocable<Fn&, std::optional<V>> && detail::UpdateFunctionFor<Fn, V>
  Result<detail::UpdateResult<Fn, V>> update_with(const K& key, Fn&& fn) {
    if (Status status = begin(); !status.is_ok()) return status;
    return detail::run_update_with<V>(*core_, entry_key(key), std::optional<V>(), fn);
  }

  // Puts every (key, value) pair of `entries` (a std::map, a vector of pairs, ...) in one batch.
  template <typename Entries>
  Status put_all(const Entries& entries) {
    if (Status status = begin(); !status.is_ok()) return status;
    for (const auto& [key, value] : entries) {
      const BytesView stored_key = entry_key(key);
      encode_value_to(static_cast<const V&>(value), core_->begin_write());
      core_->stage_put(stored_key);
    }
    return core_->commit();
  }

  Result<bool> contains(const K& key) {
    if (Status status = begin(); !status.is_ok()) return status;
    return core_->contains(entry_key(key));
  }

  // Removing an absent key is not an error.
  Status remove(const K& key) {
    if (Status status = begin(); !status.is_ok()) return status;
    return core_->remove(entry_key(key));
  }

  // Calls fn(const K&, const V&) for each live entry, decoding one at a time. fn may return
  // bool: false stops the iteration. fn must not modify this state (collect, then modify).
  template <typename Fn>
  Status for_each(Fn&& fn) {
    if (Status status = begin(); !status.is_ok()) return status;
    Status failure;
    K key{};
    V value{};
    Status status = core_->scan_entries([&](BytesView key_bytes, BytesView value_bytes) {
      Status decoded = decode_value_into(key_bytes, key);
      if (decoded.is_ok()) decoded = decode_value_into(value_bytes, value);
      if (!decoded.is_ok()) {
        failure = core_->decode_error(decoded);
        return false;
      }
      if constexpr (std::is_same_v<std::invoke_result_t<Fn&, const K&, const V&>, bool>) {
        return static_cast<bool>(fn(std::as_const(key), std::as_const(value)));
      } else {
        fn(std::as_const(key), std::as_const(value));
        return true;
      }
    });
    return status.is_ok() ? failure : status;
  }

  Result<std::vector<std::pair<K, V>>> entries() {
    std::vector<std::pair<K, V>> result;
    Status status = for_each([&result](const K& key, const V& value) { result.emplace_back(key, value); });
    if (!status.is_ok()) return status;
    return result;
  }

  Result<std::vector<K>> keys() {
    std::vector<K> result;
    Status status = for_each([&result](const K& key, const V&) { result.push_back(key); });
    if (!status.is_ok()) return status;
    return result;
  }

  Result<std::vector<V>> values() {
    std::vector<V> result;
    Status status = for_each([&result](const K&, const V& value) { result.push_back(value); });
    if (!status.is_ok()) return status;
    return result;
  }

  // True when the map of the current key and namespace has no live entry.
  Result<bool> is_empty() {
    if (Status status = begin(); !status.is_ok()) return status;
    Result<bool> any = core_->has_entries();
    if (!any.is_ok()) return any.status();
    return !*any;
  }

  // Removes every entry of the current key and namespace, in one batch.
  Status clear() {
    if (Status status = begin(); !status.is_ok()) return status;
    return core_->clear_entries();
  }

 private:
  friend class KeyedStateStore;
  MapState(std::shared_ptr<detail::StateCore> core,
           std::shared_ptr<const MapStateDescriptor<K, V>> descriptor)
      : core_(std::move(core)), descriptor_(std::move(descriptor)) {}

  Status begin() {
    if (core_ == nullptr) return detail::unbound_state_handle("MapState");
    return core_->begin_access();
  }

  BytesView entry_key(const K& key) {
    std::string& encoded = core_->scratch();
    encode_value_to(key, encoded);
    return core_->entry_key(encoded);
  }

  std::shared_ptr<detail::StateCore> core_;
  std::shared_ptr<const MapStateDescriptor<K, V>> descriptor_;
};

}  // namespace streamstate
