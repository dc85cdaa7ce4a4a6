#include "backend/redis/redis_server_checks.h"

#include <cstdio>
#include <mutex>
#include <set>
#include <string>

#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

// The value of a CONFIG GET reply ([name, value]), or an error naming the parameter.
Result<std::string> config_value(RedisSession& session, const std::string& parameter) {
  STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply, session.call({"CONFIG", "GET", parameter}));
  STREAMSTATE_RETURN_IF_ERROR(session.check(*reply, "CONFIG GET " + parameter));
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_STRING) {
    return session.unexpected(*reply, "CONFIG GET " + parameter);
  }
  return std::string(reply_bytes(*reply->element[1]));
}

void warn_once(const std::string& address, const std::string& prefix, const std::string& warning) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mutex);
  if (!warned.insert(address + "/" + prefix).second) return;
  std::fprintf(stderr, "streamstate: warning: %s\n", warning.c_str());
}

}  // namespace

Status check_layout(RedisStore& store, RedisSession& session) {
  STREAMSTATE_RETURN_IF_ERROR(store.scripts.load(session));
  const RedisScript& script = store.scripts.open;
  STREAMSTATE_ASSIGN_OR_RETURN(
      RedisReplyPtr reply, eval_script(session, script, {store.keys.meta(), store.keys.layout1_columns()},
                                       {kRedisLayoutVersion}));
  if (reply->type != REDIS_REPLY_STRING) return session.unexpected(*reply, script.name);
  const std::string layout(reply_bytes(*reply));
  if (layout == kRedisLayoutVersion) return Status::ok();
  std::string where = layout == "1" ? "the set '" + store.keys.layout1_columns() + "'" : "'" + store.keys.meta() + "'";
  return Status::failed_precondition(
      "Redis at " + session.address() + " holds state of key_prefix '" + store.keys.prefix() + "' in layout " +
      layout + " (found " + where + "), but this version reads and writes only layout " +
      std::string(kRedisLayoutVersion) +
      " and does not migrate: choose another RedisBackendOptions::key_prefix, or delete the old keys "
      "(redis-cli --scan --pattern '" + store.keys.prefix() + ":*' | xargs redis-cli unlink) if that state is "
      "no longer needed");
}

Status read_persistence(RedisStore& store, RedisSession& session) {
  Result<std::string> appendonly = config_value(session, "appendonly");
  Result<std::string> save = appendonly.is_ok() ? config_value(session, "save") : appendonly.status();
  if (session.broken()) return appendonly.is_ok() ? save.status() : appendonly.status();
  if (!appendonly.is_ok() || !save.is_ok()) {
    const Status& error = appendonly.is_ok() ? save.status() : appendonly.status();
    store.persistence = "unknown";
    store.persistence_warning = "cannot read the persistence settings of Redis at " + session.address() +
                                " (" + error.message() +
                                "); make sure AOF (appendonly yes) or RDB snapshots (save) are on, or the state "
                                "of key_prefix '" + store.keys.prefix() + "' is lost when the server restarts";
  } else {
    store.persistence = "appendonly=" + *appendonly + " save='" + *save + "'";
    if (*appendonly != "yes" && save->empty()) {
      store.persistence_warning =
          "Redis at " + session.address() + " has neither AOF (appendonly no) nor RDB snapshots (save '') "
          "on: the state of key_prefix '" + store.keys.prefix() +
          "' is lost when the server restarts (the backend then fails with DataLoss); "
          "set appendonly yes (see docs/backends/redis.md, Durability)";
    }
  }
  if (!store.persistence_warning.empty()) warn_once(session.address(), store.keys.prefix(), store.persistence_warning);
  return Status::ok();
}

RedisConnection::ReconnectCheck data_loss_check(const RedisStore& store) {
  const std::string meta = store.keys.meta();
  const std::string prefix = store.keys.prefix();
  return [meta, prefix](RedisSession& session, const std::string& old_run_id,
                        const std::string& new_run_id) -> Status {
    if (old_run_id == new_run_id) return Status::ok();  // the same server process: nothing was lost
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr exists, session.call({"EXISTS", meta}));
    if (exists->type != REDIS_REPLY_INTEGER) return session.unexpected(*exists, "EXISTS " + meta);
    if (exists->integer == 1) return Status::ok();  // restarted, and restored from AOF or RDB
    return Status::data_loss(
        "Redis at " + session.address() + " restarted (run_id " + old_run_id + " -> " + new_run_id +
        ") without the state of key_prefix '" + prefix + "' (its key '" + meta +
        "' is gone: the server kept no persistent copy). This backend fails every operation from now on; "
        "restore the state from a checkpoint into a newly opened backend, and turn on AOF (appendonly yes) so that "
        "a restart keeps the state");
  };
}

}  // namespace streamstate::internal
