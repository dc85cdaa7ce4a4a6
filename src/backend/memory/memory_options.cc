#include "backend/memory/memory_options.h"

#include <algorithm>
#include <bit>
#include <string>

namespace streamstate::internal {
namespace {

std::string millis(std::chrono::milliseconds duration) { return std::to_string(duration.count()) + " ms"; }

Status check_durations(const MemoryBackendOptions& options) {
  if (options.ttl.count() < 0) {
    return Status::invalid_argument("MemoryBackendOptions.ttl is negative (" + millis(options.ttl) +
                                    "); use 0 to disable TTL or a positive duration");
  }
  if (options.cleanup_interval.count() < 0) {
    return Status::invalid_argument("MemoryBackendOptions.cleanup_interval is negative (" +
                                    millis(options.cleanup_interval) +
                                    "); use 0 for no cleanup thread or a positive duration");
  }
  // Without a backend-wide ttl a cleanup thread is still useful: it removes the expired
  // entries of columns opened with ColumnOptions::values_carry_expiry.
  if (options.ttl.count() > 0 && options.cleanup_interval > options.ttl) {
    return Status::invalid_argument("MemoryBackendOptions.cleanup_interval (" + millis(options.cleanup_interval) +
                                    ") exceeds the ttl (" + millis(options.ttl) +
                                    "); use a cleanup_interval of at most the ttl");
  }
  return Status::ok();
}

// Largest power of two not above `limit`, at least 1.
uint32_t power_of_two_at_most(uint64_t limit) {
  if (limit <= 1) return 1;
  return static_cast<uint32_t>(std::bit_floor(limit < kMaxMemoryShards ? limit : uint64_t{kMaxMemoryShards}));
}

}  // namespace

Result<ResolvedMemoryOptions> resolve_memory_options(const MemoryBackendOptions& options) {
  if (options.shard_count == 0 || options.shard_count > kMaxMemoryShards) {
    return Status::invalid_argument("MemoryBackendOptions.shard_count is " + std::to_string(options.shard_count) +
                                    "; use 1..4096 (it is rounded up to a power of two; default 64)");
  }
  Status durations = check_durations(options);
  if (!durations.is_ok()) return durations;

  ResolvedMemoryOptions resolved;
  resolved.shard_count = std::bit_ceil(options.shard_count);
  if (options.max_entries != 0) {
    resolved.shard_count = std::min(resolved.shard_count, power_of_two_at_most(options.max_entries / kMinEntriesPerShard));
  }
  if (options.max_bytes != 0) {
    resolved.shard_count = std::min(resolved.shard_count, power_of_two_at_most(options.max_bytes / kMinBytesPerShard));
  }
  resolved.ttl_millis = options.ttl.count();
  resolved.refresh_ttl_on_read = options.refresh_ttl_on_read;
  resolved.max_entries = options.max_entries;
  resolved.max_bytes = options.max_bytes;
  resolved.cleanup_interval_millis = options.cleanup_interval.count();
  resolved.clock = options.clock != nullptr ? options.clock : system_clock();
  resolved.track_changes = options.track_changes;
  resolved.concurrent_reads = options.concurrent_reads;
  return resolved;
}

}  // namespace streamstate::internal
