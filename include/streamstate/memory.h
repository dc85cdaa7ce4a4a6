// The in-memory backend: a sharded, concurrent hash table with optional TTL, a size limit
// with O(1) LRU eviction, statistics and background cleanup of expired entries.
//
// Concurrency: keys are spread over `shard_count` shards, each with its own mutex, table
// and LRU list, so threads working on different keys rarely wait for each other. get and
// contains take no lock unless they must change something (an expired entry, a TTL refresh,
// the LRU order under a size limit), so concurrent readers do not slow each other down
// (docs/backends/memory.md, "Reads without locks"). Eviction is least-recently-used within a
// shard (as in RocksDB's sharded LRU cache); the limits are split evenly over the shards, so
// the whole backend never holds more than max_entries entries or max_bytes bytes.
//
// Snapshots are copy-on-write per entry: taking one locks each shard only to register it;
// while it lives, the first change of each key copies that entry's previous state for it, so
// its memory grows with the entries written, not with the state.
//
// TTL: an entry expires `ttl` after it was last written (and also after it was last read when
// refresh_ttl_on_read). Expired entries are never returned by get, contains, scan or
// snapshots; they are removed when touched, by cleanup_expired(), or by the background
// cleanup thread when cleanup_interval is set.
//
// Expiring columns (column_with_options with ColumnOptions::values_carry_expiry, fixed when the
// column is created): cleanup_expired() and the cleanup thread also remove entries whose
// expiry header has passed by `clock`. Reads are not filtered by that header.
//
// Change tracking (track_changes): the backend remembers which keys changed since the last
// confirmed checkpoint, so that incremental checkpoints write only those
// (streamstate/change_tracking.h, change_tracker()).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "streamstate/backend.h"
#include "streamstate/clock.h"
#include "streamstate/status.h"

namespace streamstate {

struct MemoryBackendOptions {
  // Independently locked shards; rounded up to a power of two, 1..4096. With a size limit the
  // count is lowered so that every shard holds at least 16 entries (with max_bytes, at least
  // 4 KiB). Default: 64.
  uint32_t shard_count = 64;
  // Time to live of an entry after its last write; zero disables TTL. Default: 0.
  std::chrono::milliseconds ttl{0};
  // With a TTL, reads also restart an entry's time to live. Default: false.
  bool refresh_ttl_on_read = false;
  // Maximum number of entries; beyond it the least recently used are evicted. 0 = no limit.
  // Default: 0.
  uint64_t max_entries = 0;
  // Maximum bytes of keys plus values; beyond it the least recently used are evicted.
  // 0 = no limit. An entry larger than max_bytes / shard_count is rejected (InvalidArgument).
  // Default: 0.
  uint64_t max_bytes = 0;
  // Period of the background cleanup thread; zero means no thread (call cleanup_expired()
  // yourself). Must not exceed a nonzero ttl; allowed without a ttl (it then cleans expiring
  // columns only). Default: 0.
  std::chrono::milliseconds cleanup_interval{0};
  // Source of time for TTL. Default: system_clock().
  std::shared_ptr<const Clock> clock;
  // Track the keys changed since the last confirmed checkpoint (change_tracker() is non-null),
  // for incremental checkpoints. Costs writers one hash-set insert per changed key (under the
  // shard lock they hold anyway) and memory per distinct key changed between checkpoints.
  // Default: false.
  bool track_changes = false;
  // Gets from several threads at once skip the shard lock: they pass a read gate that every
  // write closes first (two atomic operations per write). A backend used by one thread at a
  // time, as each keyed instance of a pipeline (memory_state() turns this off), is faster
  // with false: gets take the shard lock and writes skip the gate. Without unlocked gets
  // anyway (a size limit, or refresh_ttl_on_read with a TTL) writes skip it as well.
  // Default: true.
  bool concurrent_reads = true;
};

class MemoryBackend : public StateBackend {
 public:
  // Validates the options (the error names the option and the fix) and starts the cleanup
  // thread if one is configured.
  static Result<std::unique_ptr<MemoryBackend>> open(const MemoryBackendOptions& options);

  // Removes every expired entry now (backend ttl, and expiry headers of expiring columns);
  // returns how many were removed.
  virtual Result<uint64_t> cleanup_expired() = 0;
};

}  // namespace streamstate
