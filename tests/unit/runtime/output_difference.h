// For failure messages of tests that compare a job's output with the output it should have:
// which lines one has more or fewer of than the other.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace streamstate::testing {

// What `actual` has more or fewer of than `expected` (multisets), at most ten lines of it.
inline std::string difference(const std::vector<std::string>& actual, const std::vector<std::string>& expected) {
  std::map<std::string, int> count;
  for (const auto& r : actual) ++count[r];
  for (const auto& r : expected) --count[r];
  std::string out;
  int shown = 0;
  for (const auto& [record, n] : count) {
    if (n == 0 || ++shown > 10) continue;
    out += (n > 0 ? "\n  extra " : "\n  missing ") + record + " x" + std::to_string(n > 0 ? n : -n);
  }
  return out;
}

}  // namespace streamstate::testing
