// Alternating measurement and medians.
#include "measure.h"

#include <malloc.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  if (values.size() % 2 == 1) return values[middle];
  return (values[middle - 1] + values[middle]) / 2;
}

// glibc keeps small freed chunks in "fast bins" and merges them only when a later large
// allocation needs it, so a sample that frees millions of entries (a destroyed backend, a
// baseline's map) would have that merging charged to whichever sample allocates next. Setting
// M_MXFAST (to its default) merges them now, untimed, and returns no memory to the system.
void settle_heap() { ::mallopt(M_MXFAST, static_cast<int>(64 * sizeof(size_t) / 4)); }

Result<Sample> take_sample(const CaseSpec& spec, std::string_view side, const SampleFunction& function,
                           int run) {
  settle_heap();
  Result<Sample> sample = function(run);
  if (!sample.is_ok()) {
    return sample.status().with_context(spec.name + " (" + std::string(side) + ", run " +
                                        std::to_string(run) + ")");
  }
  if (sample->operations == 0 || !(sample->seconds > 0)) {
    return Status::internal(spec.name + " (" + std::string(side) + "): a measurement timed no work (" +
                            std::to_string(sample->operations) + " operations in " +
                            std::to_string(sample->seconds) + " s); use more --keys");
  }
  return sample;
}

}  // namespace

Result<CaseResult> measure_case(const BenchOptions& options, const CaseSpec& spec, const SampleFunction& ours,
                                const SampleFunction& baseline) {
  std::vector<double> ours_rates;
  std::vector<double> baseline_rates;
  Sample last_ours;
  Sample last_baseline;
  for (int run = 0; run < options.runs; ++run) {
    Sample ours_sample;
    Sample baseline_sample;
    for (int turn = 0; turn < 2; ++turn) {
      bool ours_turn = (turn == 0) == (run % 2 == 0);
      if (ours_turn) {
        STREAMSTATE_ASSIGN_OR_RETURN(ours_sample, take_sample(spec, "ours", ours, run));
      } else {
        STREAMSTATE_ASSIGN_OR_RETURN(baseline_sample, take_sample(spec, "baseline", baseline, run));
      }
    }
    if (spec.compare_checksums && ours_sample.checksum != baseline_sample.checksum) {
      return Status::internal(spec.name + ", run " + std::to_string(run) + ": ours read checksum " +
                              std::to_string(ours_sample.checksum) + " but the baseline read " +
                              std::to_string(baseline_sample.checksum) +
                              "; the two sides did not see the same data");
    }
    ours_rates.push_back(static_cast<double>(ours_sample.operations) / ours_sample.seconds);
    baseline_rates.push_back(static_cast<double>(baseline_sample.operations) / baseline_sample.seconds);
    last_ours = ours_sample;
    last_baseline = baseline_sample;
  }

  CaseResult result;
  result.name = spec.name;
  result.unit = "ops/s";
  result.baseline = spec.baseline;
  result.value = median(ours_rates);
  result.baseline_value = median(baseline_rates);
  result.ratio = result.baseline_value > 0 ? result.value / result.baseline_value : 0;
  result.runs = options.runs;
  result.operations = last_ours.operations;
  result.baseline_operations = last_baseline.operations;
  result.checksum = last_ours.checksum;
  if (options.progress) {
    std::cerr << "  " << result.name << ": " << static_cast<uint64_t>(result.value) << " vs "
              << static_cast<uint64_t>(result.baseline_value) << " ops/s (ratio " << result.ratio << ")\n";
  }
  return result;
}

Status measure_and_add(std::vector<CaseResult>& results, const BenchOptions& options, const CaseSpec& spec,
                       const SampleFunction& ours, const SampleFunction& baseline) {
  // A case left out by --only is still measured: later cases of its part may build on the
  // data it leaves behind (the gets read what the puts wrote).
  Result<CaseResult> result = measure_case(options, spec, ours, baseline);
  if (!result.is_ok()) return result.status();
  if (options.selects(spec.name)) results.push_back(std::move(result).value());
  return Status::ok();
}

}  // namespace streamstate::bench
