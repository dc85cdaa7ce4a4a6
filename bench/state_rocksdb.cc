// rocksdb/value-rmw, rocksdb/map-put, rocksdb/map-get: a KeyedStateStore over RocksDbBackend
// against a raw rocksdb::DB doing the same reads and writes of the very same bytes - the
// state keys (state_key.h: key group, length-prefixed user key, namespace part) and the
// Codec<T> values that the state layer stores (layout in docs/keyed-state.md). The raw DB is
// opened in the same run with the same RocksDB options (internal::make_rocksdb_options), one
// column family per state like the backend, and the same read and write options. After the
// measurements the bytes stored on both sides are compared key by key, so a baseline that
// wrote less or other data fails the case instead of looking fast.
//
// Both sides store all N keys, each with a counter and a kMapEntriesPerKey-entry map, loaded
// untimed with the same write pattern (one put per counter, one batch per map) and then
// compacted, so both read the same file layout. The timed passes visit a random sample of
// kSampledKeys distinct keys out of the N stored (all N when N is smaller): each RocksDB
// operation costs microseconds, and full passes over a million keys would keep the default
// run far beyond its few-minute budget without measuring anything the sample does not.
//
// The baseline's keys are built before its timer starts: it measures RocksDB alone, and our
// side pays for everything above it (key group hash, key prefixes, encoding) in the ratio.
#include "state_suite.h"
#include "streamstate/config.h"

#if STREAMSTATE_HAS_ROCKSDB

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "backend/rocksdb/rocksdb_status.h"
#include "measure.h"
#include "raw_rocksdb.h"
#include "scratch_dir.h"
#include "state_workloads.h"
#include "streamstate/codec.h"
#include "streamstate/key_group.h"
#include "streamstate/rocksdb.h"
#include "streamstate/state_key.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

constexpr char kRawBaseline[] = "rocksdb::DB, same bytes";
constexpr uint64_t kSampledKeys = 200'000;
// Keys whose stored bytes are compared between the two sides after the measurements.
constexpr size_t kComparedKeys = 2'000;

std::vector<uint32_t> sampled_order(const Dataset& data, uint64_t stream) {
  std::vector<uint32_t> order = data.random_order(stream);
  order.resize(std::min<uint64_t>(order.size(), kSampledKeys));
  return order;
}

// The keys of `order` in another fixed random order (Fisher-Yates with our own index draw,
// like Dataset::random_order, so it is the same with every standard library).
std::vector<uint32_t> reshuffled(std::vector<uint32_t> order, uint64_t seed) {
  std::mt19937_64 random(seed);
  for (size_t n = order.size(); n > 1; --n) std::swap(order[n - 1], order[random() % n]);
  return order;
}

// The stored keys of key i: its counter's and its map entries', as the state layer builds them
// for a store with default options (kDefaultMaxParallelism key groups, empty namespace).
std::string counter_key(const Dataset& data, uint64_t i) {
  return make_state_key(key_group_for_key(data.key(i), kDefaultMaxParallelism), data.key(i));
}

std::string map_entry_key(const Dataset& data, uint64_t i, size_t entry) {
  // The namespace part of a map entry: [varint32 namespace length = 0][Codec<K> of the map key].
  std::string name_space(1, '\0');
  encode_value_to(map_entry_names()[entry], name_space);
  return make_state_key(key_group_for_key(data.key(i), kDefaultMaxParallelism), data.key(i), name_space);
}

// The column families are default, counters and map entries, like the backend's.
struct RawRocksSide : RawRocksDb {
  rocksdb::ColumnFamilyHandle* counters() const { return handles[1]; }
  rocksdb::ColumnFamilyHandle* items() const { return handles[2]; }

  Status open(const std::string& path) { return RawRocksDb::open(path, {kCounterState, kMapState}); }

  Result<std::optional<std::string>> get(rocksdb::ColumnFamilyHandle* family, const std::string& key) {
    std::optional<std::string> value(std::in_place);
    rocksdb::Status status = db->Get(native.read, family, key, &*value);
    if (status.IsNotFound()) {
      value.reset();
    } else if (!status.ok()) {
      return internal::from_rocksdb(status, "baseline get");
    }
    return value;
  }
};

// Untimed: the same writes as load_keyed_states - per key one put of the counter 0 and one
// batch of its map entries.
Status raw_load(RawRocksSide& side, const Dataset& data) {
  std::string value;
  rocksdb::WriteBatch batch;
  for (uint64_t i = 0; i < data.size(); ++i) {
    value.clear();
    encode_value_to(int64_t{0}, value);
    rocksdb::Status status = side.db->Put(side.native.write, side.counters(), counter_key(data, i), value);
    batch.Clear();
    for (size_t entry = 0; entry < kMapEntriesPerKey && status.ok(); ++entry) {
      value.clear();
      encode_value_to(loaded_map_value(i, entry), value);
      status = batch.Put(side.items(), map_entry_key(data, i, entry), value);
    }
    if (status.ok()) status = side.db->Write(side.native.write, &batch);
    if (!status.ok())
      return internal::from_rocksdb(status, "loading the baseline, key #" + std::to_string(i));
  }
  return Status::ok();
}

