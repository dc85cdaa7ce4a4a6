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
#include "backend/redis/redis_scripts.h"
#include "backend/redis/redis_server_checks.h"
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
      Result<RedisReplyPtr> reply = session.call({"SADD", store_->keys.registry(), name});
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
      Result<RedisReplyPtr> reply = session.call({"SMEMBERS", store_->keys.registry()});
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
    const internal::RedisScript& script = store_->scripts.erase;
    const std::string groups = store_->keys.groups(name);
    const std::string entry_stem = store_->keys.prefix() + ":e";
    const std::string index_stem = store_->keys.prefix() + ":i";
    bool existed = false;
    Status status = connection().run(script.name, [&](RedisSession& session) -> Status {
      STREAMSTATE_ASSIGN_OR_RETURN(
          RedisReplyPtr reply,
          internal::eval_script(session, script, {store_->keys.registry(), groups}, {name, entry_stem, index_stem, "drop"}));
      if (reply->type != REDIS_REPLY_INTEGER) return session.unexpected(*reply, script.name);
      existed = reply->integer == 1;
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
        RedisCounters::add(store_->counters.batch_conflicts);
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

  RedisBackendStatistics redis_statistics() const override {
    RedisBackendStatistics statistics;
    const RedisCounters& counters = store_->counters;
    statistics.update_attempts = counters.update_attempts.load(std::memory_order_relaxed);
    statistics.update_conflicts = counters.update_conflicts.load(std::memory_order_relaxed);
    statistics.batch_conflicts = counters.batch_conflicts.load(std::memory_order_relaxed);
    statistics.persistence = store_->persistence;
    statistics.persistence_warning = store_->persistence_warning;
    statistics.data_lost = connection().failure().code() == StatusCode::kDataLoss;
    return statistics;
  }

 private:
  RedisConnection& connection() const { return *store_->connection; }

  Status write_attempt(RedisSession& session, const WriteBatch& batch, bool& conflict) const;
  uint64_t count_live_entries() const;

  std::shared_ptr<RedisStore> store_;
};

// WATCH the column registry, check that every named column is in it, then queue the
// operations inside MULTI (a put is SET and ZADD, a remove DEL and ZREM, plus one SADD per
// (column, group) the batch puts into), reading the QUEUED replies every pipeline_depth
// commands, and EXEC. A nil EXEC means the column set changed meanwhile: `conflict` asks the
// caller to run the batch again.
Status RedisBackendImpl::write_attempt(RedisSession& session, const WriteBatch& batch, bool& conflict) const {
  conflict = false;
  std::set<std::string_view> distinct;
  for (const WriteBatch::Operation& operation : batch.operations()) distinct.insert(operation.column);
  const std::vector<std::string_view> columns(distinct.begin(), distinct.end());
  const std::string& registry = store_->keys.registry();

  STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr watched, session.call({"WATCH", registry}));
  STREAMSTATE_RETURN_IF_ERROR(session.check(*watched, "WATCH"));
  RedisArgs membership = {"SMISMEMBER", registry};
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

  const size_t depth = store_->options.pipeline_depth;
  size_t unread = 0;
  size_t queued = 0;
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
  auto queue = [&](const RedisArgs& args) -> Status {
    STREAMSTATE_RETURN_IF_ERROR(session.append(args));
    ++queued;
    if (++unread >= depth) return read_pending();
    return Status::ok();
  };
  STREAMSTATE_RETURN_IF_ERROR(session.append({"MULTI"}));
  ++unread;
  std::string entry;
  std::string index;
  std::set<std::pair<std::string_view, std::string>> groups_written;
  for (const WriteBatch::Operation& operation : batch.operations()) {
    const std::string group = internal::group_of(operation.key);
    entry.clear();
    store_->keys.append_entry(entry, operation.column, group, operation.key);
    index = store_->keys.index(operation.column, group);
    if (operation.type == WriteBatch::OperationType::kPut) {
      STREAMSTATE_RETURN_IF_ERROR(queue({"SET", entry, operation.value}));
      STREAMSTATE_RETURN_IF_ERROR(queue({"ZADD", index, "0", operation.key}));
      groups_written.emplace(operation.column, group);
    } else {
      STREAMSTATE_RETURN_IF_ERROR(queue({"DEL", entry}));
      STREAMSTATE_RETURN_IF_ERROR(queue({"ZREM", index, operation.key}));
    }
  }
  std::string groups_key;
  for (const auto& [column, group] : groups_written) {
    groups_key = store_->keys.groups(column);
    STREAMSTATE_RETURN_IF_ERROR(queue({"SADD", groups_key, group}));
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
  if (exec->type != REDIS_REPLY_ARRAY || exec->elements != queued) return session.unexpected(*exec, "EXEC");
  for (size_t i = 0; i < exec->elements; ++i) {
    STREAMSTATE_RETURN_IF_ERROR(session.check(*exec->element[i], "a batch command inside EXEC"));
  }
  return Status::ok();
}

// The count script, without reconnecting: statistics() must not stall on a server that is
// gone, and reports 0 then.
uint64_t RedisBackendImpl::count_live_entries() const {
  uint64_t total = 0;
  const internal::RedisScript& script = store_->scripts.count;
  Status status = connection().run(
      script.name,
      [&](RedisSession& session) -> Status {
        STREAMSTATE_ASSIGN_OR_RETURN(
            RedisReplyPtr reply,
            internal::eval_script(session, script, {store_->keys.registry()}, {store_->keys.prefix()}));
        if (reply->type != REDIS_REPLY_INTEGER) return session.unexpected(*reply, script.name);
        total = static_cast<uint64_t>(reply->integer);
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
  Status checked = store->connection->run("opening the backend", [&](RedisSession& session) -> Status {
    STREAMSTATE_RETURN_IF_ERROR(internal::check_layout(*store, session));
    return internal::read_persistence(*store, session);
  });
  if (!checked.is_ok()) return checked;
  store->connection->set_reconnect_check(internal::data_loss_check(*store));
  return std::unique_ptr<RedisBackend>(new RedisBackendImpl(std::move(store)));
}

}  // namespace streamstate
