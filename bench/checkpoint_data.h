// The state the checkpoint benchmarks checkpoint and restore: dataset keys behind their key
// group (max_parallelism 128) and 100-byte values whose last 50 bytes are a repetitive
// JSON-like tail, as keyed state often is; and the helpers every checkpoint case uses.
//
// Thread-safety: plain functions; an Entries is read-only once made.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataset.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/memory.h"
#include "streamstate/status.h"

namespace streamstate::bench {

inline constexpr uint32_t kCheckpointMaxParallelism = 128;

struct Entries {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  uint64_t logical_bytes = 0;  // keys and values
};

Entries make_entries(const Dataset& data);

// A memory backend holding `entries` in column "state" (written in batches of 1,000).
Result<std::unique_ptr<MemoryBackend>> filled_backend(const Entries& entries, bool track_changes = false);

// Removes every object of the storage.
Status clear_storage(CheckpointStorage& storage);

}  // namespace streamstate::bench
