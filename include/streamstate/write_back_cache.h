// WriteBackCache: a StateBackend in front of another backend (RocksDB above all) that absorbs
// repeated writes of hot keys in memory and writes them to the inner backend in one batch - at
// each checkpoint barrier, when its memory bound is reached, before every snapshot and at close.
// A key updated a thousand times between two barriers costs the inner backend one write.
//
//   auto rocks = std::shared_ptr<StateBackend>(RocksDbBackend::open({.path = "/var/lib/app/state"}).value());
//   auto cache = open_write_back_cache(rocks, {.max_bytes = 64 << 20}).value();
//   ... use `cache` as the backend (KeyedStateStore::open(cache), ...);
//   at each checkpoint barrier: snapshot or checkpoint as usual (snapshot() writes the cached
//   writes back first); flush() or write_back() to hand them to the inner backend at other times.
//
// Reads see the cache first: a dirty entry (written since the last flush), then a clean one
// (read from or flushed to the inner backend, kept while it fits in max_clean_bytes), then the
// inner backend. A removed key is a dirty tombstone until the flush removes it below.
//
// Consistency: a flush writes every dirty entry of every column as one WriteBatch, so the inner
// backend (and a crash) sees either the state at one flush or at the next, never half of one.
// snapshot() and change_tracker()'s snapshots flush first while writers wait, so a snapshot or a
// checkpoint holds every write acknowledged before it. scan() flushes first too, then scans the
// inner backend (a scan is not a snapshot, as backend.h says). write(batch) is atomic for
// readers and snapshots, as on any backend.
//
// Durability: a write is in memory only until the next flush; a crash loses what was not
// flushed. That is what a checkpointed pipeline expects (it restores the last checkpoint, taken
// after a flush, and replays its input from there); where every write must survive a crash on
// its own, put a LoggedBackend (logged_backend.h) in front of the cache.
//
// Every change must go through the cache: a write straight to the inner backend may be hidden by
// a cached entry of the same key. The inner backend's own evictions and backend-level TTL
// (MemoryBackendOptions::ttl) are not seen by clean entries; use max_clean_bytes = 0 over such a
// backend. Keyed-state TTL is exact: readers filter by the expiry time in each value.
//
// Errors: as the inner backend's. A flush the inner backend refuses returns its error (naming the
// entries and bytes it held) and keeps every dirty entry, so nothing acknowledged is lost; the
// next flush tries again. close() flushes, then closes the inner backend; when the flush fails it
// returns that error and the cache stays open.
//
// Thread-safety: all methods may be called from any thread (as far as the inner backend allows:
// capabilities() are the inner backend's, except that the cache is never shared between
// processes: over Redis, other processes do not see what it holds). Keys are spread over lock shards per column; a read
// that misses reads the inner backend with its shard held. Flushes, snapshots, scans, clear,
// drop_column and put_entries briefly stop every writer.
#pragma once

#include <cstdint>
#include <memory>

#include "streamstate/backend.h"
#include "streamstate/status.h"

namespace streamstate {

struct WriteBackCacheOptions {
  // Bytes of dirty entries (keys + values + about 64 bytes of bookkeeping each) at which a write
  // flushes the cache by itself. 4096 .. 2^40. Default: 64 MiB.
  uint64_t max_bytes = uint64_t{64} << 20;
  // Bytes of clean entries kept for reads (values read from the inner backend or written by a
  // flush, and keys known to be absent), split evenly over the shards of the open columns; a shard
  // over its share forgets its clean entries. 0 keeps none: reads of keys not written since the
  // last flush go to the inner backend. Default: 16 MiB.
  uint64_t max_clean_bytes = uint64_t{16} << 20;
  // Lock shards per column, rounded up to a power of two, 1..4096. Default: 16.
  uint32_t shards = 16;
};

// Counters since open (reads and writes through the cache, flushes to the inner backend).
struct WriteBackCacheStatistics {
  uint64_t hits = 0;             // reads (get, contains, update) answered by a cached entry
  uint64_t misses = 0;           // reads that went to the inner backend
  uint64_t absorbed_writes = 0;  // writes that replaced a dirty entry: the inner backend never sees the older one
  uint64_t flushes = 0;          // flushes that wrote at least one entry
  uint64_t automatic_flushes = 0;  // of those, started because dirty bytes reached max_bytes
  uint64_t flushed_entries = 0;  // puts and removes written by flushes
  uint64_t bytes_flushed = 0;    // their column, key and value bytes
  uint64_t dirty_entries = 0;    // now, waiting for the next flush
  uint64_t dirty_bytes = 0;      // now, as counted against max_bytes
  uint64_t clean_entries = 0;    // now
  uint64_t clean_bytes = 0;      // now, as counted against max_clean_bytes
};

class WriteBackCache : public StateBackend {
 public:
  // StateBackend::flush(): write_back(), then the inner backend's flush() (on RocksDB: WAL sync
  // and memtable flush).
  using StateBackend::flush;
  // Writes every dirty entry to the inner backend in one WriteBatch, without asking it to make
  // them durable. At a checkpoint barrier, snapshot() (and so start_checkpoint) does this by
  // itself; call it before using inner() directly, e.g. for a RocksDB native checkpoint.
  virtual Status write_back() = 0;

  virtual WriteBackCacheStatistics cache_statistics() const = 0;
  // The backend below the cache (do not write to it directly; see the file comment).
  virtual StateBackend& inner() = 0;
};

// InvalidArgument for a null inner backend or options out of range (naming the option).
Result<std::shared_ptr<WriteBackCache>> open_write_back_cache(std::shared_ptr<StateBackend> inner,
                                                             const WriteBackCacheOptions& options = {});

}  // namespace streamstate
