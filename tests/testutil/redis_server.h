// A real redis-server child process for tests of the Redis backend.
//
// start() launches redis-server on a free loopback port with persistence off, in its own
// temporary directory, and returns once that very process (checked by its process id, so a
// server of another test run on the same port is never mistaken for ours) answers. The
// server is stopped and its directory removed when the RedisServer is destroyed. It is killed
// by the kernel (PR_SET_PDEATHSIG) if the test process dies without running destructors, so it
// never outlives the test process, even after a crash or a sanitizer abort.
//
// A missing redis-server is an error, not a skip: the Redis tests must run in CI.
//
// Thread-safety: start() and shared_redis_server() may be called from any thread. One
// RedisServer's stop()/restart() must not be called concurrently with each other.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "streamstate/status.h"

namespace streamstate::testing {

class RedisServer {
 public:
  // kNone: --save "" --appendonly no (a restart loses everything). kAppendOnlyFile:
  // --appendonly yes --appendfsync always (a restart, even after SIGKILL, keeps every write).
  enum class Persistence { kNone, kAppendOnlyFile };

  // Starts redis-server on a free port of 127.0.0.1 with `persistence` (default none), with
  // requirepass when `password` is not empty. Waits (bounded) until it answers; tries another
  // port when the chosen one turns out to be taken. FailedPrecondition when redis-server is not
  // installed, Unavailable when it does not come up (with the end of its log).
  static Result<std::unique_ptr<RedisServer>> start(const std::string& password = "",
                                                    Persistence persistence = Persistence::kNone);

  // Stops the server (SIGTERM, SIGKILL after 5 s) and removes its directory.
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  uint16_t port() const { return port_; }

  // Stops the server now (to test a server that went away). OK when already stopped.
  Status stop();
  // Starts it again on the same port, password, directory and persistence (to test reconnects;
  // without persistence the data is gone, with an append-only file it is reloaded).
  Status restart();
  // Freezes the process (SIGSTOP) so that it accepts connections but never answers (to test
  // timeouts), and lets it go on (SIGCONT).
  Status pause();
  Status resume();

  // Sends one command over a fresh connection (authenticating first) and returns the reply
  // flattened: the elements of an array (nested arrays inlined), the bytes of a bulk string,
  // the text of a status or an integer; a nil is left out. An error reply is IoError.
  // For tests that inspect the server directly, e.g. command({"KEYS", "prefix:*"}).
  Result<std::vector<std::string>> command(const std::vector<std::string>& args) const;

 private:
  RedisServer(std::string executable, std::string password, std::filesystem::path dir);

  // Launches the process on port_ and waits until it answers. Unavailable on failure;
  // `port_taken` is set when the process exited because the port was in use.
  Status launch(bool& port_taken);

  std::string executable_;
  std::string password_;
  Persistence persistence_ = Persistence::kNone;
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  pid_t owner_pid_ = -1;  // the test process; a forked child never stops the parent's server
};

// One server (without password) per test process, started on first use and stopped at process
// exit. Throws std::runtime_error (reported by GoogleTest as a test failure) when it cannot be
// started, e.g. when redis-server is not installed.
RedisServer& shared_redis_server();

}  // namespace streamstate::testing
