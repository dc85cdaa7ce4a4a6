// The registry of benchmark suites. Suites register from static initialisers in other
// translation units, so the table lives in a function-local static that exists before the
// first registration whatever the initialisation order.
#include <algorithm>
#include <map>
#include <string>

#include "suite.h"

namespace streamstate::bench {
namespace {

std::map<std::string, SuiteInfo, std::less<>>& registry() {
  static std::map<std::string, SuiteInfo, std::less<>> suites;
  return suites;
}

}  // namespace

SuiteRegistration::SuiteRegistration(std::string_view name, std::string_view description, SuiteFunction run) {
  registry().insert_or_assign(std::string(name), SuiteInfo{std::string(name), std::string(description), run});
}

std::vector<SuiteInfo> registered_suites() {
  std::vector<SuiteInfo> suites;
  for (const auto& [name, info] : registry()) suites.push_back(info);
  return suites;
}

const SuiteInfo* find_suite(std::string_view name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

}  // namespace streamstate::bench
