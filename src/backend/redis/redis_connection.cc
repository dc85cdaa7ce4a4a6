#include "backend/redis/redis_connection.h"

#include <signal.h>
#include <sys/time.h>

#include <chrono>
#include <thread>
#include <utility>

namespace streamstate::internal {
namespace {

timeval to_timeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

// Blocks SIGPIPE in this thread for its lifetime and swallows one raised meanwhile (SIGPIPE
// from write(2) is directed at the writing thread), unless one was already pending before.
class SigpipeBlocker {
 public:
  SigpipeBlocker() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &previous_);
  }
  ~SigpipeBlocker() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec no_wait{0, 0};
        sigtimedwait(&pipe_set_, nullptr, &no_wait);
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeBlocker(const SigpipeBlocker&) = delete;
  SigpipeBlocker& operator=(const SigpipeBlocker&) = delete;

 private:
  sigset_t pipe_set_;
  sigset_t previous_;
  bool was_pending_ = false;
};

void to_argv(const RedisArgs& args, std::vector<const char*>& argv, std::vector<size_t>& lengths) {
  argv.resize(args.size());
  lengths.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    // hiredis reads `lengths[i]` bytes; an empty view may have a null data pointer.
    argv[i] = args[i].empty() ? "" : args[i].data();
    lengths[i] = args[i].size();
  }
}

// The run_id line of an INFO server reply, or "".
std::string parse_run_id(BytesView info) {
  constexpr std::string_view kField = "run_id:";
  const size_t at = info.find(kField);
  if (at == BytesView::npos) return "";
  const size_t begin = at + kField.size();
  const size_t end = info.find_first_of("\r\n", begin);
  return std::string(info.substr(begin, end == BytesView::npos ? BytesView::npos : end - begin));
}

}  // namespace

Result<RedisReplyPtr> RedisSession::call(const RedisArgs& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  to_argv(args, argv, lengths);
  void* reply = redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data());
  if (reply == nullptr) return connection_broke(args.empty() ? "a command" : args[0]);
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

Status RedisSession::append(const RedisArgs& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  to_argv(args, argv, lengths);
  if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
      REDIS_OK) {
    return connection_broke(args.empty() ? "a command" : args[0]);
  }
  return Status::ok();
}

Result<RedisReplyPtr> RedisSession::read_reply() {
  void* reply = nullptr;
  if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr)
    return connection_broke("reading a reply");
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

Status RedisSession::connection_broke(std::string_view during) {
  broken_ = true;
  error_ = std::string(context_->errstr[0] != '\0' ? context_->errstr : "connection lost");
  return Status::unavailable("Redis at " + address_ + ": connection broke during " + std::string(during) +
                             ": " + error_);
}

Status RedisSession::check(const redisReply& reply, std::string_view what) const {
  if (reply.type != REDIS_REPLY_ERROR) return Status::ok();
  return Status::io_error("Redis at " + address_ + " rejected " + std::string(what) + ": " +
                          std::string(reply_bytes(reply)));
}

Status RedisSession::unexpected(const redisReply& reply, std::string_view what) const {
  Status error = check(reply, what);
  if (!error.is_ok()) return error;
  return Status::io_error("Redis at " + address_ + " sent a reply of unexpected type " +
                          std::to_string(reply.type) + " to " + std::string(what) +
                          " (is this a Redis 6.2 or later server?)");
}

RedisConnection::RedisConnection(RedisBackendOptions options, std::string address)
    : options_(std::move(options)), address_(std::move(address)) {}

RedisConnection::~RedisConnection() { close(); }

Result<std::unique_ptr<RedisConnection>> RedisConnection::open(const RedisBackendOptions& options) {
  std::unique_ptr<RedisConnection> connection(
      new RedisConnection(options, options.host + ":" + std::to_string(options.port)));
  SigpipeBlocker no_sigpipe;
  std::lock_guard<std::mutex> lock(connection->mutex_);
  Status connected = connection->connect_locked();
  if (!connected.is_ok()) return connected;
  return connection;
}

