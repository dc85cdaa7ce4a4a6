// The rocksdb/* cases of the `checkpoint` suite: native incremental checkpoints of the RocksDB
// backend (streamstate/rocksdb_checkpoint.h) to a local directory.
//
//   rocksdb/incremental-1pct-bytes  bytes uploaded by the checkpoint after 1% of the keys
//                                   changed and a flush, against the full checkpoint before it
//                                   (ratio = full / incremental)
//   rocksdb/restore                 restore_rocksdb_checkpoint + opening the database, against a
//                                   raw rocksdb::DB loading the same entries in WriteBatches of
//                                   1,000 (entries/s; ratio = ours / raw)
//
// Data: the entries of the memory checkpoint cases (options.keys keys of 2 + 16 bytes, 100-byte
// values half random, half a JSON-like tail) in one column. Without RocksDB it adds nothing.
//
// Thread-safety: called from the suite's thread.
#pragma once

#include <vector>

#include "streamstate/status.h"
#include "suite.h"

namespace streamstate::bench {

Status run_rocksdb_checkpoint_cases(const BenchOptions& options, std::vector<CaseResult>& results);

}  // namespace streamstate::bench
