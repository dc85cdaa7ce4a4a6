// The Redis backend: state kept in a Redis server, shareable by several processes.
//
// Layout (version 2, docs/backends/redis.md): each entry is its own string key, and each
// (column, key group) has a sorted set indexing its keys, so reading the entries of one key
// group and user key (a map or list state) costs in proportion to those entries, and update()
// WATCHes only the key it changes. Every key of one (column, key group) carries the hash tag
// {<column>:<group>}. A prefix written by another layout is refused at open.
//
// Batches are sent pipelined inside MULTI/EXEC, so they are atomic; update() uses
// WATCH/MULTI/EXEC on its key and retries on conflict, so it is atomic across processes too;
// its function may run more than once when another process writes the same key concurrently.
// A snapshot copies the state server-side inside one Lua script (atomic, so consistent; but
// O(state size) on the server, which blocks other clients meanwhile: Redis suits small and
// medium state), and deletes the copies when destroyed. Requires Redis 6.2 or later and a
// standalone server.
//
// Durability is the server's: open() reads its persistence settings (CONFIG GET appendonly,
// save) and warns once (stderr and redis_statistics()) when neither AOF nor RDB is on. If the
// server restarts and has lost this prefix's data, every later operation fails with DataLoss.
//
// Connection: one connection guarded by a mutex; calls from several threads are serialized.
// A dropped connection is re-established (up to reconnect_attempts times) before an
// operation fails with Unavailable naming host and port.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "streamstate/backend.h"
#include "streamstate/status.h"

namespace streamstate {

struct RedisBackendOptions {
  // Server address. Default: 127.0.0.1:6379.
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  // AUTH password; empty = none. Default: empty.
  std::string password;
  // Logical database (SELECT). Default: 0.
  int database = 0;
  // Prefix of every key this backend writes, so that applications can share a server; 1..64
  // characters of [A-Za-z0-9_.-]. Default: "streamstate".
  std::string key_prefix = "streamstate";
  // Time allowed to connect. Default: 2 s.
  std::chrono::milliseconds connect_timeout{2000};
  // Time allowed for one command's reply. Default: 5 s.
  std::chrono::milliseconds command_timeout{5000};
  // Reconnects tried after a dropped connection before failing. Default: 3.
  int reconnect_attempts = 3;
  // Commands per pipelined round trip in batches and scans. Default: 512.
  uint32_t pipeline_depth = 512;
};

// What only the Redis backend reports, beside StateBackend::statistics().
struct RedisBackendStatistics {
  uint64_t update_attempts = 0;   // optimistic attempts of update() (one per call without conflict)
  uint64_t update_conflicts = 0;  // attempts whose EXEC failed because another client changed the key
  uint64_t batch_conflicts = 0;   // batch attempts repeated because the column set changed
  // The server's persistence settings as read at open, e.g. "appendonly=no save=''".
  std::string persistence;
  // Not empty when neither AOF nor RDB snapshots are on (the state is lost when the server
  // restarts), or when the settings could not be read; the same text is written once to stderr.
  std::string persistence_warning;
  // True once the server was found to have restarted without this backend's data; every
  // operation then fails with DataLoss.
  bool data_lost = false;
};

class RedisBackend : public StateBackend {
 public:
  // Connects (and authenticates), checks the key layout under key_prefix (FailedPrecondition
  // for another layout version) and reads the server's persistence settings. Unavailable with
  // host:port when the server cannot be reached.
  static Result<std::unique_ptr<RedisBackend>> open(const RedisBackendOptions& options);

  virtual RedisBackendStatistics redis_statistics() const = 0;
};

}  // namespace streamstate
