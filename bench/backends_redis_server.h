// A redis-server child process for the redis/* cases of the `backends` suite: started on a
// free loopback port with persistence off, in its own temporary directory, and stopped (and
// the directory removed) when the object is destroyed. Also a raw hiredis connection to it,
// which the baselines use.
//
// Thread-safety: one thread uses an object at a time.
#pragma once

#include <hiredis/hiredis.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "streamstate/status.h"

namespace streamstate::bench {

class BenchRedisServer {
 public:
  // FailedPrecondition when redis-server is not on PATH; Unavailable when it does not answer
  // within 10 s.
  static Result<std::unique_ptr<BenchRedisServer>> start();
  ~BenchRedisServer();
  BenchRedisServer(const BenchRedisServer&) = delete;
  BenchRedisServer& operator=(const BenchRedisServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  BenchRedisServer() = default;

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string dir_;
};

struct RedisContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using RawRedis = std::unique_ptr<redisContext, RedisContextDeleter>;

// A plain hiredis connection to 127.0.0.1:port; Unavailable when it cannot connect.
Result<RawRedis> connect_raw_redis(uint16_t port);

}  // namespace streamstate::bench
