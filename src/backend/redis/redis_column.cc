#include "backend/redis/redis_column.h"

#include "core/printable.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

// Conflicts only happen when another client changes the same key between our WATCH and
// EXEC; a thousand lost races in a row means the key is hopelessly contended.
constexpr int kMaxUpdateAttempts = 1000;

// A random pause that grows with the attempt number, so that competing clients drift apart.
void back_off(int attempt) {
  thread_local std::minstd_rand random(
      static_cast<unsigned>(std::hash<std::thread::id>()(std::this_thread::get_id())));
  const int ceiling_micros = 20 * std::min(attempt, 50);
  std::this_thread::sleep_for(
      std::chrono::microseconds(random() % static_cast<unsigned>(ceiling_micros + 1)));
}

}  // namespace

RedisColumn::RedisColumn(std::shared_ptr<RedisStore> store, std::string name)
    : store_(std::move(store)), name_(std::move(name)), groups_(store_->keys.groups(name_)) {}

std::string RedisColumn::context(std::string_view operation, BytesView key) const {
  return std::string(operation) + " of key '" + escape_bytes(key) + "' in column '" + name_ + "'";
}

Result<bool> RedisColumn::get_into(BytesView key, std::string& value) {
  bool found = false;
  const std::string entry = store_->keys.entry(name_, key);
  Status status = store_->connection->run("GET", [&](RedisSession& session) -> Status {
    Result<RedisReplyPtr> reply = session.call({"GET", entry});
    if (!reply.is_ok()) return reply.status();
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_NIL) {
      found = false;
      return Status::ok();
    }
    if (r.type != REDIS_REPLY_STRING) return session.unexpected(r, "GET");
    value.assign(r.str, r.len);
    found = true;
    return Status::ok();
  });
  if (!status.is_ok()) return status.with_context(context("get", key));
  RedisCounters::add(store_->counters.gets);
  RedisCounters::add(found ? store_->counters.hits : store_->counters.misses);
  return found;
}

Result<bool> RedisColumn::contains(BytesView key) {
  bool found = false;
  const std::string entry = store_->keys.entry(name_, key);
  Status status = store_->connection->run("EXISTS", [&](RedisSession& session) -> Status {
    Result<RedisReplyPtr> reply = session.call({"EXISTS", entry});
    if (!reply.is_ok()) return reply.status();
    if ((*reply)->type != REDIS_REPLY_INTEGER) return session.unexpected(**reply, "EXISTS");
    found = (*reply)->integer == 1;
    return Status::ok();
  });
  if (!status.is_ok()) return status.with_context(context("contains", key));
  RedisCounters::add(store_->counters.gets);
  RedisCounters::add(found ? store_->counters.hits : store_->counters.misses);
  return found;
}

Status RedisColumn::put(BytesView key, BytesView value) {
  bool column_exists = true;
  const std::string group = group_of(key);
  std::string entry;
  store_->keys.append_entry(entry, name_, group, key);
  const std::string index = store_->keys.index(name_, group);
  const RedisScript& script = store_->scripts.put;
  Status status = store_->connection->run(script.name, [&](RedisSession& session) -> Status {
    Result<RedisReplyPtr> reply =
        eval_script(session, script, {store_->keys.registry(), entry, index, groups_}, {name_, key, value, group});
    if (!reply.is_ok()) return reply.status();
    if ((*reply)->type != REDIS_REPLY_INTEGER) return session.unexpected(**reply, script.name);
    column_exists = (*reply)->integer >= 0;
    return Status::ok();
  });
  if (status.is_ok() && !column_exists) status = column_missing();
  if (!status.is_ok()) return status.with_context(context("put", key));
  RedisCounters::add(store_->counters.puts);
  return Status::ok();
}

Status RedisColumn::column_missing() const {
  return Status::not_found("column '" + name_ +
                           "' does not exist (it was dropped, or the server lost its data); call column(\"" +
                           name_ + "\") to create it again");
}

Status RedisColumn::remove(BytesView key) {
  const std::string group = group_of(key);
  std::string entry;
  store_->keys.append_entry(entry, name_, group, key);
  const std::string index = store_->keys.index(name_, group);
  const RedisScript& script = store_->scripts.remove;
  Status status = store_->connection->run(script.name, [&](RedisSession& session) -> Status {
    Result<RedisReplyPtr> reply = eval_script(session, script, {entry, index}, {key});
    if (!reply.is_ok()) return reply.status();
    return session.check(**reply, script.name);
  });
  if (!status.is_ok()) return status.with_context(context("remove", key));
  RedisCounters::add(store_->counters.removes);
  return Status::ok();
}

Status RedisColumn::update(BytesView key, const UpdateFunction& fn) {
  for (int attempt = 1; attempt <= kMaxUpdateAttempts; ++attempt) {
    UpdateOutcome outcome = UpdateOutcome::kUnchanged;
    RedisCounters::add(store_->counters.update_attempts);
    Status status = store_->connection->run("update (WATCH/MULTI/EXEC)", [&](RedisSession& session) {
      return update_attempt(session, key, fn, outcome);
    });
    if (!status.is_ok()) return status.with_context(context("update", key));
    if (outcome == UpdateOutcome::kStored) RedisCounters::add(store_->counters.puts);
    if (outcome == UpdateOutcome::kRemoved) RedisCounters::add(store_->counters.removes);
    if (outcome != UpdateOutcome::kConflict) return Status::ok();
    RedisCounters::add(store_->counters.update_conflicts);
    back_off(attempt);
  }
  return Status::unavailable(
      context("update", key) + ": gave up after " + std::to_string(kMaxUpdateAttempts) +
      " attempts because other clients kept changing this key (contention); retry later");
}

