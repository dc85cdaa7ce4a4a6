// State descriptors: what a piece of keyed state is called, how its values are encoded, its
// default, its time to live and its schema version. A KeyedStateStore turns a descriptor into
// a state handle (value_state(), list_state(), ...).
//
// The codec is chosen by the template arguments: Codec<T> (streamstate/codec.h) for the
// stored type. The state's name is also the backend column that holds it: 1..200 characters
// of [A-Za-z0-9_.-], not starting with "_ss." (reserved for the store's own metadata).
//
// Descriptors are aggregates, so designated initializers read well:
//   streamstate::ValueStateDescriptor<int64_t> count{.name = "count", .default_value = 0,
//                                                    .ttl = {.ttl = std::chrono::minutes(30)}};
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "streamstate/schema.h"
#include "streamstate/ttl.h"

namespace streamstate {

// The five kinds of keyed state. Stored in "_ss.states": never renumber.
enum class StateKind : uint8_t { kValue = 1, kList = 2, kMap = 3, kReducing = 4, kAggregating = 5 };

// "value", "list", "map", "reducing", "aggregating".
std::string_view state_kind_name(StateKind kind);

// One value of type T per (key, namespace).
template <typename T>
struct ValueStateDescriptor {
  std::string name{};
  // What value() returns when nothing (or only an expired value) is stored. Default: none.
  std::optional<T> default_value{};
  StateTtlConfig ttl{};
  SchemaVersion schema{};
};

// A list of T per (key, namespace); each element has its own expiry under a TTL.
template <typename T>
struct ListStateDescriptor {
  std::string name{};
  StateTtlConfig ttl{};
  SchemaVersion schema{};
};

// A map K -> V per (key, namespace), stored entry by entry; each entry has its own expiry.
template <typename K, typename V>
struct MapStateDescriptor {
  std::string name{};
  StateTtlConfig ttl{};
  SchemaVersion schema{};
};

// One T per (key, namespace), combined with each added value by `reduce`.
template <typename T>
struct ReducingStateDescriptor {
  std::string name{};
  // Combines the stored value (first) with an added one (second). Required. Also merges
  // namespaces (ReducingState::merge_namespaces).
  std::function<T(const T& accumulated, const T& added)> reduce{};
  StateTtlConfig ttl{};
  SchemaVersion schema{};
};

// An accumulator ACC per (key, namespace) that IN values are added to and an OUT result is
// read from (Flink's AggregateFunction). The accumulator is what is stored.
template <typename IN, typename ACC, typename OUT>
struct AggregatingStateDescriptor {
  std::string name{};
  // The accumulator of a (key, namespace) that has none yet. Required.
  std::function<ACC()> create_accumulator{};
  // Adds one input to the accumulator. Required.
  std::function<void(ACC& accumulator, const IN& value)> add{};
  // The result of an accumulator. Required.
  std::function<OUT(const ACC& accumulator)> get_result{};
  // Combines two accumulators; needed only by AggregatingState::merge_namespaces. Optional.
  std::function<ACC(const ACC& a, const ACC& b)> merge{};
  StateTtlConfig ttl{};
  SchemaVersion schema{};
};

}  // namespace streamstate
