// Measuring one case: our side and the baseline are measured alternately in the same process
// (ours first in even runs, the baseline first in odd runs, so warm-up and background noise
// fall on both), and the median throughput of each side is reported.
//
// Each side is a SampleFunction that does exactly one measurement and says how many
// operations it timed and what checksum the data it read adds up to. The two checksums of a
// run must agree, or the case fails: ours and the baseline must have done the same work.
//
// Thread-safety: measure_case runs the sample functions on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "streamstate/status.h"
#include "suite.h"

namespace streamstate::bench {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// One timed measurement.
struct Sample {
  double seconds = 0;
  uint64_t operations = 0;
  uint64_t checksum = 0;
};

// Performs measurement number `run` (0-based) of one side; setup done inside it is not timed
// as long as it happens before the Stopwatch starts.
using SampleFunction = std::function<Result<Sample>(int run)>;

struct CaseSpec {
  std::string name;
  std::string baseline;
  // The two sides read the same data, so their checksums must be equal in every run. Off
  // when the sides do different amounts of work (scaling cases check their own sums).
  bool compare_checksums = true;
};

// Runs options.runs measurements of each side and returns medians of operations per second.
Result<CaseResult> measure_case(const BenchOptions& options, const CaseSpec& spec, const SampleFunction& ours,
                                const SampleFunction& baseline);

// measure_case, appending the result to `results` unless options.only leaves the case out.
Status measure_and_add(std::vector<CaseResult>& results, const BenchOptions& options, const CaseSpec& spec,
                       const SampleFunction& ours, const SampleFunction& baseline);

}  // namespace streamstate::bench
