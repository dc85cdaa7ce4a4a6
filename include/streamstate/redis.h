// The Redis backend: state kept in a Redis server, shareable by several processes.
//
// Layout: each column is one Redis hash named "<key_prefix>:col:<column>"; the column list is
// the set "<key_prefix>:columns". Batches are sent pipelined inside MULTI/EXEC, so they are
// atomic; update() uses WATCH/MULTI/EXEC and retries on conflict, so it is atomic across
// processes too; scan() uses HSCAN. A snapshot copies the columns' hashes server-side with
// COPY inside one Lua script (atomic, so consistent; but O(state size) on the server, which
// blocks other clients meanwhile: Redis suits small and medium state), and deletes the copies
// when destroyed. update()'s function may run more than once when another process writes
// the same column concurrently. Requires Redis 6.2 or later (COPY, SMISMEMBER).
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

class RedisBackend : public StateBackend {
 public:
  // Connects (and authenticates); Unavailable with host:port when the server cannot be reached.
  static Result<std::unique_ptr<RedisBackend>> open(const RedisBackendOptions& options);
};

}  // namespace streamstate
