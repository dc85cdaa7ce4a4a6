// The `wal` suite: write-ahead log appends of 100-byte records (the dataset's values).
//
//   wal/group-commit   8 threads x append_batch() of 1,024 records, group commit: records/s over
//                      a target of 2,000,000 appends/s
//   wal/group-commit-4t-256  the same with 4 threads x batches of 256: fewer records wait for
//                      each sync, so the rate follows the disk's sync latency more closely
//   wal/group-commit-8t-single  8 threads x append() of single records, group commit, over a
//                      raw write() + fdatasync() loop of one record per sync (the gain of
//                      sharing syncs)
//   wal/sync-append    1 thread, every-append sync, over a raw write() + fdatasync() loop of
//                      the same framed records in the same run
//   wal/append-none    1 thread x append(), sync policy none: over a target of 500,000 appends/s
//   wal/replay         replay() of the log wal/append-none wrote (page cache warm) over a raw
//                      read() of its files checking each record's length and checksum
//
// Besides the table, one line per case goes to stderr with the medians of seconds, records/s,
// MB/s (record bytes, framing included), bytes on disk and syncs of both sides.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "measure.h"
#include "scratch_dir.h"
#include "suite.h"
#include "util/status_macros.h"
#include "wal_workloads.h"

namespace streamstate::bench {
namespace {

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// Medians over the runs of one side of a case.
struct SideFigures {
  std::vector<double> seconds;
  std::vector<double> rates;
  WalRun last;

  void add(const WalRun& run) {
    seconds.push_back(run.seconds);
    rates.push_back(static_cast<double>(run.records) / run.seconds);
    last = run;
  }
};

std::string describe(const SideFigures& side) {
  const double rate = median_of(side.rates);
  const double bytes_per_record =
      static_cast<double>(side.last.bytes_on_disk) / static_cast<double>(std::max<uint64_t>(side.last.records, 1));
  char line[256];
  std::snprintf(line, sizeof(line), "%.3f s, %.0f records/s, %.1f MB/s, %llu bytes on disk, %llu syncs for %llu records",
                median_of(side.seconds), rate, rate * bytes_per_record / 1e6,
                static_cast<unsigned long long>(side.last.bytes_on_disk),
                static_cast<unsigned long long>(side.last.syncs), static_cast<unsigned long long>(side.last.records));
  return line;
}

class WalSuite {
 public:
  WalSuite(const BenchOptions& options, const ScratchDir& scratch, const Dataset& data)
      : options_(options), scratch_(scratch), data_(data) {}

  // Ours against a fixed target rate.
  Status against_target(std::vector<CaseResult>& results, const std::string& name, const WalWorkload& workload,
                        double target) {
    if (!options_.selects(name)) return Status::ok();
    SideFigures ours;
    for (int run = 0; run < options_.runs; ++run) {
      STREAMSTATE_ASSIGN_OR_RETURN(WalRun figures, ours_run(workload));
      ours.add(figures);
    }
    CaseResult result;
    result.name = name;
    result.unit = "records/s";
    result.value = median_of(ours.rates);
    result.baseline = "target";
    result.baseline_value = target;
    result.ratio = result.value / target;
    result.runs = options_.runs;
    result.operations = ours.last.records;
    result.checksum = ours.last.bytes_on_disk;
    std::cerr << name << ": ours " << describe(ours) << "\n";
    results.push_back(std::move(result));
    return Status::ok();
  }

  // Ours against the raw write + fdatasync loop, alternating as measure_case does.
  Status against_raw_loop(std::vector<CaseResult>& results, const std::string& name, const WalWorkload& workload,
                          uint64_t baseline_records) {
    if (!options_.selects(name)) return Status::ok();
    SideFigures ours;
    SideFigures raw;
    auto ours_side = [&](int) -> Result<Sample> {
      STREAMSTATE_ASSIGN_OR_RETURN(WalRun run, ours_run(workload));
      ours.add(run);
      return Sample{run.seconds, run.records, run.bytes_on_disk};
    };
    auto raw_side = [&](int) -> Result<Sample> {
      STREAMSTATE_RETURN_IF_ERROR(scratch_.remove("raw"));
      STREAMSTATE_ASSIGN_OR_RETURN(WalRun run,
                                   run_raw_write_sync_loop(scratch_.subdirectory("raw"), baseline_records, data_));
      raw.add(run);
      return Sample{run.seconds, run.records, run.bytes_on_disk};
    };
    // Same records on both sides: the bytes on disk must then be equal too.
    CaseSpec spec{name, "raw write+fdatasync loop", workload.records == baseline_records};
    STREAMSTATE_ASSIGN_OR_RETURN(CaseResult result, measure_case(options_, spec, ours_side, raw_side));
    result.unit = "records/s";
    std::cerr << name << ": ours " << describe(ours) << "; raw loop " << describe(raw) << "\n";
    results.push_back(std::move(result));
    return Status::ok();
  }

