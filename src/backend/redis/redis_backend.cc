// RedisBackend::open and the backend-level operations: columns, batches, snapshots, counters.
// The per-key operations live in redis_column.cc, the connection in redis_connection.cc.

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "backend/redis/redis_column.h"
#include "backend/redis/redis_snapshot.h"
#include "backend/redis/redis_store.h"
#include "streamstate/redis.h"
#include "util/status_macros.h"

namespace streamstate {
namespace {

using internal::RedisArgs;
using internal::RedisConnection;
using internal::RedisCounters;
using internal::RedisReplyPtr;
using internal::RedisSession;
using internal::RedisStore;
using internal::reply_bytes;

// A batch runs again when a column was created or dropped by another client between its
// WATCH and its EXEC; that many collisions in a row means the column set never settles.
constexpr int kMaxBatchAttempts = 100;

class RedisBackendImpl final : public RedisBackend {
 public:
  explicit RedisBackendImpl(std::shared_ptr<RedisStore> store) : store_(std::move(store)) {}
  ~RedisBackendImpl() override {
    Status closed = close();
    (void)closed;  // close() cannot fail
  }

  std::string_view kind() const override { return "redis"; }
  BackendCapabilities capabilities() const override {
    BackendCapabilities capabilities;
    capabilities.ordered_scan = false;
    capabilities.persistent = true;
    capabilities.thread_safe = true;
    capabilities.shared_between_processes = true;
    return capabilities;
  }

  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override {
    STREAMSTATE_RETURN_IF_ERROR(validate_column_name(name));
    Status status = connection().run("SADD", [&](RedisSession& session) -> Status {
      Result<RedisReplyPtr> reply = session.call({"SADD", store_->keys.columns_set(), name});
      if (!reply.is_ok()) return reply.status();
      return session.check(**reply, "SADD");
    });
    if (!status.is_ok()) return status.with_context("opening column '" + std::string(name) + "'");
    return std::shared_ptr<StateColumn>(std::make_shared<internal::RedisColumn>(store_, std::string(name)));
  }

  Result<std::vector<std::string>> list_columns() override {
    std::vector<std::string> names;
    Status status = connection().run("SMEMBERS", [&](RedisSession& session) -> Status {
      names.clear();
      Result<RedisReplyPtr> reply = session.call({"SMEMBERS", store_->keys.columns_set()});
      if (!reply.is_ok()) return reply.status();
      if ((*reply)->type != REDIS_REPLY_ARRAY) return session.unexpected(**reply, "SMEMBERS");
      for (size_t i = 0; i < (*reply)->elements; ++i) names.emplace_back(reply_bytes(*(*reply)->element[i]));
      return Status::ok();
    });
    if (!status.is_ok()) return status.with_context("listing columns");
    std::sort(names.begin(), names.end());
    return names;
  }

  Status drop_column(std::string_view name) override {
    STREAMSTATE_RETURN_IF_ERROR(validate_column_name(name));
    const std::string hash = store_->keys.column_hash(name);
    bool existed = false;
    Status status = connection().run("drop (MULTI/DEL/SREM/EXEC)", [&](RedisSession& session) -> Status {
      STREAMSTATE_RETURN_IF_ERROR(session.append({"MULTI"}));
      STREAMSTATE_RETURN_IF_ERROR(session.append({"DEL", hash}));
      STREAMSTATE_RETURN_IF_ERROR(session.append({"SREM", store_->keys.columns_set(), name}));
      STREAMSTATE_RETURN_IF_ERROR(session.append({"EXEC"}));
      session.forbid_retry();  // a lost reply leaves the outcome unknown
      RedisReplyPtr replies[4];
      for (RedisReplyPtr& reply : replies) {
        STREAMSTATE_ASSIGN_OR_RETURN(reply, session.read_reply());
      }
      const redisReply& exec = *replies[3];
      if (exec.type != REDIS_REPLY_ARRAY || exec.elements != 2 ||
          exec.element[1]->type != REDIS_REPLY_INTEGER) {
        return session.unexpected(exec, "EXEC of a column drop");
      }
      existed = exec.element[1]->integer == 1;
      return Status::ok();
    });
    if (!status.is_ok()) return status.with_context("dropping column '" + std::string(name) + "'");
    if (!existed)
      return Status::not_found("cannot drop column '" + std::string(name) + "': it does not exist");
    return Status::ok();
  }

