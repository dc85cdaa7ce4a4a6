// memory/* cases (MemoryBackend against std::unordered_map<std::string, std::string>) and
// scaling/memory-get-2t (two threads against one).
//
// The baseline does what a hand-written single-threaded map would: lookups go through one
// reused std::string key (the standard hash has no string_view lookup), gets copy the value
// into one reused std::string, read-modify-write is find / decode / encode / assign.
#include <latch>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "backends_suite.h"
#include "column_workloads.h"
#include "measure.h"
#include "streamstate/memory.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

using StringMap = std::unordered_map<std::string, std::string>;

constexpr char kMapBaseline[] = "std::unordered_map";

struct OurMemorySide {
  std::unique_ptr<MemoryBackend> backend;
  std::shared_ptr<StateColumn> values;
  std::shared_ptr<StateColumn> counters;
};

// Closes the previous backend (if any) and opens an empty one with default options.
Status reopen(OurMemorySide& side) {
  if (side.backend) STREAMSTATE_RETURN_IF_ERROR(side.backend->close());
  side = OurMemorySide{};
  STREAMSTATE_ASSIGN_OR_RETURN(side.backend, MemoryBackend::open(MemoryBackendOptions{}));
  STREAMSTATE_ASSIGN_OR_RETURN(side.values, side.backend->column("values"));
  STREAMSTATE_ASSIGN_OR_RETURN(side.counters, side.backend->column("counters"));
  return Status::ok();
}

struct MapSide {
  StringMap values;
  StringMap counters;
};

Sample map_put_all(StringMap& map, const Dataset& data) {
  std::string key;
  Stopwatch watch;
  for (uint64_t i = 0; i < data.size(); ++i) {
    key.assign(data.key(i));
    map.insert_or_assign(key, data.value(i));
  }
  double seconds = watch.seconds();
  return Sample{seconds, data.size(), data.size() * Dataset::kValueBytes};
}

Result<Sample> map_get_all(const StringMap& map, const Dataset& data, const std::vector<uint32_t>& order) {
  std::string key;
  std::string value;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    key.assign(data.key(i));
    auto it = map.find(key);
    if (it == map.end()) return Status::internal("baseline: key #" + std::to_string(i) + " not found after put");
    value.assign(it->second);
    checksum += value_checksum(value);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> map_get_missing(const StringMap& map, const Dataset& data, const std::vector<uint32_t>& order) {
  std::string key;
  uint64_t hits = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    key.assign(data.missing_key(i));
    hits += map.find(key) != map.end() ? 1 : 0;
  }
  double seconds = watch.seconds();
  if (hits != 0) return Status::internal("baseline: " + std::to_string(hits) + " never-put keys were found");
  return Sample{seconds, order.size(), hits};
}

void map_load_counters(StringMap& map, const Dataset& data) {
  const std::string zero = encode_counter(0);
  for (uint64_t i = 0; i < data.size(); ++i) map.insert_or_assign(std::string(data.key(i)), zero);
}

