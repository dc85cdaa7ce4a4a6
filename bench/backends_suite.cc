// Registers the `backends` suite and runs its parts over one shared dataset.
#include "backends_suite.h"

#include <iostream>

#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

Status run_backends_suite(const BenchOptions& options, std::vector<CaseResult>& results) {
  if (options.progress) std::cerr << "backends: generating " << options.keys << " keys\n";
  const Dataset data(options.keys);
  if (options.selects("memory/") || options.selects("scaling/"))
    STREAMSTATE_RETURN_IF_ERROR(run_memory_backend_cases(options, data, results));
  if (options.selects("rocksdb/")) STREAMSTATE_RETURN_IF_ERROR(run_rocksdb_backend_cases(options, data, results));
  if (options.selects("redis/")) STREAMSTATE_RETURN_IF_ERROR(run_redis_backend_cases(options, data, results));
  return Status::ok();
}

const SuiteRegistration kBackendsSuite(
    "backends", "put/get/get-miss/read-modify-write of the memory, RocksDB and Redis backends, memory get scaling, Redis "
    "map-read scaling",
    &run_backends_suite);

}  // namespace
}  // namespace streamstate::bench