  Status write(const WriteBatch& batch) override {
    if (connection().closed()) return connection().closed_error();
    if (!batch.empty()) {
      for (int attempt = 1;; ++attempt) {
        bool conflict = false;
        Status status = connection().run("a batch (MULTI/EXEC)", [&](RedisSession& session) {
          return write_attempt(session, batch, conflict);
        });
        if (!status.is_ok())
          return status.with_context("writing a batch of " + std::to_string(batch.size()) + " operations");
        if (!conflict) break;
        if (attempt == kMaxBatchAttempts) {
          return Status::unavailable(
              "writing a batch: columns were created or dropped by other clients during " +
              std::to_string(kMaxBatchAttempts) + " attempts in a row; retry later");
        }
      }
    }
    RedisCounters::add(store_->counters.batches);
    uint64_t puts = 0;
    for (const WriteBatch::Operation& operation : batch.operations()) {
      puts += operation.type == WriteBatch::OperationType::kPut ? 1 : 0;
    }
    RedisCounters::add(store_->counters.puts, puts);
    RedisCounters::add(store_->counters.removes, batch.size() - puts);
    return Status::ok();
  }

  Result<std::unique_ptr<BackendSnapshot>> snapshot() override {
    return internal::take_redis_snapshot(store_);
  }

  BackendStatistics statistics() const override {
    BackendStatistics statistics;
    const RedisCounters& counters = store_->counters;
    statistics.gets = counters.gets.load(std::memory_order_relaxed);
    statistics.hits = counters.hits.load(std::memory_order_relaxed);
    statistics.misses = counters.misses.load(std::memory_order_relaxed);
    statistics.puts = counters.puts.load(std::memory_order_relaxed);
    statistics.removes = counters.removes.load(std::memory_order_relaxed);
    statistics.scans = counters.scans.load(std::memory_order_relaxed);
    statistics.batches = counters.batches.load(std::memory_order_relaxed);
    statistics.live_entries = count_live_entries();
    return statistics;
  }

  Status flush() override {
    // Every acknowledged command is already on the server; its durability is the server's
    // persistence configuration.
    if (connection().closed()) return connection().closed_error();
    return Status::ok();
  }

  Status close() override {
    internal::release_snapshots_and_close(*store_);
    return Status::ok();
  }

 private:
  RedisConnection& connection() const { return *store_->connection; }

  Status write_attempt(RedisSession& session, const WriteBatch& batch, bool& conflict) const;
  uint64_t count_live_entries() const;

  std::shared_ptr<RedisStore> store_;
};

// WATCH the column set, check that every named column is in it, then queue the operations
// inside MULTI, reading the QUEUED replies every pipeline_depth commands, and EXEC. A nil EXEC
// means the column set changed meanwhile: `conflict` asks the caller to run the batch again.
Status RedisBackendImpl::write_attempt(RedisSession& session, const WriteBatch& batch, bool& conflict) const {
  conflict = false;
  std::set<std::string_view> distinct;
  for (const WriteBatch::Operation& operation : batch.operations()) distinct.insert(operation.column);
  const std::vector<std::string_view> columns(distinct.begin(), distinct.end());

  STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr watched, session.call({"WATCH", store_->keys.columns_set()}));
  STREAMSTATE_RETURN_IF_ERROR(session.check(*watched, "WATCH"));
  RedisArgs membership = {"SMISMEMBER", store_->keys.columns_set()};
  membership.insert(membership.end(), columns.begin(), columns.end());
  STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr members, session.call(membership));
  std::string missing;
  if (members->type != REDIS_REPLY_ARRAY || members->elements != columns.size()) {
    Status error = session.unexpected(*members, "SMISMEMBER");
    Result<RedisReplyPtr> unwatched = session.call({"UNWATCH"});
    return unwatched.is_ok() ? error : unwatched.status();
  }
  for (size_t i = 0; i < columns.size() && missing.empty(); ++i) {
    if (members->element[i]->type != REDIS_REPLY_INTEGER) {
      Status error = session.unexpected(*members->element[i], "SMISMEMBER");
      Result<RedisReplyPtr> unwatched = session.call({"UNWATCH"});
      return unwatched.is_ok() ? error : unwatched.status();
    }
    if (members->element[i]->integer != 1) missing = columns[i];
  }
  if (!missing.empty()) {
    Result<RedisReplyPtr> unwatched = session.call({"UNWATCH"});
    if (!unwatched.is_ok()) return unwatched.status();
    return Status::not_found(
        "column '" + missing +
        "' does not exist: open it with StateBackend::column before writing to it; nothing was "
        "applied");
  }