 // Replay of a log of `records` records (written here unless an earlier case left one) against
  // the raw read.
  Status replay(std::vector<CaseResult>& results, const std::string& name, uint64_t records) {
    if (!options_.selects(name)) return Status::ok();
    WalWorkload workload{.directory = "", .sync = WalSyncPolicy::kNone, .threads = 1, .records = records, .batch = 1};
    STREAMSTATE_ASSIGN_OR_RETURN(WalRun written, ours_run(workload));
    const std::string directory = scratch_.subdirectory("wal");
    std::vector<double> open_seconds;
    auto ours = [&](int) -> Result<Sample> {
      STREAMSTATE_ASSIGN_OR_RETURN(WalReplayRun run, run_wal_replay(directory, written.records));
      open_seconds.push_back(run.open_seconds);
      return Sample{run.seconds, run.records, run.checksum};
    };
    auto raw = [&](int) -> Result<Sample> {
      STREAMSTATE_ASSIGN_OR_RETURN(WalReplayRun run, run_raw_replay(directory, written.records));
      return Sample{run.seconds, run.records, run.checksum};
    };
    STREAMSTATE_ASSIGN_OR_RETURN(CaseResult result, measure_case(options_, CaseSpec{name, "raw read+checksum", true},
                                                                 ours, raw));
    result.unit = "records/s";
    char line[200];
    std::snprintf(line, sizeof(line), "%s: ours %.0f records/s (%.1f MB/s) after an open (recovery) of %.3f s; raw %.0f records/s",
                  name.c_str(), result.value, result.value * static_cast<double>(written.bytes_on_disk) /
                                                  static_cast<double>(written.records) / 1e6,
                  median_of(open_seconds), result.baseline_value);
    std::cerr << line << "\n";
    results.push_back(std::move(result));
    return Status::ok();
  }

 private:
  Result<WalRun> ours_run(WalWorkload workload) {
    STREAMSTATE_RETURN_IF_ERROR(scratch_.remove("wal"));
    workload.directory = scratch_.subdirectory("wal");
    return run_wal_appends(workload, data_);
  }

  const BenchOptions& options_;
  const ScratchDir& scratch_;
  const Dataset& data_;
};

Status run_wal_suite(const BenchOptions& options, std::vector<CaseResult>& results) {
  if (options.progress) std::cerr << "wal: generating " << options.keys << " records\n";
  const Dataset data(options.keys);
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch, ScratchDir::create(options.dir));
  WalSuite suite(options, *scratch, data);
  // Every sync waits for the disk (a fraction of a millisecond here): the synced cases append
  // a share of the records so that one measurement takes about a second.
  const uint64_t synced = std::max<uint64_t>(options.keys / 500, 100);
  const uint64_t grouped = std::max<uint64_t>(options.keys / 100, 400);
  STREAMSTATE_RETURN_IF_ERROR(suite.against_target(
      results, "wal/group-commit",
      WalWorkload{.directory = "", .sync = WalSyncPolicy::kGroupCommit, .threads = 8, .records = options.keys, .batch = 1024},
      2'000'000));
  STREAMSTATE_RETURN_IF_ERROR(suite.against_target(
      results, "wal/group-commit-4t-256",
      WalWorkload{.directory = "", .sync = WalSyncPolicy::kGroupCommit, .threads = 4, .records = options.keys, .batch = 256},
      2'000'000));
  STREAMSTATE_RETURN_IF_ERROR(suite.against_raw_loop(
      results, "wal/group-commit-8t-single",
      WalWorkload{.directory = "", .sync = WalSyncPolicy::kGroupCommit, .threads = 8, .records = grouped, .batch = 1}, synced));
  STREAMSTATE_RETURN_IF_ERROR(suite.against_raw_loop(
      results, "wal/sync-append",
      WalWorkload{.directory = "", .sync = WalSyncPolicy::kEveryAppend, .threads = 1, .records = synced, .batch = 1}, synced));
  STREAMSTATE_RETURN_IF_ERROR(suite.against_target(
      results, "wal/append-none",
      WalWorkload{.directory = "", .sync = WalSyncPolicy::kNone, .threads = 1, .records = options.keys, .batch = 1}, 500'000));
  STREAMSTATE_RETURN_IF_ERROR(suite.replay(results, "wal/replay", options.keys));
  return Status::ok();
}

const SuiteRegistration kWalSuite(
    "wal", "write-ahead log appends of 100-byte records: group commit (batched from 8 and 4 threads; single "
    "records from 8 threads), "
    "every-append sync against a raw write+fdatasync loop, no sync, replay",
    &run_wal_suite);

}  // namespace
}  // namespace streamstate::bench