Status raw_compact(RawRocksSide& side) {
  for (rocksdb::ColumnFamilyHandle* family : side.handles) {
    STREAMSTATE_RETURN_IF_ERROR(internal::from_rocksdb(
        side.db->CompactRange(rocksdb::CompactRangeOptions(), family, nullptr, nullptr),
        "compacting the baseline"));
  }
  return Status::ok();
}

// The stored keys of the keys of `order`, in the same order.
std::vector<std::string> counter_keys(const Dataset& data, const std::vector<uint32_t>& order) {
  std::vector<std::string> keys;
  keys.reserve(order.size());
  for (uint32_t i : order) keys.push_back(counter_key(data, i));
  return keys;
}

std::vector<std::string> map_entry_keys(const Dataset& data, const std::vector<uint32_t>& order) {
  std::vector<std::string> keys;
  keys.reserve(order.size());
  for (uint32_t i : order) keys.push_back(map_entry_key(data, i, map_entry_of(i)));
  return keys;
}

// Gets and decodes the int64 stored under keys[n] (for key #order[n]) into `value`.
Status raw_read(RawRocksSide& side, rocksdb::ColumnFamilyHandle* family, const std::string& key,
                uint32_t index, std::string_view what, std::string& buffer, int64_t& value) {
  rocksdb::Status status = side.db->Get(side.native.read, family, key, &buffer);
  if (status.IsNotFound()) return state_value_missing("baseline", what, index);
  if (!status.ok()) return internal::from_rocksdb(status, "baseline get of key #" + std::to_string(index));
  return decode_value_into(buffer, value);
}

