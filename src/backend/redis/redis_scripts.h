// The Lua scripts of the Redis backend (layout 2, see redis_keys.h) and how they are sent.
//
// A script is sent as EVALSHA of the SHA1 that SCRIPT LOAD returned at open; when the server
// answers NOSCRIPT (its script cache is empty after a restart), it is sent again as EVAL,
// which also caches it.
//
// Scripts that build key names themselves (drop/clear, snapshot, count) touch keys of many
// hash tags; they need a standalone server (see docs/backends/redis.md, "Redis Cluster").
//
// Thread-safety: RedisScripts is immutable after load(); the functions are safe to call from
// any thread holding the session.
#pragma once

#include <string>
#include <string_view>

#include "backend/redis/redis_connection.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct RedisScript {
  std::string_view name;  // for messages, e.g. "the put script"
  std::string_view body;
  std::string sha;  // empty until loaded
};

struct RedisScripts {
  // KEYS registry, entry, index, groups; ARGV column, stored key, value, group hex.
  // Stores the entry unless the column is not in the registry; returns 1, or -1 then.
  RedisScript put;
  // KEYS entry, index; ARGV stored key. Removes the entry; returns the number removed.
  RedisScript remove;
  // KEYS meta, layout-1 column set; ARGV layout version. Returns the layout recorded (writing
  // ARGV[1] on first use), or "1" when the prefix holds layout-1 keys.
  RedisScript open;
  // KEYS registry, groups; ARGV column, "P:e", "P:i", "drop" or "clear". Deletes every entry
  // of the column (and, for "drop", removes it from the registry; returns 0 when it was not
  // there). Atomic, O(entries of the column).
  RedisScript erase;
  // KEYS registry, snapshot counter; ARGV prefix P. Copies every group of every column into
  // P:snap{C:H}:<id>; returns {id, {column, {groups copied}}, ...}. Atomic, O(state).
  RedisScript snapshot;
  // KEYS registry; ARGV prefix P. Returns the number of entries of all columns.
  RedisScript count;

  RedisScripts();
  // SCRIPT LOAD of every script; fills the sha fields.
  Status load(RedisSession& session);
};

// Sends `script` (EVALSHA, EVAL on NOSCRIPT) with `keys` and `argv`, and returns its reply
// (an error reply is returned as a reply, for the caller to check).
Result<RedisReplyPtr> eval_script(RedisSession& session, const RedisScript& script, const RedisArgs& keys,
                                  const RedisArgs& argv);

}  // namespace streamstate::internal