Status RedisConnection::connect_locked() {
  context_.reset();
  ContextPtr context(
      redisConnectWithTimeout(options_.host.c_str(), options_.port, to_timeval(options_.connect_timeout)));
  if (context == nullptr) {
    return Status::unavailable("cannot connect to Redis at " + address_ +
                               ": out of memory for the connection");
  }
  if (context->err != 0) {
    return Status::unavailable("cannot connect to Redis at " + address_ + ": " + context->errstr +
                               " (is redis-server running?)");
  }
  if (redisSetTimeout(context.get(), to_timeval(options_.command_timeout)) != REDIS_OK) {
    return Status::unavailable("cannot set the command timeout on the connection to Redis at " + address_ +
                               ": " + context->errstr);
  }
  RedisSession session(context.get(), address_);
  if (!options_.password.empty()) {
    Result<RedisReplyPtr> auth = session.call({"AUTH", options_.password});
    if (!auth.is_ok()) return auth.status();
    if ((*auth)->type == REDIS_REPLY_ERROR) {
      return Status::invalid_argument("Redis at " + address_ +
                                      " refused AUTH: " + std::string(reply_bytes(**auth)) +
                                      " (check RedisBackendOptions::password)");
    }
  }
  // PING finds a server that wants a password we were not given.
  Result<RedisReplyPtr> ping = session.call({"PING"});
  if (!ping.is_ok()) return ping.status();
  if ((*ping)->type == REDIS_REPLY_ERROR) {
    const std::string error(reply_bytes(**ping));
    if (error.rfind("NOAUTH", 0) == 0) {
      return Status::invalid_argument("Redis at " + address_ + " requires a password (AUTH): " + error +
                                      " (set RedisBackendOptions::password)");
    }
    return Status::unavailable("Redis at " + address_ + " does not answer PING: " + error);
  }
  if (options_.database != 0) {
    const std::string database = std::to_string(options_.database);
    Result<RedisReplyPtr> select = session.call({"SELECT", database});
    if (!select.is_ok()) return select.status();
    if ((*select)->type == REDIS_REPLY_ERROR) {
      return Status::invalid_argument("Redis at " + address_ + " refused RedisBackendOptions::database " +
                                      database + ": " + std::string(reply_bytes(**select)));
    }
  }
  Result<RedisReplyPtr> info = session.call({"INFO", "server"});
  if (!info.is_ok()) return info.status();
  const std::string run_id =
      (*info)->type == REDIS_REPLY_STRING ? parse_run_id(reply_bytes(**info)) : "";
  if (reconnect_check_ && !run_id_.empty()) {
    Status checked = reconnect_check_(session, run_id_, run_id);
    if (!session.broken() && !checked.is_ok() && checked.code() != StatusCode::kUnavailable) failure_ = checked;
    if (!checked.is_ok()) return checked;
  }
  run_id_ = run_id;
  context_ = std::move(context);
  return Status::ok();
}

void RedisConnection::set_reconnect_check(ReconnectCheck check) {
  std::lock_guard<std::mutex> lock(mutex_);
  reconnect_check_ = std::move(check);
}

std::string RedisConnection::run_id() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return run_id_;
}

Status RedisConnection::failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

Status RedisConnection::run(std::string_view what, const std::function<Status(RedisSession&)>& work,
                            Reconnect reconnect) {
  SigpipeBlocker no_sigpipe;
  std::lock_guard<std::mutex> lock(mutex_);
  const int reconnects_allowed = reconnect == Reconnect::kYes ? options_.reconnect_attempts : 0;
  int reconnects = 0;
  Status last_error;
  for (;;) {
    if (closed()) return closed_error();
    if (!failure_.is_ok()) return failure_;
    if (context_ == nullptr) {
      if (reconnect == Reconnect::kNo && reconnects == 0 && last_error.is_ok()) {
        return Status::unavailable("Redis at " + address_ + " is not connected (" + std::string(what) + ")");
      }
      Status connected = connect_locked();
      if (!connected.is_ok()) {
        if (connected.code() != StatusCode::kUnavailable) return connected;
        last_error = connected;
      }
    }
    if (context_ != nullptr) {
      RedisSession session(context_.get(), address_);
      Status result = work(session);
      if (!session.broken()) return result;
      context_.reset();
      last_error = result;
      if (!session.retry_allowed()) {
        return Status::unavailable(
            "Redis at " + address_ + ": connection lost while waiting for the reply to " + std::string(what) +
            " (" + session.error() + "); the transaction may or may not have been applied");
      }
    }
    if (reconnects >= reconnects_allowed) break;
    ++reconnects;
    // A short, growing pause: a restarting server needs a moment to accept connections.
    std::this_thread::sleep_for(std::chrono::milliseconds(25 * reconnects));
  }
  return Status::unavailable("Redis at " + address_ + " is unavailable for " + std::string(what) + " after " +
                             std::to_string(reconnects) + " reconnect attempt(s): " + last_error.message());
}

void RedisConnection::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_.store(true, std::memory_order_release);
  context_.reset();
}

Status RedisConnection::closed_error() const {
  return Status::closed("the Redis backend for " + address_ + " (key_prefix '" + options_.key_prefix +
                        "') was closed; open a new one");
}

}  // namespace streamstate::internal
