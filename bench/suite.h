// The contract between streamstate-bench and its suites: the options a suite runs with, the
// result of one measured case, and the registry suites join by name.
//
// A suite is one .cc file in bench/ that defines a SuiteFunction and registers it at static
// initialisation time:
//
//   namespace {
//   Status run_state_suite(const BenchOptions& options, std::vector<CaseResult>& results) {...}
//   const SuiteRegistration kState("state", "keyed state primitives over the memory backend",
//                                  &run_state_suite);
//   }  // namespace
//
// Thread-safety: registration happens before main(); afterwards the registry is only read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/status.h"

namespace streamstate::bench {

struct BenchOptions {
  // Distinct keys each case works on. Default: 1,000,000.
  uint64_t keys = 1'000'000;
  // Events per measurement of the suites that process event streams (pipeline). Default:
  // 10,000,000.
  uint64_t events = 10'000'000;
  // Measurements per case; the median is reported. Default: 3.
  int runs = 3;
  // Parent directory for on-disk data; empty means the system temp directory. A fresh
  // directory is created inside it and removed afterwards.
  std::string dir;
  // Print one line per case to stderr while running (set when stderr is a terminal).
  bool progress = false;
  // Report only the cases whose names start with this prefix ("memory/", "rocksdb/map-get");
  // empty reports every case. Suites skip the parts (groups of cases sharing setup) with no
  // selected case; within a part that runs, every case runs, as later ones may build on
  // earlier ones, and only the selected ones are reported.
  std::string only;

  // Whether a case, or a part whose case names share the prefix `name` ("memory/"), is selected.
  bool selects(std::string_view name) const {
    return only.empty() || name.starts_with(only) || std::string_view(only).starts_with(name);
  }
};

// One measured case: our figure, the baseline's figure from the same run, and their ratio.
struct CaseResult {
  std::string name;                  // "memory/get"
  double value = 0;                  // median of ours, in `unit`
  std::string unit;                  // "ops/s"
  std::string baseline;              // what the baseline is, e.g. "std::unordered_map"
  double baseline_value = 0;         // median of the baseline, in `unit`
  double ratio = 0;                  // value / baseline_value: higher is better for us
  int runs = 0;                      // measurements of each side
  uint64_t operations = 0;           // operations in one measurement of ours
  uint64_t baseline_operations = 0;  // operations in one measurement of the baseline
  uint64_t checksum = 0;             // over the data ours read in its last measurement
};

// Runs every case of a suite, appending one CaseResult per case.
using SuiteFunction = Status (*)(const BenchOptions& options, std::vector<CaseResult>& results);

struct SuiteInfo {
  std::string name;
  std::string description;
  SuiteFunction run = nullptr;
};

// Registers a suite; define one as a namespace-scope constant in the suite's file.
class SuiteRegistration {
 public:
  SuiteRegistration(std::string_view name, std::string_view description, SuiteFunction run);
};

// All registered suites, sorted by name.
std::vector<SuiteInfo> registered_suites();

// The suite called `name`, or nullptr.
const SuiteInfo* find_suite(std::string_view name);

}  // namespace streamstate::bench
