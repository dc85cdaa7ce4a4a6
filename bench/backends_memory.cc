// memory/* cases (MemoryBackend against std::unordered_map<std::string, std::string>),
// memory/puts-after-snapshot (puts right after snapshot() against the same puts with no
// snapshot alive) and scaling/memory-get-2t (two threads against one), with
// scaling/unordered_map-get-2t as the control: the same two-against-one gets on a read-only
// std::unordered_map, which needs no locks, so its ratio is what the machine itself allows
// for this memory-bound work.
//
// The baseline does what a hand-written single-threaded map would: lookups go through one
// reused std::string key (the standard hash has no string_view lookup), gets copy the value
// into one reused std::string, read-modify-write is find / decode / encode / assign.
#include <algorithm>
#include <functional>
#include <latch>
#include <string>
#include <system_error>
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
    if (it == map.end())
      return Status::internal("baseline: key #" + std::to_string(i) + " not found after put");
    value.assign(it->second);
    checksum += value_checksum(value);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> map_get_missing(const StringMap& map, const Dataset& data,
                               const std::vector<uint32_t>& order) {
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
    uint64_t counter =
        it != map.end() && it->second.size() == 8 ? decode_fixed64(it->second.data()) : ~uint64_t{0};
    if (counter != expected_before) return counter_mismatch("baseline", i, counter, expected_before);
    checksum += counter;
    it->second = encode_counter(counter + 1);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

// Puts (overwrites with the same values) of the first `count` keys of `order`, timed; with
// `snapshot_first`, a snapshot of the backend is taken before the clock starts and held
// until it stops. Checksum: the number of puts.
Result<Sample> puts_beside_snapshot(OurMemorySide& side, const Dataset& data, const std::vector<uint32_t>& order,
                                    size_t count, bool snapshot_first) {
  std::unique_ptr<BackendSnapshot> snapshot;
  if (snapshot_first) {
    STREAMSTATE_ASSIGN_OR_RETURN(snapshot, side.backend->snapshot());
  }
  Stopwatch watch;
  for (size_t n = 0; n < count; ++n) {
    const uint32_t i = order[n];
    STREAMSTATE_RETURN_IF_ERROR(side.values->put(data.key(i), data.value(i)));
  }
  double seconds = watch.seconds();
  return Sample{seconds, count, count};
}

// Runs body(t) on thread_count threads at once, timed from a common start to the last one
// finishing; operations and checksums are summed.
Result<Sample> run_in_parallel(size_t thread_count,
                               const std::function<Result<Sample>(size_t thread)>& body) {
  std::vector<Result<Sample>> samples(thread_count,
                                      Result<Sample>(Status::internal("the thread did not run")));
  std::latch ready(static_cast<std::ptrdiff_t>(thread_count));
  std::latch start(1);
  std::vector<std::thread> threads;
  try {
    for (size_t t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, t] {
        ready.count_down();
        start.wait();
        samples[t] = body(t);
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

Result<Sample> checked_map_get_all(const StringMap& map, const Dataset& data,
                                   const std::vector<uint32_t>& order) {
  Result<Sample> sample = map_get_all(map, data, order);
  if (sample.is_ok() && sample->checksum != data.expected_get_checksum()) {
    return Status::internal("baseline: the values read add up to checksum " +
                            std::to_string(sample->checksum) + " instead of " +
                            std::to_string(data.expected_get_checksum()));
  }
  return sample;
}

}  // namespace

Status run_memory_backend_cases(const BenchOptions& options, const Dataset& data,
                                std::vector<CaseResult>& results) {
  OurMemorySide ours;
  MapSide baseline;

  // put: each measurement starts from an empty backend / map; the last one stays loaded.
  const SampleFunction ours_put = [&](int) -> Result<Sample> {
    STREAMSTATE_RETURN_IF_ERROR(reopen(ours));
    return put_all(*ours.values, data);
  };
  const SampleFunction baseline_put = [&](int) -> Result<Sample> {
    baseline.values = StringMap();
    return map_put_all(baseline.values, data);
  };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"memory/put", kMapBaseline}, ours_put, baseline_put));

  const std::vector<uint32_t> get_order = data.random_order(1);
  const SampleFunction ours_get = [&](int) { return get_all(*ours.values, data, get_order); };
  const SampleFunction baseline_get = [&](int) { return map_get_all(baseline.values, data, get_order); };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"memory/get", kMapBaseline}, ours_get, baseline_get));

  const std::vector<uint32_t> miss_order = data.random_order(2);
  const SampleFunction ours_miss = [&](int) { return get_missing(*ours.values, data, miss_order); };
  const SampleFunction baseline_miss = [&](int) {
    return map_get_missing(baseline.values, data, miss_order);
  };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"memory/get-miss", kMapBaseline}, ours_miss, baseline_miss));

  // rmw: counters start at 0; in measurement r every counter must read r before it is bumped.
  STREAMSTATE_RETURN_IF_ERROR(load_counters(*ours.counters, data));
  map_load_counters(baseline.counters, data);
  const std::vector<uint32_t> rmw_order = data.random_order(3);
  const SampleFunction ours_rmw = [&](int run) {
    return increment_all(*ours.counters, data, rmw_order, static_cast<uint64_t>(run));
  };
  const SampleFunction baseline_rmw = [&](int run) {
    return map_increment_all(baseline.counters, data, rmw_order, static_cast<uint64_t>(run));
  };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"memory/rmw", kMapBaseline}, ours_rmw, baseline_rmw));
  baseline.counters = StringMap();  // not needed any more

  // A snapshot's cost to writers: 100,000 random puts (a tenth of the keys by default) right
  // after snapshot() of the loaded column, over the same puts with no snapshot alive.
  const std::vector<uint32_t> snapshot_order = data.random_order(4);
  const size_t snapshot_puts = std::min<size_t>(100'000, snapshot_order.size());
  STREAMSTATE_RETURN_IF_ERROR(measure_and_add(
      results, options, {"memory/puts-after-snapshot", "the same puts, no snapshot"},
      [&](int) { return puts_beside_snapshot(ours, data, snapshot_order, snapshot_puts, true); },
      [&](int) { return puts_beside_snapshot(ours, data, snapshot_order, snapshot_puts, false); }));

  // Scaling: each thread visits all keys in its own random order; one thread uses the first.
  const std::vector<std::vector<uint32_t>> orders = {data.random_order(10), data.random_order(11)};
  const auto ours_thread = [&](size_t t) { return get_all(*ours.values, data, orders[t]); };
  STREAMSTATE_RETURN_IF_ERROR(measure_and_add(
      results, options, {"scaling/memory-get-2t", "memory backend, 1 thread", /*compare_checksums=*/false},
      [&](int) { return run_in_parallel(2, ours_thread); },
      [&](int) { return run_in_parallel(1, ours_thread); }));

  const auto map_thread = [&](size_t t) { return checked_map_get_all(baseline.values, data, orders[t]); };
  STREAMSTATE_RETURN_IF_ERROR(measure_and_add(
      results, options,
      {"scaling/unordered_map-get-2t", "std::unordered_map, 1 thread", /*compare_checksums=*/false},
      [&](int) { return run_in_parallel(2, map_thread); },
      [&](int) { return run_in_parallel(1, map_thread); }));

  return ours.backend->close();
}

}  // namespace streamstate::bench
