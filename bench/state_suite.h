// The `state` suite: keyed state (ValueState, MapState, ListState through a KeyedStateStore)
// against a baseline doing the same logical work by hand - a std::unordered_map for the
// memory backend, a raw rocksdb::DB writing the very bytes the state layer writes for RocksDB
// - plus the growth of a list append's cost with the list's length. Its parts live in one
// file each; this header holds what they share: the states' names and the values every case
// puts and expects, so our side and the baselines cannot drift apart.
//
// The workload, on every backend: each key has a counter (ValueState<int64_t> "count", loaded
// with 0) and a small map of kMapEntriesPerKey entries (MapState<std::string, int64_t>
// "items": "item-0".."item-3", loaded with loaded_map_value). value-rmw reads and bumps the
// counter in one update_with call; map-put overwrites entry map_entry_of(i) with put_map_value(i, run); map-get reads
// that entry back.
//
// Thread-safety: the parts run one after another on the calling thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dataset.h"
#include "suite.h"

namespace streamstate::bench {

inline constexpr char kCounterState[] = "count";
inline constexpr char kMapState[] = "items";
inline constexpr char kListState[] = "events";
inline constexpr size_t kMapEntriesPerKey = 4;

// "item-0" .. "item-3": the map keys of every key's map.
const std::array<std::string, kMapEntriesPerKey>& map_entry_names();

// The entry of key i's map that map-put overwrites and map-get reads.
inline size_t map_entry_of(uint64_t key_index) { return key_index % kMapEntriesPerKey; }

// The value entry `entry` of key i's map is loaded with.
inline int64_t loaded_map_value(uint64_t key_index, size_t entry) {
  return static_cast<int64_t>(key_index * kMapEntriesPerKey + entry);
}

// The value measurement `run` of map-put stores in entry map_entry_of(i) of key i: distinct
// from the loaded value and from every other run's, so a put that was lost shows up.
inline int64_t put_map_value(uint64_t key_index, int run) {
  return (static_cast<int64_t>(run) + 1) * (int64_t{1} << 40) + static_cast<int64_t>(key_index);
}

// memory/value-rmw, memory/map-put, memory/map-get.
Status run_memory_state_cases(const BenchOptions& options, const Dataset& data,
                              std::vector<CaseResult>& results);

// rocksdb/value-rmw, rocksdb/map-put, rocksdb/map-get (when built with RocksDB).
Status run_rocksdb_state_cases(const BenchOptions& options, const Dataset& data,
                               std::vector<CaseResult>& results);

// rocksdb/list-append-100k (when built with RocksDB).
Status run_rocksdb_list_case(const BenchOptions& options, const Dataset& data,
                             std::vector<CaseResult>& results);

}  // namespace streamstate::bench
