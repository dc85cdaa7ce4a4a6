// rocksdb/* cases: RocksDbBackend against a raw rocksdb::DB opened in the same run with the
// same RocksDB options (both come from internal::make_rocksdb_options), the same column
// families, and the same read and write options. Each side has its own fresh directory,
// receives the same data in the same order, and both are compacted before the reads so they
// read the same file layout.
//
// rocksdb/put writes all N keys. The read and read-modify-write passes visit a random sample
// of kSampledKeys distinct keys out of the N stored (all N when N is smaller): each RocksDB
// operation costs microseconds, and full passes over a million keys would keep the default
// run far beyond its few-minute budget without measuring anything the sample does not.
#include "backends_suite.h"
#include "streamstate/config.h"

#if STREAMSTATE_HAS_ROCKSDB

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "backend/rocksdb/rocksdb_status.h"
#include "column_workloads.h"
#include "measure.h"
#include "raw_rocksdb.h"
#include "scratch_dir.h"
#include "streamstate/rocksdb.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

constexpr char kRawBaseline[] = "rocksdb::DB";
constexpr char kValuesColumn[] = "values";
constexpr char kCountersColumn[] = "counters";
constexpr uint64_t kSampledKeys = 200'000;
// Untimed setup writes go in batches of this many puts.
constexpr size_t kSetupBatchSize = 1000;

// The first kSampledKeys entries of a random order: distinct keys, random positions.
std::vector<uint32_t> sampled_order(const Dataset& data, uint64_t stream) {
  std::vector<uint32_t> order = data.random_order(stream);
  order.resize(std::min<uint64_t>(order.size(), kSampledKeys));
  return order;
}

struct OurRocksSide {
  std::unique_ptr<RocksDbBackend> backend;
  std::shared_ptr<StateColumn> values;
  std::shared_ptr<StateColumn> counters;
  std::string directory;  // name inside the scratch directory

  Status close(const ScratchDir& scratch) {
    values.reset();
    counters.reset();
    if (backend) STREAMSTATE_RETURN_IF_ERROR(backend->close());
    backend.reset();
    if (!directory.empty()) STREAMSTATE_RETURN_IF_ERROR(scratch.remove(directory));
    directory.clear();
    return Status::ok();
  }

  Status open(const ScratchDir& scratch, const std::string& name) {
    STREAMSTATE_RETURN_IF_ERROR(close(scratch));
    directory = name;
    STREAMSTATE_ASSIGN_OR_RETURN(backend,
                                 RocksDbBackend::open(backend_options_at(scratch.subdirectory(name))));
    STREAMSTATE_ASSIGN_OR_RETURN(values, backend->column(kValuesColumn));
    STREAMSTATE_ASSIGN_OR_RETURN(counters, backend->column(kCountersColumn));
    return Status::ok();
  }
};

// default, values, counters: the column families the backend has for the same columns.
struct RawRocksSide : RawRocksDb {
  std::string directory;

  rocksdb::ColumnFamilyHandle* values() const { return handles[1]; }
  rocksdb::ColumnFamilyHandle* counters() const { return handles[2]; }

  Status close(const ScratchDir& scratch) {
    STREAMSTATE_RETURN_IF_ERROR(RawRocksDb::close());
    if (!directory.empty()) STREAMSTATE_RETURN_IF_ERROR(scratch.remove(directory));
    directory.clear();
    return Status::ok();
  }

  Status open(const ScratchDir& scratch, const std::string& name) {
    STREAMSTATE_RETURN_IF_ERROR(close(scratch));
    directory = name;
    return RawRocksDb::open(scratch.subdirectory(name), {kValuesColumn, kCountersColumn});
  }

  Status compact_values() {
    return internal::from_rocksdb(
        db->CompactRange(rocksdb::CompactRangeOptions(), values(), nullptr, nullptr),
        "compacting the baseline");
  }
};

