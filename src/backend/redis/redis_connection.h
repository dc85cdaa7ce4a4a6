// The Redis backend's one connection to the server (hiredis, synchronous API).
//
// All traffic goes through RedisConnection::run(), which holds the connection's mutex for the
// whole piece of work, so a WATCH ... EXEC sequence or a pipeline is never interleaved with
// another thread's commands. When the work fails because the connection broke (an I/O error,
// a timeout, a server restart), run() reconnects, re-authenticates and runs the work again, up
// to reconnect_attempts times; then it fails with Unavailable naming host:port. Work that has
// sent an EXEC calls RedisSession::forbid_retry(): if the reply is lost, the transaction may or
// may not have been applied, and running it again could apply it twice.
//
// hiredis writes with write(2), which raises SIGPIPE on a connection the server has closed;
// run() blocks SIGPIPE in the calling thread while it works and discards one raised meanwhile,
// so a dropped connection is an error, never the end of the process.
//
// Each connect reads the server's run_id (INFO server). On a reconnect, the check installed with
// set_reconnect_check() runs before any work and learns whether the run_id changed (the server
// restarted); an error from it (DataLoss) is sticky: every later run() fails with it.
//
// The password is kept for reconnects and never appears in a message.
//
// Thread-safety: all methods may be called from any thread; run() serializes.
#pragma once

#include <hiredis/hiredis.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/bytes.h"
#include "streamstate/redis.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const {
    if (reply != nullptr) freeReplyObject(reply);
  }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

// The view of a string, status or error reply's bytes.
inline BytesView reply_bytes(const redisReply& reply) { return BytesView(reply.str, reply.len); }

// One command's arguments; views must outlive the call that sends them.
using RedisArgs = std::vector<BytesView>;

// The connection as seen by one piece of work inside RedisConnection::run().
class RedisSession {
 public:
  RedisSession(redisContext* context, const std::string& address) : context_(context), address_(address) {}

  // Sends one command and reads its reply. Unavailable when the connection broke.
  Result<RedisReplyPtr> call(const RedisArgs& args);
  // Queues a command in the output buffer (sent by the next read_reply()).
  Status append(const RedisArgs& args);
  // Sends what is queued and reads the next reply.
  Result<RedisReplyPtr> read_reply();

  // After this, a broken connection is reported, not retried (an EXEC is on its way).
  void forbid_retry() { retry_allowed_ = false; }

  // Unless `reply` is an error reply, OK; else IoError "Redis at host:port rejected <what>: ...".
  Status check(const redisReply& reply, std::string_view what) const;
  // IoError for a reply of an unexpected type.
  Status unexpected(const redisReply& reply, std::string_view what) const;

  bool broken() const { return broken_; }
  bool retry_allowed() const { return retry_allowed_; }
  const std::string& error() const { return error_; }
  const std::string& address() const { return address_; }

 private:
  Status connection_broke(std::string_view during);

  redisContext* context_;
  const std::string& address_;
  bool broken_ = false;
  bool retry_allowed_ = true;
  std::string error_;
};

class RedisConnection {
 public:
  // Connects, authenticates and selects the database now. Unavailable when the server cannot
  // be reached; InvalidArgument when the password or database is refused.
  static Result<std::unique_ptr<RedisConnection>> open(const RedisBackendOptions& options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  enum class Reconnect { kYes, kNo };
  // Runs `work` holding the connection; `what` names the operation in errors. With
  // Reconnect::kNo a broken connection fails at once (for best-effort figures).
  Status run(std::string_view what, const std::function<Status(RedisSession&)>& work,
             Reconnect reconnect = Reconnect::kYes);

  // Called after every reconnect with the run_id before and after it; an error makes the
  // connection fail every later run() with that error. Set once, right after open().
  using ReconnectCheck =
      std::function<Status(RedisSession& session, const std::string& old_run_id, const std::string& new_run_id)>;
  void set_reconnect_check(ReconnectCheck check);
  // The run_id of the server at the last connect ("" if INFO did not report one).
  std::string run_id() const;
  // The sticky error of a failed reconnect check, or OK.
  Status failure() const;

  // Disconnects; later run() calls fail with kClosed. Idempotent.
  void close();
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // "host:port", for messages.
  const std::string& address() const { return address_; }
  Status closed_error() const;

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const {
      if (context != nullptr) redisFree(context);
    }
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  RedisConnection(RedisBackendOptions options, std::string address);

  // Connects, authenticates and selects; requires mutex_.
  Status connect_locked();

  const RedisBackendOptions options_;
  const std::string address_;
  mutable std::mutex mutex_;
  ContextPtr context_;  // null while disconnected
  std::string run_id_;  // guarded by mutex_
  ReconnectCheck reconnect_check_;  // guarded by mutex_
  Status failure_;      // guarded by mutex_
  std::atomic<bool> closed_{false};
};

}  // namespace streamstate::internal