Result<Sample> raw_increment(RawRocksSide& side, const std::vector<uint32_t>& order,
                             const std::vector<std::string>& keys, int64_t expected_before) {
  std::string read_buffer;
  std::string write_buffer;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (size_t n = 0; n < order.size(); ++n) {
    int64_t counter = 0;
    STREAMSTATE_RETURN_IF_ERROR(
        raw_read(side, side.counters(), keys[n], order[n], "the counter", read_buffer, counter));
    if (counter != expected_before) {
      return state_value_mismatch("baseline", "the counter", order[n], counter, expected_before);
    }
    checksum += static_cast<uint64_t>(counter);
    write_buffer.clear();
    encode_value_to(counter + 1, write_buffer);
    rocksdb::Status status = side.db->Put(side.native.write, side.counters(), keys[n], write_buffer);
    if (!status.ok())
      return internal::from_rocksdb(status, "baseline put of key #" + std::to_string(order[n]));
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> raw_put(RawRocksSide& side, const std::vector<uint32_t>& order,
                       const std::vector<std::string>& keys, int run) {
  std::string write_buffer;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (size_t n = 0; n < order.size(); ++n) {
    const int64_t value = put_map_value(order[n], run);
    write_buffer.clear();
    encode_value_to(value, write_buffer);
    rocksdb::Status status = side.db->Put(side.native.write, side.items(), keys[n], write_buffer);
    if (!status.ok())
      return internal::from_rocksdb(status, "baseline put of key #" + std::to_string(order[n]));
    checksum += static_cast<uint64_t>(value);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> raw_get(RawRocksSide& side, const std::vector<uint32_t>& order,
                       const std::vector<std::string>& keys, int put_run) {
  std::string read_buffer;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (size_t n = 0; n < order.size(); ++n) {
    int64_t value = 0;
    STREAMSTATE_RETURN_IF_ERROR(
        raw_read(side, side.items(), keys[n], order[n], "the map entry", read_buffer, value));
    const int64_t expected = put_map_value(order[n], put_run);
    if (value != expected)
      return state_value_mismatch("baseline", "the map entry", order[n], value, expected);
    checksum += static_cast<uint64_t>(value);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

// Compares what the two sides store under the first kComparedKeys of `keys` in one state.
Status compare_stored_bytes(StateBackend& ours, RawRocksSide& baseline, const char* state,
                            rocksdb::ColumnFamilyHandle* family, const std::vector<std::string>& keys) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column, ours.column(state));
  std::string ours_value;
  for (size_t n = 0; n < std::min(keys.size(), kComparedKeys); ++n) {
    STREAMSTATE_ASSIGN_OR_RETURN(const bool found, column->get_into(keys[n], ours_value));
    STREAMSTATE_ASSIGN_OR_RETURN(const std::optional<std::string> raw, baseline.get(family, keys[n]));
    if (!found || !raw.has_value() || *raw != ours_value) {
      return Status::internal(std::string("state '") + state +
                              "': ours and the baseline store different bytes " + "under stored key #" +
                              std::to_string(n) + " (ours " + (found ? "has" : "lacks") +
                              " it, the baseline " + (raw.has_value() ? "has" : "lacks") +
                              " it); the baseline no longer matches the state layout of docs/keyed-state.md");
    }
  }
  return Status::ok();
}

Status run_cases(const BenchOptions& options, const Dataset& data, KeyedStates& ours,
                 RocksDbBackend& ours_backend, RawRocksSide& baseline, std::vector<CaseResult>& results) {
  std::vector<uint32_t> all(data.size());
  for (uint64_t i = 0; i < data.size(); ++i) all[i] = static_cast<uint32_t>(i);
  STREAMSTATE_RETURN_IF_ERROR(load_keyed_states(ours, data, all));
  STREAMSTATE_RETURN_IF_ERROR(raw_load(baseline, data));
  all = {};
  STREAMSTATE_RETURN_IF_ERROR(ours_backend.compact());
  STREAMSTATE_RETURN_IF_ERROR(raw_compact(baseline));

  // value-rmw: counters start at 0; in measurement r every counter must read r.
  const std::vector<uint32_t> rmw_order = sampled_order(data, 1);
  const std::vector<std::string> rmw_keys = counter_keys(data, rmw_order);
  const SampleFunction ours_rmw = [&](int run) { return increment_counters(ours, data, rmw_order, run); };
  const SampleFunction baseline_rmw = [&](int run) {
    return raw_increment(baseline, rmw_order, rmw_keys, run);
  };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"rocksdb/value-rmw", kRawBaseline}, ours_rmw, baseline_rmw));

  const std::vector<uint32_t> put_order = sampled_order(data, 2);
  const std::vector<std::string> put_keys = map_entry_keys(data, put_order);
  const SampleFunction ours_put = [&](int run) { return put_map_entries(ours, data, put_order, run); };
  const SampleFunction baseline_put = [&](int run) { return raw_put(baseline, put_order, put_keys, run); };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"rocksdb/map-put", kRawBaseline}, ours_put, baseline_put));

  // map-get reads the entries map-put wrote: the same sample, in another random order.
  const int put_run = options.runs - 1;
  const std::vector<uint32_t> get_order = reshuffled(put_order, 3);
  const std::vector<std::string> get_keys = map_entry_keys(data, get_order);
  const SampleFunction ours_get = [&](int) { return get_map_entries(ours, data, get_order, put_run); };
  const SampleFunction baseline_get = [&](int) { return raw_get(baseline, get_order, get_keys, put_run); };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"rocksdb/map-get", kRawBaseline}, ours_get, baseline_get));

  STREAMSTATE_RETURN_IF_ERROR(
      compare_stored_bytes(ours_backend, baseline, kCounterState, baseline.counters(), rmw_keys));
  return compare_stored_bytes(ours_backend, baseline, kMapState, baseline.items(), put_keys);
}

}  // namespace

Status run_rocksdb_state_cases(const BenchOptions& options, const Dataset& data,
                               std::vector<CaseResult>& results) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch, ScratchDir::create(options.dir));
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<RocksDbBackend> backend,
                               RocksDbBackend::open(backend_options_at(scratch->subdirectory("ours"))));
  RawRocksSide baseline;
  Status status = baseline.open(scratch->subdirectory("baseline"));
  if (status.is_ok()) {
    Result<KeyedStates> ours = KeyedStates::open(backend);
    status = ours.is_ok() ? run_cases(options, data, *ours, *backend, baseline, results) : ours.status();
  }
  // Close both even after a failure, so the scratch directory can be removed.
  Status ours_closed = backend->close();
  Status baseline_closed = baseline.close();
  if (!status.is_ok()) return status;
  return ours_closed.is_ok() ? baseline_closed : ours_closed;
}

}  // namespace streamstate::bench

#else  // !STREAMSTATE_HAS_ROCKSDB

#include <iostream>

namespace streamstate::bench {

Status run_rocksdb_state_cases(const BenchOptions&, const Dataset&, std::vector<CaseResult>&) {
  std::cerr << "state: this build has no RocksDB backend (STREAMSTATE_WITH_ROCKSDB=OFF); "
               "rocksdb/value-rmw, rocksdb/map-put and rocksdb/map-get skipped\n";
  return Status::ok();
}

}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_ROCKSDB
