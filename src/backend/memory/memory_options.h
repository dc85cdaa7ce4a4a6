// Validation of MemoryBackendOptions and the derived settings the memory backend runs with
// (the effective shard count and each shard's share of the size limits).
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <memory>

#include "streamstate/clock.h"
#include "streamstate/memory.h"
#include "streamstate/status.h"

namespace streamstate::internal {

inline constexpr uint32_t kMaxMemoryShards = 4096;
// With max_entries set, the shard count is lowered until every shard may hold this many.
inline constexpr uint64_t kMinEntriesPerShard = 16;
// With max_bytes set, the shard count is lowered until every shard may hold this many bytes,
// so that ordinary entries are not rejected as larger than a shard's share.
inline constexpr uint64_t kMinBytesPerShard = 4096;

struct ResolvedMemoryOptions {
  uint32_t shard_count = 1;  // a power of two
  int64_t ttl_millis = 0;
  bool refresh_ttl_on_read = false;
  uint64_t max_entries = 0;
  uint64_t max_bytes = 0;
  int64_t cleanup_interval_millis = 0;
  std::shared_ptr<const Clock> clock;
  bool track_changes = false;
  bool concurrent_reads = true;

  bool has_size_limit() const { return max_entries != 0 || max_bytes != 0; }
  // The smallest per-shard byte share: no single entry may be larger (0 = no byte limit).
  uint64_t max_entry_bytes() const { return max_bytes / shard_count; }
};

// Checks the options; errors name the option and the fix.
Result<ResolvedMemoryOptions> resolve_memory_options(const MemoryBackendOptions& options);

// The share of `total` given to shard `index` of `shard_count`: the shares differ by at most
// one and sum to exactly `total`.
inline uint64_t shard_share(uint64_t total, uint32_t shard_count, uint32_t index) {
  return total / shard_count + (index < total % shard_count ? 1 : 0);
}

}  // namespace streamstate::internal
