// Key extractors: turn a record into the key its state is partitioned by.
//
// A KeyExtractor<Record> is any callable `const Record& -> Result<std::string>`. Build one from
//   - any callable returning std::string (or something convertible, e.g. std::string_view, a
//     member pointer to a string field) or Result<std::string>: make_key_extractor(fn), or
//     make_key_extractor<Record>(fn) when fn is generic;
//   - a field of a JSON record read by dotted path: json_field_key("user.id"),
//     json_field_key("items.0.sku") (numeric segments index arrays; "\." is a literal dot and
//     "\\" a literal backslash inside a field name);
//   - several parts: composite_key(a, b, ...) or json_composite_key({"user.id", "region"}).
//     Composite keys are each part length-prefixed (varint64 length, then the bytes) and
//     concatenated - never joined with a delimiter, so ("a", "bc") and ("ab", "c") differ.
//
// A JSON field gives: a string its raw text, an integer, float or bool its JSON text ("42",
// "1.5", "true"); null, objects and arrays are InvalidArgument unless allow_structured (then
// their compact JSON text). A missing field is NotFound naming the full path and the first
// missing segment, unless a fallback key is configured. A malformed path fails when the
// extractor is created (InvalidArgument), not on the first record.
//
// Thread-safety: extractors are immutable after creation; one may be called from many threads.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate {

template <typename Record>
using KeyExtractor = std::function<Result<std::string>(const Record&)>;

namespace internal {

// The record type of a callable with exactly one non-template call signature.
template <typename F>
struct CallableRecord {};
template <typename R, typename Arg>
struct CallableRecord<R (*)(Arg)> {
  using type = std::remove_cvref_t<Arg>;
};
template <typename R, typename Arg>
struct CallableRecord<R (*)(Arg) noexcept> : CallableRecord<R (*)(Arg)> {};
template <typename C, typename R, typename Arg>
struct CallableRecord<R (C::*)(Arg) const> : CallableRecord<R (*)(Arg)> {};
template <typename C, typename R, typename Arg>
struct CallableRecord<R (C::*)(Arg) const noexcept> : CallableRecord<R (*)(Arg)> {};
template <typename C, typename R, typename Arg>
struct CallableRecord<R (C::*)(Arg)> : CallableRecord<R (*)(Arg)> {};
template <typename F>
  requires requires { &F::operator(); }
struct CallableRecord<F> : CallableRecord<decltype(&F::operator())> {};

template <typename F>
concept HasRecordType = requires { typename CallableRecord<std::decay_t<F>>::type; };
template <typename F>
using record_type_t = typename CallableRecord<std::decay_t<F>>::type;

template <typename T>
inline constexpr bool kKeyReturnTypeUnsupported = false;

// What a user's callable returned, as a key.
template <typename Out>
Result<std::string> to_key_result(Out&& out) {
  using Plain = std::remove_cvref_t<Out>;
  if constexpr (std::is_same_v<Plain, Result<std::string>>) {
    return std::forward<Out>(out);
  } else if constexpr (std::is_constructible_v<std::string, Out>) {
    return std::string(std::forward<Out>(out));
  } else {
    static_assert(kKeyReturnTypeUnsupported<Plain>,
                  "a key extractor must return std::string (or a type std::string can be built from, "
                  "such as std::string_view) or Result<std::string>; encode other values first, e.g. "
                  "with std::to_string");
    return Status::internal("unreachable");
  }
}

}  // namespace internal

// Adapts any callable `const Record& -> std::string-like or Result<std::string>` (including a
// pointer to a string data member) into a KeyExtractor<Record>.
template <typename Record, typename Fn>
  requires std::invocable<const std::decay_t<Fn>&, const Record&>
KeyExtractor<Record> make_key_extractor(Fn&& fn) {
  return [fn = std::forward<Fn>(fn)](const Record& record) -> Result<std::string> {
    return internal::to_key_result(std::invoke(fn, record));
  };
}

// The same, with Record deduced from fn's parameter (fn must not be a generic lambda).
template <typename Fn>
  requires internal::HasRecordType<Fn>
KeyExtractor<internal::record_type_t<Fn>> make_key_extractor(Fn&& fn) {
  return make_key_extractor<internal::record_type_t<Fn>>(std::forward<Fn>(fn));
}

// Appends one length-prefixed part of a composite key; the layout every composite key uses.
inline void append_composite_key_part(std::string& key, BytesView part) { put_length_prefixed(key, part); }

// A key made of every extractor's result, each length-prefixed, in order. An error from part
// i is returned with "composite key part i" in front.
template <typename Record, typename... Extractors>
  requires(sizeof...(Extractors) >= 1 &&
           (std::invocable<const std::decay_t<Extractors>&, const Record&> && ...))
KeyExtractor<Record> composite_key(Extractors&&... extractors) {
  auto parts = std::make_tuple(std::forward<Extractors>(extractors)...);
  return [parts = std::move(parts)](const Record& record) -> Result<std::string> {
    std::string key;
    Status failure;
    size_t index = 0;
    // Evaluates the parts in order and stops at the first error (&& short-circuits the fold).
    const auto append = [&](const auto& extractor) {
      Result<std::string> part = internal::to_key_result(std::invoke(extractor, record));
      if (!part.is_ok()) {
        failure = part.status().with_context("composite key part " + std::to_string(index));
        return false;
      }
      append_composite_key_part(key, *part);
      ++index;
      return true;
    };
    std::apply([&](const auto&... extractor) { static_cast<void>((append(extractor) && ...)); }, parts);
    if (!failure.is_ok()) return failure;
    return key;
  };
}

// The same, with Record deduced from the first extractor (a KeyExtractor<Record>, a function,
// or a non-generic lambda).
template <typename First, typename... Rest>
  requires internal::HasRecordType<First>
KeyExtractor<internal::record_type_t<First>> composite_key(First&& first, Rest&&... rest) {
  return composite_key<internal::record_type_t<First>>(std::forward<First>(first),
                                                       std::forward<Rest>(rest)...);
}

struct JsonFieldOptions {
  // Null, objects and arrays give their compact JSON text as the key instead of an error.
  // Default: false (a key field must be a string, number or bool).
  bool allow_structured = false;
  // Treat a null at the path like a missing field (fallback or NotFound). Default: false.
  bool null_is_missing = false;
  // The key to use when the field is missing. Default: none (a missing field is NotFound).
  std::optional<std::string> fallback;
};

// Reads the field at dotted_path. InvalidArgument when the path is malformed (empty, an empty
// segment as in "a..b", a trailing or unknown backslash escape).
Result<KeyExtractor<nlohmann::json>> json_field_key(std::string dotted_path, JsonFieldOptions options = {});

// A composite key (see above) of the fields at every path, in order; options apply to each.
// InvalidArgument when the list is empty or a path is malformed.
Result<KeyExtractor<nlohmann::json>> json_composite_key(std::vector<std::string> dotted_paths,
                                                        JsonFieldOptions options = {});

}  // namespace streamstate