Result<Sample> map_increment_all(StringMap& map, const Dataset& data, const std::vector<uint32_t>& order,
                                 uint64_t expected_before) {
  std::string key;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    key.assign(data.key(i));
    auto it = map.find(key);
    uint64_t counter = it != map.end() && it->second.size() == 8 ? decode_fixed64(it->second.data()) : ~uint64_t{0};
    if (counter != expected_before) return counter_mismatch("baseline", i, counter, expected_before);
    checksum += counter;
    it->second = encode_counter(counter + 1);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

// Runs get_all on `column` from orders.size() threads at once and times them from a common
// start to the last one finishing.
Result<Sample> parallel_get_all(StateColumn& column, const Dataset& data,
                                const std::vector<std::vector<uint32_t>>& orders) {
  const size_t thread_count = orders.size();
  std::vector<Result<Sample>> samples(thread_count, Result<Sample>(Status::internal("the thread did not run")));
  std::latch ready(static_cast<std::ptrdiff_t>(thread_count));
  std::latch start(1);
  std::vector<std::thread> threads;
  try {
    for (size_t t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, t] {
        ready.count_down();
        start.wait();
        samples[t] = get_all(column, data, orders[t]);
      });
    }
  } catch (const std::system_error& error) {
    start.count_down();
    for (std::thread& thread : threads) thread.join();
    return Status::internal(std::string("cannot start a benchmark thread: ") + error.what());
  }
  ready.wait();
  Stopwatch watch;
  start.count_down();
  for (std::thread& thread : threads) thread.join();
  double seconds = watch.seconds();

  Sample total{seconds, 0, 0};
  for (size_t t = 0; t < thread_count; ++t) {
    if (!samples[t].is_ok()) return samples[t].status().with_context("thread " + std::to_string(t));
    total.operations += samples[t]->operations;
    total.checksum += samples[t]->checksum;
  }
  return total;
}

}  // namespace

Status run_memory_backend_cases(const BenchOptions& options, const Dataset& data, std::vector<CaseResult>& results) {
  OurMemorySide ours;
  MapSide baseline;

  // put: each measurement starts from an empty backend / map; the last one stays loaded.
  CaseResult result;
  STREAMSTATE_ASSIGN_OR_RETURN(
      result, measure_case(
                  options, {"memory/put", kMapBaseline},
                  [&](int) -> Result<Sample> {
                    STREAMSTATE_RETURN_IF_ERROR(reopen(ours));
                    return put_all(*ours.values, data);
                  },
                  [&](int) -> Result<Sample> {
                    baseline.values = StringMap();
                    return map_put_all(baseline.values, data);
                  }));
  results.push_back(result);

  const std::vector<uint32_t> get_order = data.random_order(1);
  STREAMSTATE_ASSIGN_OR_RETURN(
      result, measure_case(
                  options, {"memory/get", kMapBaseline},
                  [&](int) { return get_all(*ours.values, data, get_order); },
                  [&](int) { return map_get_all(baseline.values, data, get_order); }));
  results.push_back(result);

  const std::vector<uint32_t> miss_order = data.random_order(2);
  STREAMSTATE_ASSIGN_OR_RETURN(
      result, measure_case(
                  options, {"memory/get-miss", kMapBaseline},
                  [&](int) { return get_missing(*ours.values, data, miss_order); },
                  [&](int) { return map_get_missing(baseline.values, data, miss_order); }));
  results.push_back(result);

  STREAMSTATE_RETURN_IF_ERROR(load_counters(*ours.counters, data));
  map_load_counters(baseline.counters, data);
  const std::vector<uint32_t> rmw_order = data.random_order(3);
  STREAMSTATE_ASSIGN_OR_RETURN(
      result, measure_case(
                  options, {"memory/rmw", kMapBaseline},
                  [&](int run) { return increment_all(*ours.counters, data, rmw_order, static_cast<uint64_t>(run)); },
                  [&](int run) {
                    return map_increment_all(baseline.counters, data, rmw_order, static_cast<uint64_t>(run));
                  }));
  results.push_back(result);

  // The map is no longer needed; free it so the threads below have the memory to themselves.
  baseline = MapSide();

  const std::vector<std::vector<uint32_t>> two_orders = {data.random_order(10), data.random_order(11)};
  const std::vector<std::vector<uint32_t>> one_order = {two_orders[0]};
  STREAMSTATE_ASSIGN_OR_RETURN(
      result, measure_case(
                  options, {"scaling/memory-get-2t", "memory backend, 1 thread", /*compare_checksums=*/false},
                  [&](int) { return parallel_get_all(*ours.values, data, two_orders); },
                  [&](int) { return parallel_get_all(*ours.values, data, one_order); }));
  results.push_back(result);

  return ours.backend->close();
}

}  // namespace streamstate::bench