Status RedisColumn::update_attempt(RedisSession& session, BytesView key, const UpdateFunction& fn,
                                   UpdateOutcome& outcome) {
  // WATCH the entry's own key and the registry (changed only by creating or dropping a column,
  // so writes to other keys never abort this update), then read the value and check that the
  // column exists, all in one round trip.
  const std::string& registry = store_->keys.registry();
  const std::string group = group_of(key);
  std::string entry;
  store_->keys.append_entry(entry, name_, group, key);
  STREAMSTATE_RETURN_IF_ERROR(session.append({"WATCH", entry, registry}));
  STREAMSTATE_RETURN_IF_ERROR(session.append({"GET", entry}));
  STREAMSTATE_RETURN_IF_ERROR(session.append({"SISMEMBER", registry, name_}));
  RedisReplyPtr reads[3];
  for (RedisReplyPtr& reply : reads) {
    STREAMSTATE_ASSIGN_OR_RETURN(reply, session.read_reply());
  }
  // Leaving without EXEC must drop the WATCH, or a later transaction on this connection
  // could fail because of this key.
  auto abandon = [&](Status status) {
    if (!session.broken()) {
      Result<RedisReplyPtr> unwatched = session.call({"UNWATCH"});
      (void)unwatched;  // the original error is the one to report
    }
    return status;
  };
  Status watched = session.check(*reads[0], "WATCH");
  if (!watched.is_ok()) return abandon(watched);
  const redisReply& current_value = *reads[1];
  std::optional<BytesView> current;
  if (current_value.type == REDIS_REPLY_STRING) {
    current = reply_bytes(current_value);
  } else if (current_value.type != REDIS_REPLY_NIL) {
    return abandon(session.unexpected(current_value, "GET"));
  }
  if (reads[2]->type != REDIS_REPLY_INTEGER) return abandon(session.unexpected(*reads[2], "SISMEMBER"));
  if (reads[2]->integer != 1) return abandon(column_missing());
  std::optional<std::string> next;
  try {
    next = fn(current);
  } catch (const std::exception& error) {
    return abandon(Status::failed_precondition(std::string("the update function threw: ") + error.what()));
  } catch (...) {
    return abandon(Status::failed_precondition("the update function threw a non-standard exception"));
  }
  if (!next.has_value() && !current.has_value()) {
    outcome = UpdateOutcome::kUnchanged;
    return abandon(Status::ok());
  }
  // The column's existence was checked with the registry WATCHed, so a drop since then
  // aborts the EXEC; plain commands need no script.
  const std::string index = store_->keys.index(name_, group);
  Status queued = session.append({"MULTI"});
  size_t commands = 0;
  if (next.has_value()) {
    if (queued.is_ok()) queued = session.append({"SET", entry, *next});
    if (queued.is_ok()) queued = session.append({"ZADD", index, "0", key});
    if (queued.is_ok()) queued = session.append({"SADD", groups_, group});
    commands = 3;
  } else {
    if (queued.is_ok()) queued = session.append({"DEL", entry});
    if (queued.is_ok()) queued = session.append({"ZREM", index, key});
    commands = 2;
  }
  if (queued.is_ok()) queued = session.append({"EXEC"});
  if (!queued.is_ok()) return queued;
  session.forbid_retry();
  Status accepted;
  for (size_t i = 0; i <= commands; ++i) {  // MULTI's OK and a QUEUED per command
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply, session.read_reply());
    if (accepted.is_ok()) accepted = session.check(*reply, i == 0 ? "MULTI" : "a queued update command");
  }
  STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr result, session.read_reply());
  if (!accepted.is_ok()) return accepted;  // EXEC answered EXECABORT; nothing was applied
  if (result->type == REDIS_REPLY_NIL) {
    outcome = UpdateOutcome::kConflict;
    return Status::ok();
  }
  if (result->type != REDIS_REPLY_ARRAY || result->elements != commands) return session.unexpected(*result, "EXEC");
  for (size_t i = 0; i < commands; ++i) {
    STREAMSTATE_RETURN_IF_ERROR(session.check(*result->element[i], "an update command inside EXEC"));
  }
  outcome = next.has_value() ? UpdateOutcome::kStored : UpdateOutcome::kRemoved;
  return Status::ok();
}

Status RedisColumn::scan(BytesView prefix, const ScanVisitor& visitor) {
  RedisCounters::add(store_->counters.scans);
  GroupScanner scanner(store_, name_, prefix);
  std::vector<std::pair<std::string, std::string>> page;
  bool more = true;
  while (more) {
    Status status = scanner.next_page(page, more);
    if (!status.is_ok()) return status.with_context("scan of column '" + name_ + "'");
    for (const auto& [key, value] : page) {
      if (!visitor(key, value)) return Status::ok();
    }
  }
  return Status::ok();
}

Status RedisColumn::clear() {
  const RedisScript& script = store_->scripts.erase;
  const std::string entry_stem = store_->keys.prefix() + ":e";
  const std::string index_stem = store_->keys.prefix() + ":i";
  Status status = store_->connection->run(script.name, [&](RedisSession& session) -> Status {
    Result<RedisReplyPtr> reply =
        eval_script(session, script, {store_->keys.registry(), groups_}, {name_, entry_stem, index_stem, "clear"});
    if (!reply.is_ok()) return reply.status();
    return session.check(**reply, script.name);
  });
  return status.with_context("clear of column '" + name_ + "'");
}

}  // namespace streamstate::internal
