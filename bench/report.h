// Printing suite results: an aligned table for people, a JSON array for tools and CI.
//
// JSON: one object per case with "case", "value", "unit", "baseline", "baseline_value",
// "ratio" (ours over baseline, higher is better), "runs", "operations" (operations in one
// measurement of ours), "baseline_operations" and "checksum".
//
// Thread-safety: reentrant.
#pragma once

#include <ostream>
#include <string_view>
#include <vector>

#include "suite.h"

namespace streamstate::bench {

void print_table(std::ostream& out, std::string_view suite, const BenchOptions& options,
                 const std::vector<CaseResult>& results);

void print_json(std::ostream& out, const std::vector<CaseResult>& results);

}  // namespace streamstate::bench