// Stores the counter 0 under every key of `order` (setup for increment_all), in batches.
Status load_counters_batched(StateBackend& backend, const Dataset& data, const std::vector<uint32_t>& order) {
  const std::string zero = encode_counter(0);
  WriteBatch batch;
  for (size_t n = 0; n < order.size(); ++n) {
    batch.put(kCountersColumn, data.key(order[n]), zero);
    if (batch.size() == kSetupBatchSize || n + 1 == order.size()) {
      STREAMSTATE_RETURN_IF_ERROR(backend.write(batch).with_context("loading counters"));
      batch.clear();
    }
  }
  return Status::ok();
}

Result<Sample> raw_put_all(RawRocksSide& side, const Dataset& data) {
  rocksdb::ColumnFamilyHandle* family = side.values();
  Stopwatch watch;
  for (uint64_t i = 0; i < data.size(); ++i) {
    rocksdb::Status status = side.db->Put(side.native.write, family, internal::to_slice(data.key(i)),
                                          internal::to_slice(data.value(i)));
    if (!status.ok()) return internal::from_rocksdb(status, "baseline put of key #" + std::to_string(i));
  }
  double seconds = watch.seconds();
  return Sample{seconds, data.size(), data.size() * Dataset::kValueBytes};
}

Result<Sample> raw_get_all(RawRocksSide& side, const Dataset& data, const std::vector<uint32_t>& order) {
  rocksdb::ColumnFamilyHandle* family = side.values();
  std::string value;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    rocksdb::Status status = side.db->Get(side.native.read, family, internal::to_slice(data.key(i)), &value);
    if (!status.ok()) return internal::from_rocksdb(status, "baseline get of key #" + std::to_string(i));
    checksum += value_checksum(value);
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> raw_get_missing(RawRocksSide& side, const Dataset& data, const std::vector<uint32_t>& order) {
  rocksdb::ColumnFamilyHandle* family = side.values();
  std::string value;
  uint64_t hits = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    rocksdb::Status status =
        side.db->Get(side.native.read, family, internal::to_slice(data.missing_key(i)), &value);
    if (status.ok()) {
      ++hits;
    } else if (!status.IsNotFound()) {
      return internal::from_rocksdb(status, "baseline get of missing key #" + std::to_string(i));
    }
  }
  double seconds = watch.seconds();
  if (hits != 0) return Status::internal("baseline: " + std::to_string(hits) + " never-put keys were found");
  return Sample{seconds, order.size(), hits};
}

Status raw_load_counters(RawRocksSide& side, const Dataset& data, const std::vector<uint32_t>& order) {
  const std::string zero = encode_counter(0);
  rocksdb::WriteBatch batch;
  for (size_t n = 0; n < order.size(); ++n) {
    rocksdb::Status status = batch.Put(side.counters(), internal::to_slice(data.key(order[n])), zero);
    if (status.ok() && (batch.Count() == kSetupBatchSize || n + 1 == order.size())) {
      status = side.db->Write(side.native.write, &batch);
      batch.Clear();
    }
    if (!status.ok()) return internal::from_rocksdb(status, "loading the baseline's counters");
  }
  return Status::ok();
}

