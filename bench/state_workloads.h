// Our side of the value and map cases of the `state` suite: the timed loops over a
// KeyedStateStore, the same calls on every backend, so memory/* and rocksdb/* measure exactly
// the same code above the backend. Each loop does one operation per key of `order` (a
// set_current_key and the state calls, as an operator does for each record), checks every
// result (a wrong or missing value fails the case instead of being timed), and returns the
// elapsed time, the operation count and a checksum the baseline must match.
//
// Thread-safety: none; a KeyedStates and its store belong to the calling thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataset.h"
#include "measure.h"
#include "streamstate/keyed_state_store.h"

namespace streamstate::bench {

// A store over one backend with the suite's counter and map states (state_suite.h).
struct KeyedStates {
  std::unique_ptr<KeyedStateStore> store;
  ValueState<int64_t> counter;
  MapState<std::string, int64_t> items;

  // Opens a store with default options (128 key groups, all served) and both states.
  static Result<KeyedStates> open(std::shared_ptr<StateBackend> backend);
};

// Untimed setup, for every key of `keys` in order: the counter 0 (one update()) and the
// kMapEntriesPerKey entries of its map with loaded_map_value (one put_all()).
Status load_keyed_states(KeyedStates& states, const Dataset& data, const std::vector<uint32_t>& keys);

// value-rmw: set_current_key, then update_with(value + 1) (one read-modify-write call) for
// every key of `order`. Every counter must read `expected_before` (the number of earlier
// passes). Checksum: sum of the counters read.
Result<Sample> increment_counters(KeyedStates& states, const Dataset& data,
                                  const std::vector<uint32_t>& order, int64_t expected_before);

// map-put: set_current_key, put(map_entry_of(i), put_map_value(i, run)). Checksum: sum of the
// values put.
Result<Sample> put_map_entries(KeyedStates& states, const Dataset& data, const std::vector<uint32_t>& order,
                               int run);

// map-get: set_current_key, get(map_entry_of(i)), which must hold put_map_value(i, put_run)
// (put_run: the last map-put measurement). Checksum: sum of the values read.
Result<Sample> get_map_entries(KeyedStates& states, const Dataset& data, const std::vector<uint32_t>& order,
                               int put_run);

// The error either side reports when key #key_index holds `found` instead of `expected`.
Status state_value_mismatch(std::string_view side, std::string_view what, uint64_t key_index, int64_t found,
                            int64_t expected);

// The same for a value that is absent.
Status state_value_missing(std::string_view side, std::string_view what, uint64_t key_index);

}  // namespace streamstate::bench
