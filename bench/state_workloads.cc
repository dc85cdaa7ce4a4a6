// The timed keyed-state loops shared by the memory and RocksDB cases.
#include "state_workloads.h"

#include <utility>

#include "state_suite.h"
#include "util/status_macros.h"

namespace streamstate::bench {

Status state_value_mismatch(std::string_view side, std::string_view what, uint64_t key_index, int64_t found,
                            int64_t expected) {
  return Status::internal(std::string(side) + ": " + std::string(what) + " of key #" +
                          std::to_string(key_index) + " is " + std::to_string(found) + ", expected " +
                          std::to_string(expected) + "; an update was lost or applied twice");
}

Status state_value_missing(std::string_view side, std::string_view what, uint64_t key_index) {
  return Status::internal(std::string(side) + ": " + std::string(what) + " of key #" +
                          std::to_string(key_index) + " is missing although it was stored");
}

Result<KeyedStates> KeyedStates::open(std::shared_ptr<StateBackend> backend) {
  KeyedStates states;
  STREAMSTATE_ASSIGN_OR_RETURN(states.store, KeyedStateStore::open(std::move(backend)));
  STREAMSTATE_ASSIGN_OR_RETURN(
      states.counter, states.store->value_state(ValueStateDescriptor<int64_t>{.name = kCounterState}));
  STREAMSTATE_ASSIGN_OR_RETURN(
      states.items, states.store->map_state(MapStateDescriptor<std::string, int64_t>{.name = kMapState}));
  return states;
}

Status load_keyed_states(KeyedStates& states, const Dataset& data, const std::vector<uint32_t>& keys) {
  std::vector<std::pair<std::string, int64_t>> entries(kMapEntriesPerKey);
  for (size_t entry = 0; entry < kMapEntriesPerKey; ++entry) entries[entry].first = map_entry_names()[entry];
  for (uint32_t i : keys) {
    STREAMSTATE_RETURN_IF_ERROR(states.store->set_current_key(data.key(i)));
    STREAMSTATE_RETURN_IF_ERROR(states.counter.update(0));
    for (size_t entry = 0; entry < kMapEntriesPerKey; ++entry)
      entries[entry].second = loaded_map_value(i, entry);
    STREAMSTATE_RETURN_IF_ERROR(states.items.put_all(entries));
  }
  return Status::ok();
}

Result<Sample> increment_counters(KeyedStates& states, const Dataset& data,
                                  const std::vector<uint32_t>& order, int64_t expected_before) {
  KeyedStateStore& store = *states.store;
  ValueState<int64_t>& counter = states.counter;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    STREAMSTATE_RETURN_IF_ERROR(store.set_current_key(data.key(i)));
    std::optional<int64_t> before;
    STREAMSTATE_RETURN_IF_ERROR(counter
                                    .update_with([&before](std::optional<int64_t> value) {
                                      before = value;
                                      return value.value_or(0) + 1;
                                    })
                                    .status());
    if (!before.has_value()) return state_value_missing("ours", "the counter", i);
    if (*before != expected_before)
      return state_value_mismatch("ours", "the counter", i, *before, expected_before);
    checksum += static_cast<uint64_t>(*before);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> put_map_entries(KeyedStates& states, const Dataset& data, const std::vector<uint32_t>& order,
                               int run) {
  KeyedStateStore& store = *states.store;
  MapState<std::string, int64_t>& items = states.items;
  const auto& names = map_entry_names();
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    const int64_t value = put_map_value(i, run);
    STREAMSTATE_RETURN_IF_ERROR(store.set_current_key(data.key(i)));
    STREAMSTATE_RETURN_IF_ERROR(items.put(names[map_entry_of(i)], value));
    checksum += static_cast<uint64_t>(value);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> get_map_entries(KeyedStates& states, const Dataset& data, const std::vector<uint32_t>& order,
                               int put_run) {
  KeyedStateStore& store = *states.store;
  MapState<std::string, int64_t>& items = states.items;
  const auto& names = map_entry_names();
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    STREAMSTATE_RETURN_IF_ERROR(store.set_current_key(data.key(i)));
    STREAMSTATE_ASSIGN_OR_RETURN(const std::optional<int64_t> value, items.get(names[map_entry_of(i)]));
    if (!value.has_value()) return state_value_missing("ours", "the map entry", i);
    const int64_t expected = put_map_value(i, put_run);
    if (*value != expected) return state_value_mismatch("ours", "the map entry", i, *value, expected);
    checksum += static_cast<uint64_t>(*value);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

}  // namespace streamstate::bench
