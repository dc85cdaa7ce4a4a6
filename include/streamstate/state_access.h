// StateAccess<T>: one value per key, for lambda-style code that does not want a
// KeyedStateStore - get / set / exists / remove and an atomic update(fn) - shared by any number
// of threads.
//
//   auto counts = StateAccess<int64_t>::open(backend, "counts", config.ttl_config()).value();
//   counts.update("user-1", [](std::optional<int64_t> n) { return n.value_or(0) + 1; });
//   std::optional<int64_t> n = counts.get("user-1").value();
//
// Keys are partitioned like keyed state: a value lives in the backend column named after the
// state, at make_state_key(key_group_for_key(key, max_parallelism), key), with the codec bytes
// of T as its value - behind the 8-byte expiry header when the state has a TTL (the layout of
// ValueState in the default namespace, docs/keyed-state.md). Keys are bytes; for a typed key
// pass encode_value(key).
//
// update() is atomic: it runs inside StateColumn::update, so no other update() of the same key
// - from this or any other thread, and on Redis from other processes - can interleave with it.
// 8 threads doing 1,000 increments each always leave exactly 8,000.
//
// TTL follows StateTtlConfig (Flink's semantics): set/update give a fresh time to live; under
// kOnReadAndWrite get/exists of a live value renew it too. An expired value is removed by the
// read that finds it; with kNeverReturnExpired it is never returned (get gives nullopt, exists
// false, update's function gets nullopt), with kReturnExpiredIfNotCleanedUp that one read still
// sees it. Backends drop expired values on their own too (the column is opened with
// values_carry_expiry), and incremental_cleanup_entries > 0 checks that many entries per access.
// Time comes from the clock given to open().
//
// Typed like keyed state: open() checks the state's record in "_ss.states" (kind, codec, TTL
// on or off) and records it when absent, so no StateAccess<U> can write a U into a state
// recorded as T, and no ValueState<U> can be opened on a StateAccess<T>'s state.
//
// Errors name the state and the key: Corruption for bytes T's codec rejects.
//
// Thread-safety: a StateAccess is a cheap handle (copies share one state); every method may be
// called from any thread at once, on a backend that is thread-safe (all built-in ones are).
// The function given to update() runs while the backend holds the key's lock: keep it short
// and do not call back into the same backend from it.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "streamstate/backend.h"
#include "streamstate/clock.h"
#include "streamstate/codec.h"
#include "streamstate/key_group.h"
#include "streamstate/status.h"
#include "streamstate/ttl.h"

namespace streamstate::internal {
class IncrementalCleanup;
}  // namespace streamstate::internal

namespace streamstate::detail {

// The untyped, thread-safe engine behind StateAccess<T>: keys, expiry headers and TTL rules.
// Part of the internal layer behind the StateAccess template; not a stable API.
class StateAccessCore {
 public:
  // Receives the live payload (nullopt when absent or hidden as expired) and appends the new
  // payload to `out`; a non-OK Status leaves the stored value unchanged.
  using PayloadUpdate = std::function<Status(std::optional<BytesView> current, std::string& out)>;

  // `codec` is Codec<T>::name(), checked against and recorded in "_ss.states".
  static Result<std::shared_ptr<StateAccessCore>> open(std::shared_ptr<StateBackend> backend,
                                                       std::string name, std::string_view codec,
                                                       const StateTtlConfig& ttl,
                                                       std::shared_ptr<const Clock> clock,
                                                       uint32_t max_parallelism);
  ~StateAccessCore();
  StateAccessCore(const StateAccessCore&) = delete;
  StateAccessCore& operator=(const StateAccessCore&) = delete;

  const std::string& name() const { return name_; }

  // Fills `payload` and returns true when `user_key` has a value to show.
  Result<bool> read(BytesView user_key, std::string& payload);
  Status write(BytesView user_key, BytesView payload);
  Status remove(BytesView user_key);
  Status update(BytesView user_key, const PayloadUpdate& fn);

  // Corruption naming the state and the key, for bytes the codec rejected.
  Status decode_error(BytesView user_key, const Status& cause) const;

 private:
  StateAccessCore(std::string name, std::shared_ptr<StateBackend> backend,
                  std::shared_ptr<StateColumn> column, const StateTtlConfig& ttl,
                  std::shared_ptr<const Clock> clock, uint32_t max_parallelism);

  std::string state_key(BytesView user_key) const;
  Status cleanup_step();
  Result<bool> read_and_maintain(const std::string& key, BytesView user_key, std::string& payload);
  Status corrupt(BytesView user_key, const std::string& what) const;

