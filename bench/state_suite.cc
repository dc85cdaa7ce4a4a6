// Registers the `state` suite and runs its parts over one shared dataset.
#include "state_suite.h"

#include <iostream>

#include "util/status_macros.h"

namespace streamstate::bench {

const std::array<std::string, kMapEntriesPerKey>& map_entry_names() {
  static const std::array<std::string, kMapEntriesPerKey> names = {"item-0", "item-1", "item-2", "item-3"};
  return names;
}

namespace {

Status run_state_suite(const BenchOptions& options, std::vector<CaseResult>& results) {
  if (options.progress) std::cerr << "state: generating " << options.keys << " keys\n";
  const Dataset data(options.keys);
  if (options.selects("memory/")) STREAMSTATE_RETURN_IF_ERROR(run_memory_state_cases(options, data, results));
  if (options.selects("rocksdb/value-rmw") || options.selects("rocksdb/map-"))
    STREAMSTATE_RETURN_IF_ERROR(run_rocksdb_state_cases(options, data, results));
  if (options.selects("rocksdb/list-append-100k"))
    STREAMSTATE_RETURN_IF_ERROR(run_rocksdb_list_case(options, data, results));
  return Status::ok();
}

const SuiteRegistration kStateSuite(
    "state", "keyed ValueState/MapState vs hand-written maps and raw RocksDB, list append cost vs length",
    &run_state_suite);

}  // namespace
}  // namespace streamstate::bench