Result<Sample> raw_increment_all(RawRocksSide& side, const Dataset& data, const std::vector<uint32_t>& order,
                                 uint64_t expected_before) {
  rocksdb::ColumnFamilyHandle* family = side.counters();
  std::string value;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    rocksdb::Slice key = internal::to_slice(data.key(i));
    rocksdb::Status status = side.db->Get(side.native.read, family, key, &value);
    if (!status.ok() && !status.IsNotFound()) {
      return internal::from_rocksdb(status, "baseline get of counter #" + std::to_string(i));
    }
    uint64_t counter = status.ok() && value.size() == 8 ? decode_fixed64(value.data()) : ~uint64_t{0};
    if (counter != expected_before) return counter_mismatch("baseline", i, counter, expected_before);
    checksum += counter;
    status = side.db->Put(side.native.write, family, key, encode_counter(counter + 1));
    if (!status.ok()) return internal::from_rocksdb(status, "baseline put of counter #" + std::to_string(i));
  }
  double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Status run_cases(const BenchOptions& options, const Dataset& data, const ScratchDir& scratch,
                 OurRocksSide& ours, RawRocksSide& baseline, std::vector<CaseResult>& results) {
  // put: each measurement writes into a fresh database; the last one is kept for the reads.
  const SampleFunction ours_put = [&](int run) -> Result<Sample> {
    STREAMSTATE_RETURN_IF_ERROR(ours.open(scratch, "ours-" + std::to_string(run)));
    return put_all(*ours.values, data);
  };
  const SampleFunction baseline_put = [&](int run) -> Result<Sample> {
    STREAMSTATE_RETURN_IF_ERROR(baseline.open(scratch, "baseline-" + std::to_string(run)));
    return raw_put_all(baseline, data);
  };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"rocksdb/put", kRawBaseline}, ours_put, baseline_put));

  STREAMSTATE_RETURN_IF_ERROR(ours.backend->compact());
  STREAMSTATE_RETURN_IF_ERROR(baseline.compact_values());

  const std::vector<uint32_t> get_order = sampled_order(data, 1);
  const SampleFunction ours_get = [&](int) { return get_all(*ours.values, data, get_order); };
  const SampleFunction baseline_get = [&](int) { return raw_get_all(baseline, data, get_order); };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"rocksdb/get", kRawBaseline}, ours_get, baseline_get));

  const std::vector<uint32_t> miss_order = sampled_order(data, 2);
  const SampleFunction ours_miss = [&](int) { return get_missing(*ours.values, data, miss_order); };
  const SampleFunction baseline_miss = [&](int) { return raw_get_missing(baseline, data, miss_order); };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"rocksdb/get-miss", kRawBaseline}, ours_miss, baseline_miss));

  // rmw: counters start at 0; in measurement r every counter must read r before it is bumped.
  const std::vector<uint32_t> rmw_order = sampled_order(data, 3);
  STREAMSTATE_RETURN_IF_ERROR(load_counters_batched(*ours.backend, data, rmw_order));
  STREAMSTATE_RETURN_IF_ERROR(raw_load_counters(baseline, data, rmw_order));
  const SampleFunction ours_rmw = [&](int run) {
    return increment_all(*ours.counters, data, rmw_order, static_cast<uint64_t>(run));
  };
  const SampleFunction baseline_rmw = [&](int run) {
    return raw_increment_all(baseline, data, rmw_order, static_cast<uint64_t>(run));
  };
  return measure_and_add(results, options, {"rocksdb/rmw", kRawBaseline}, ours_rmw, baseline_rmw);
}

}  // namespace

Status run_rocksdb_backend_cases(const BenchOptions& options, const Dataset& data,
                                 std::vector<CaseResult>& results) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch, ScratchDir::create(options.dir));
  OurRocksSide ours;
  RawRocksSide baseline;
  Status status = run_cases(options, data, *scratch, ours, baseline, results);
  // Close both even after a failure, so the scratch directory can be removed.
  Status ours_closed = ours.close(*scratch);
  Status baseline_closed = baseline.close(*scratch);
  if (!status.is_ok()) return status;
  if (!ours_closed.is_ok()) return ours_closed;
  return baseline_closed;
}

}  // namespace streamstate::bench

#else  // !STREAMSTATE_HAS_ROCKSDB

#include <iostream>

namespace streamstate::bench {

Status run_rocksdb_backend_cases(const BenchOptions&, const Dataset&, std::vector<CaseResult>&) {
  std::cerr
      << "backends: this build has no RocksDB backend (STREAMSTATE_WITH_ROCKSDB=OFF); rocksdb/* skipped\n";
  return Status::ok();
}

}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_ROCKSDB