  const std::string name_;
  const std::shared_ptr<StateBackend> backend_;
  const std::shared_ptr<StateColumn> column_;
  const StateTtlConfig ttl_;
  const int64_t ttl_millis_;
  const std::shared_ptr<const Clock> clock_;
  const uint32_t max_parallelism_;
  std::mutex cleanup_mutex_;  // one incremental cleanup step at a time; busy = skip
  std::unique_ptr<internal::IncrementalCleanup> cleanup_;
};

}  // namespace streamstate::detail

namespace streamstate {

template <typename T>
class StateAccess {
  static_assert(Encodable<T>,
                "StateAccess<T>: T has no codec; see streamstate/codec.h (STREAMSTATE_CODEC_FIELDS)");

 public:
  // Opens (creating if needed) the state `state_name` in `backend`: the column of that name,
  // which must pass validate_column_name and not start with the reserved "_ss.". InvalidArgument
  // for a bad name, TTL (StateTtlConfig::validate) or max_parallelism (1..32768; use the value
  // your KeyedStateStores use). `clock` null = system_clock().
  // The state is bound by its record in "_ss.states", as keyed state is: FailedPrecondition
  // naming both sides when the name is recorded as another kind, another codec than T's or
  // another TTL setting (with or without); a name without a record is recorded as a value
  // state of T, so a KeyedStateStore opening it as another type fails too. max_parallelism is
  // checked against (or, on a fresh backend, recorded as) the backend's key-group layout as a
  // KeyedStateStore does: FailedPrecondition naming both values when they differ.
  static Result<StateAccess<T>> open(std::shared_ptr<StateBackend> backend, std::string state_name,
                                     StateTtlConfig ttl = {}, std::shared_ptr<const Clock> clock = {},
                                     uint32_t max_parallelism = kDefaultMaxParallelism) {
    Result<std::shared_ptr<detail::StateAccessCore>> core = detail::StateAccessCore::open(
        std::move(backend), std::move(state_name), codec_name<T>(), ttl, std::move(clock), max_parallelism);
    if (!core.is_ok()) return core.status();
    return StateAccess<T>(std::move(core).value());
  }

  const std::string& name() const { return core_->name(); }

  // The value of `key`, or nullopt.
  Result<std::optional<T>> get(BytesView key) const {
    std::string payload;
    Result<bool> found = core_->read(key, payload);
    if (!found.is_ok()) return found.status();
    if (!*found) return std::optional<T>();
    std::optional<T> value(std::in_place);
    if (Status status = decode_value_into(payload, *value); !status.is_ok())
      return core_->decode_error(key, status);
    return value;
  }

  Status set(BytesView key, const T& value) const { return core_->write(key, encode_value(value)); }

  // Whether `key` has a value (with the same TTL rules as get).
  Result<bool> exists(BytesView key) const {
    std::string payload;
    return core_->read(key, payload);
  }

  // Removing an absent key is not an error.
  Status remove(BytesView key) const { return core_->remove(key); }

  // Atomically replaces the value of `key` by fn(current) and returns the new value. fn is
  // called with the current value (nullopt when there is none) and returns a T; with Redis it
  // may be called more than once (the transaction is retried on a conflict), so it must not
  // have side effects beyond its result. If fn throws, nothing is stored and update returns
  // InvalidArgument with the exception's message.
  template <typename Fn>
    requires std::invocable<Fn&, std::optional<T>> &&
             std::convertible_to<std::invoke_result_t<Fn&, std::optional<T>>, T>
  Result<T> update(BytesView key, Fn&& fn) const {
    std::optional<T> result;
    detail::StateAccessCore::PayloadUpdate payload_update = [&](std::optional<BytesView> current,
                                                                std::string& out) -> Status {
      std::optional<T> old;
      if (current.has_value()) {
        old.emplace();
        if (Status status = decode_value_into(*current, *old); !status.is_ok()) {
          return core_->decode_error(key, status);
        }
      }
      result.emplace(fn(std::move(old)));
      encode_value_to(*result, out);
      return Status::ok();
    };
    if (Status status = core_->update(key, payload_update); !status.is_ok()) return status;
    if (!result.has_value()) {
      return Status::internal("state '" + core_->name() +
                              "': the backend's update() returned OK without calling "
                              "the update function");
    }
    return std::move(*result);
  }

 private:
  explicit StateAccess(std::shared_ptr<detail::StateAccessCore> core) : core_(std::move(core)) {}

  std::shared_ptr<detail::StateAccessCore> core_;
};

}  // namespace streamstate