  // Column names map to their hash names once, not per operation.
  std::map<std::string_view, std::string> hashes;
  for (std::string_view column : columns) hashes.emplace(column, store_->keys.column_hash(column));

  const size_t depth = store_->options.pipeline_depth;
  size_t unread = 0;
  Status queue_error;
  auto read_pending = [&]() -> Status {
    for (; unread > 0; --unread) {
      STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply, session.read_reply());
      // Remember the first refusal but keep reading, so that the connection stays in step;
      // Redis then aborts the whole transaction at EXEC.
      if (queue_error.is_ok()) queue_error = session.check(*reply, "a queued batch command");
    }
    return Status::ok();
  };
  STREAMSTATE_RETURN_IF_ERROR(session.append({"MULTI"}));
  ++unread;
  for (const WriteBatch::Operation& operation : batch.operations()) {
    const std::string& hash = hashes.at(operation.column);
    if (operation.type == WriteBatch::OperationType::kPut) {
      STREAMSTATE_RETURN_IF_ERROR(session.append({"HSET", hash, operation.key, operation.value}));
    } else {
      STREAMSTATE_RETURN_IF_ERROR(session.append({"HDEL", hash, operation.key}));
    }
    if (++unread >= depth) STREAMSTATE_RETURN_IF_ERROR(read_pending());
  }
  STREAMSTATE_RETURN_IF_ERROR(session.append({"EXEC"}));
  // From here the reply may be lost after Redis applied the batch: report, do not repeat.
  session.forbid_retry();
  STREAMSTATE_RETURN_IF_ERROR(read_pending());
  STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr exec, session.read_reply());
  if (!queue_error.is_ok()) return queue_error;  // EXEC answered EXECABORT; nothing was applied
  if (exec->type == REDIS_REPLY_NIL) {
    conflict = true;
    return Status::ok();
  }
  if (exec->type != REDIS_REPLY_ARRAY || exec->elements != batch.size())
    return session.unexpected(*exec, "EXEC");
  for (size_t i = 0; i < exec->elements; ++i) {
    STREAMSTATE_RETURN_IF_ERROR(session.check(*exec->element[i], "a batch command inside EXEC"));
  }
  return Status::ok();
}

// HLEN of every column, pipelined, without reconnecting: statistics() must not stall on a
// server that is gone, and reports 0 then.
uint64_t RedisBackendImpl::count_live_entries() const {
  uint64_t total = 0;
  Status status = connection().run(
      "counting entries (HLEN)",
      [&](RedisSession& session) -> Status {
        total = 0;
        STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr names,
                                     session.call({"SMEMBERS", store_->keys.columns_set()}));
        if (names->type != REDIS_REPLY_ARRAY) return session.unexpected(*names, "SMEMBERS");
        std::vector<std::string> hashes;
        for (size_t i = 0; i < names->elements; ++i) {
          hashes.push_back(store_->keys.column_hash(reply_bytes(*names->element[i])));
        }
        for (const std::string& hash : hashes) STREAMSTATE_RETURN_IF_ERROR(session.append({"HLEN", hash}));
        for (size_t i = 0; i < hashes.size(); ++i) {
          STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr length, session.read_reply());
          if (length->type == REDIS_REPLY_INTEGER) total += static_cast<uint64_t>(length->integer);
        }
        return Status::ok();
      },
      RedisConnection::Reconnect::kNo);
  return status.is_ok() ? total : 0;
}

}  // namespace

Result<std::unique_ptr<RedisBackend>> RedisBackend::open(const RedisBackendOptions& options) {
  STREAMSTATE_RETURN_IF_ERROR(internal::validate_redis_options(options));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RedisConnection> connection, RedisConnection::open(options));
  auto store = std::make_shared<RedisStore>(options, std::move(connection));
  return std::unique_ptr<RedisBackend>(new RedisBackendImpl(std::move(store)));
}

}  // namespace streamstate
