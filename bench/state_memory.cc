// memory/value-rmw, memory/map-put, memory/map-get: a KeyedStateStore over the memory
// backend against what an operator would write by hand without a state layer - one
// std::unordered_map<std::string, int64_t> of counters keyed by the key, one of map entries
// keyed by the key followed by the map key - doing the same logical work in the same order.
//
// Both sides hold all N keys, each with its counter and its kMapEntriesPerKey-entry map
// (loaded untimed), and every timed pass visits all N keys in random order. The baseline
// pays no encoding, key groups or prefixes: that is the cost of the state layer the ratio
// shows.
#include <string>
#include <unordered_map>
#include <vector>

#include "measure.h"
#include "state_suite.h"
#include "state_workloads.h"
#include "streamstate/memory.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

using CounterMap = std::unordered_map<std::string, int64_t>;

constexpr char kMapBaseline[] = "std::unordered_map<std::string, int64_t>";

struct MapSide {
  CounterMap counters;  // key -> counter
  CounterMap items;     // key + map key -> value
};

void map_load(MapSide& side, const Dataset& data) {
  side.counters.reserve(data.size());
  side.items.reserve(data.size() * kMapEntriesPerKey);
  std::string key;
  for (uint64_t i = 0; i < data.size(); ++i) {
    key.assign(data.key(i));
    side.counters.insert_or_assign(key, 0);
    for (size_t entry = 0; entry < kMapEntriesPerKey; ++entry) {
      key.assign(data.key(i)).append(map_entry_names()[entry]);
      side.items.insert_or_assign(key, loaded_map_value(i, entry));
    }
  }
}

Result<Sample> map_increment(CounterMap& counters, const Dataset& data, const std::vector<uint32_t>& order,
                             int64_t expected_before) {
  std::string key;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    key.assign(data.key(i));
    auto it = counters.find(key);
    if (it == counters.end()) return state_value_missing("baseline", "the counter", i);
    if (it->second != expected_before) {
      return state_value_mismatch("baseline", "the counter", i, it->second, expected_before);
    }
    checksum += static_cast<uint64_t>(it->second);
    ++it->second;
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Sample map_put(CounterMap& items, const Dataset& data, const std::vector<uint32_t>& order, int run) {
  const auto& names = map_entry_names();
  std::string key;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    const int64_t value = put_map_value(i, run);
    key.assign(data.key(i)).append(names[map_entry_of(i)]);
    items.insert_or_assign(key, value);
    checksum += static_cast<uint64_t>(value);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> map_get(const CounterMap& items, const Dataset& data, const std::vector<uint32_t>& order,
                       int put_run) {
  const auto& names = map_entry_names();
  std::string key;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    key.assign(data.key(i)).append(names[map_entry_of(i)]);
    auto it = items.find(key);
    if (it == items.end()) return state_value_missing("baseline", "the map entry", i);
    const int64_t expected = put_map_value(i, put_run);
    if (it->second != expected)
      return state_value_mismatch("baseline", "the map entry", i, it->second, expected);
    checksum += static_cast<uint64_t>(it->second);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

std::vector<uint32_t> all_keys(const Dataset& data) {
  std::vector<uint32_t> keys(data.size());
  for (uint64_t i = 0; i < data.size(); ++i) keys[i] = static_cast<uint32_t>(i);
  return keys;
}

Status run_cases(const BenchOptions& options, const Dataset& data, KeyedStates& ours, MapSide& baseline,
                 std::vector<CaseResult>& results) {
  STREAMSTATE_RETURN_IF_ERROR(load_keyed_states(ours, data, all_keys(data)));
  map_load(baseline, data);

  // value-rmw: counters start at 0; in measurement r every counter must read r.
  const std::vector<uint32_t> rmw_order = data.random_order(1);
  const SampleFunction ours_rmw = [&](int run) { return increment_counters(ours, data, rmw_order, run); };
  const SampleFunction baseline_rmw = [&](int run) {
    return map_increment(baseline.counters, data, rmw_order, run);
  };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"memory/value-rmw", kMapBaseline}, ours_rmw, baseline_rmw));

  const std::vector<uint32_t> put_order = data.random_order(2);
  const SampleFunction ours_put = [&](int run) { return put_map_entries(ours, data, put_order, run); };
  const SampleFunction baseline_put = [&](int run) -> Result<Sample> {
    return map_put(baseline.items, data, put_order, run);
  };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"memory/map-put", kMapBaseline}, ours_put, baseline_put));

  // Every entry read was overwritten by the last map-put measurement.
  const int put_run = options.runs - 1;
  const std::vector<uint32_t> get_order = data.random_order(3);
  const SampleFunction ours_get = [&](int) { return get_map_entries(ours, data, get_order, put_run); };
  const SampleFunction baseline_get = [&](int) { return map_get(baseline.items, data, get_order, put_run); };
  return measure_and_add(results, options, {"memory/map-get", kMapBaseline}, ours_get, baseline_get);
}

}  // namespace

Status run_memory_state_cases(const BenchOptions& options, const Dataset& data,
                              std::vector<CaseResult>& results) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<MemoryBackend> backend,
                               MemoryBackend::open(MemoryBackendOptions{}));
  Status status;
  {
    Result<KeyedStates> ours = KeyedStates::open(backend);
    if (!ours.is_ok()) {
      status = ours.status();
    } else {
      MapSide baseline;
      status = run_cases(options, data, *ours, baseline, results);
    }
  }
  Status closed = backend->close();
  return status.is_ok() ? closed : status;
}

}  // namespace streamstate::bench
