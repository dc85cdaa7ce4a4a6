// The `backends` suite: byte-level operations of the built-in backends against a baseline
// doing the same work (std::unordered_map for memory, a raw rocksdb::DB for RocksDB, raw
// hiredis calls on a redis-server the suite starts for Redis), plus
// multi-thread scaling of the memory backend. Its parts live in one file each.
//
// Thread-safety: the parts run one after another on the calling thread.
#pragma once

#include <vector>

#include "dataset.h"
#include "suite.h"

namespace streamstate::bench {

// memory/put, memory/get, memory/get-miss, memory/rmw, then scaling/memory-get-2t.
Status run_memory_backend_cases(const BenchOptions& options, const Dataset& data,
                                std::vector<CaseResult>& results);

// rocksdb/put, rocksdb/get, rocksdb/get-miss, rocksdb/rmw (when built with RocksDB).
Status run_rocksdb_backend_cases(const BenchOptions& options, const Dataset& data,
                                 std::vector<CaseResult>& results);

// redis/put, redis/get, redis/batch-put, redis/rmw, redis/map-read-scaling (when built with
// Redis; skipped with a message when redis-server is not on PATH).
Status run_redis_backend_cases(const BenchOptions& options, const Dataset& data,
                               std::vector<CaseResult>& results);

}  // namespace streamstate::bench
