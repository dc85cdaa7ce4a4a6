// The typed half of ValueState<T>::update_with and MapState<K, V>::update_with: which argument
// the user's function gets, what it may return, and the decode - call - encode step that runs
// inside StateCore::update (one backend update, one table lookup on the memory backend).
//
//   fn(std::optional<T> current) -> T or std::optional<T>   (chosen when fn accepts an optional)
//   fn(T current) -> T or std::optional<T>                  (otherwise; needs a value to pass)
//
// A returned std::optional<T> without a value removes the entry. update_with returns what fn
// returned: Result<T>, or Result<std::optional<T>> when fn returns an optional.
//
// Part of the internal layer behind the typed state templates; not a stable API.
// Thread-safety: as the handle that calls it (none).
#pragma once

#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "streamstate/codec.h"
#include "streamstate/detail/state_core.h"
#include "streamstate/status.h"

namespace streamstate::detail {

template <typename R, typename T>
inline constexpr bool kIsOptionalOf = false;
template <typename T>
inline constexpr bool kIsOptionalOf<std::optional<T>, T> = true;

// What fn receives: std::optional<T> when it accepts one (also a generic lambda), else T.
template <typename Fn, typename T>
using UpdateArgument = std::conditional_t<std::invocable<Fn&, std::optional<T>>, std::optional<T>, T>;

template <typename Fn, typename T>
concept UpdateFunctionFor =
    std::invocable<Fn&, UpdateArgument<Fn, T>> &&
    (kIsOptionalOf<std::invoke_result_t<Fn&, UpdateArgument<Fn, T>>, T> ||
     std::convertible_to<std::invoke_result_t<Fn&, UpdateArgument<Fn, T>>, T>);

// What update_with returns on success: std::optional<T> when fn returns one, else T.
template <typename Fn, typename T>
using UpdateResult = std::conditional_t<kIsOptionalOf<std::invoke_result_t<Fn&, UpdateArgument<Fn, T>>, T>,
                                        std::optional<T>, T>;

// Runs fn on the entry at `key` through core.update: the stored value decoded (Corruption from
// core.decode_error when it does not decode, leaving it as it was), else `fallback` (which must
// hold a value when fn takes a plain T), then fn's result encoded and stored, or the entry
// removed for an empty optional.
template <typename T, typename Fn>
Result<UpdateResult<Fn, T>> run_update_with(StateCore& core, BytesView key, const std::optional<T>& fallback,
                                            Fn& fn) {
  using Argument = UpdateArgument<Fn, T>;
  using Returned = std::invoke_result_t<Fn&, Argument>;
  std::optional<UpdateResult<Fn, T>> result;
  auto apply = [&](std::optional<BytesView> stored, std::string& out, bool& remove) -> Status {
    result.reset();  // Redis runs this again after a conflict
    Argument current{};
    if (stored.has_value()) {
      Status decoded;
      if constexpr (kIsOptionalOf<Argument, T>) {
        decoded = decode_value_into(*stored, current.emplace());
      } else {
        decoded = decode_value_into(*stored, current);
      }
      if (!decoded.is_ok()) return core.decode_error(decoded);
    } else if constexpr (kIsOptionalOf<Argument, T>) {
      current = fallback;
    } else {
      current = *fallback;
    }
    Returned returned = std::invoke(fn, std::move(current));
    if constexpr (kIsOptionalOf<Returned, T>) {
      if (returned.has_value()) {
        encode_value_to(*returned, out);
      } else {
        remove = true;
      }
      result.emplace(std::move(returned));
    } else {
      T value = std::move(returned);
      encode_value_to(value, out);
      result.emplace(std::move(value));
    }
    return Status::ok();
  };
  if (Status status = core.update(key, StateCore::PayloadUpdate(apply)); !status.is_ok()) return status;
  if (!result.has_value()) {
    return Status::internal("state '" + core.name() +
                            "': the backend's update() returned OK without calling the update function");
  }
  return std::move(*result);
}

}  // namespace streamstate::detail
