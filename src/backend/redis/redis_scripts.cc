#include "backend/redis/redis_scripts.h"

#include <string>

#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

constexpr std::string_view kPutScript = R"lua(
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[2])
redis.call('SADD', KEYS[4], ARGV[4])
return 1
)lua";

constexpr std::string_view kRemoveScript = R"lua(
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
)lua";

constexpr std::string_view kOpenScript = R"lua(
local layout = redis.call('HGET', KEYS[1], 'layout')
if layout then return layout end
if redis.call('EXISTS', KEYS[2]) == 1 then return '1' end
redis.call('HSET', KEYS[1], 'layout', ARGV[1])
return ARGV[1]
)lua";

// Entries are unlinked in chunks: Lua's unpack() has a limit of a few thousand values.
constexpr std::string_view kEraseScript = R"lua(
if ARGV[4] == 'drop' then
  if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
end
for _, group in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local tag = '{' .. ARGV[1] .. ':' .. group .. '}'
  local index = ARGV[3] .. tag
  local members = redis.call('ZRANGE', index, 0, -1)
  for first = 1, #members, 1000 do
    local keys = {}
    for i = first, math.min(first + 999, #members) do keys[#keys + 1] = ARGV[2] .. tag .. members[i] end
    redis.call('UNLINK', unpack(keys))
  end
  redis.call('UNLINK', index)
end
redis.call('UNLINK', KEYS[2])
return 1
)lua";

// The id is formatted with %d because Lua would print a large number in exponent notation.
constexpr std::string_view kSnapshotScript = R"lua(
local id = string.format('%d', redis.call('INCR', KEYS[2]))
local result = {id}
for _, column in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local copied = {}
  for _, group in ipairs(redis.call('SMEMBERS', ARGV[1] .. ':groups:' .. column)) do
    local tag = '{' .. column .. ':' .. group .. '}'
    local members = redis.call('ZRANGE', ARGV[1] .. ':i' .. tag, 0, -1)
    local copy = ARGV[1] .. ':snap' .. tag .. ':' .. id
    local stored = 0
    for first = 1, #members, 500 do
      local last = math.min(first + 499, #members)
      local keys = {}
      for i = first, last do keys[#keys + 1] = ARGV[1] .. ':e' .. tag .. members[i] end
      local values = redis.call('MGET', unpack(keys))
      local fields = {}
      for i = first, last do
        local value = values[i - first + 1]
        if value then
          fields[#fields + 1] = members[i]
          fields[#fields + 1] = value
        end
      end
      if #fields > 0 then
        redis.call('HSET', copy, unpack(fields))
        stored = stored + 1
      end
    end
    if stored > 0 then copied[#copied + 1] = group end
  end
  result[#result + 1] = {column, copied}
end
return result
)lua";

constexpr std::string_view kCountScript = R"lua(
local total = 0
for _, column in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  for _, group in ipairs(redis.call('SMEMBERS', ARGV[1] .. ':groups:' .. column)) do
    total = total + redis.call('ZCARD', ARGV[1] .. ':i{' .. column .. ':' .. group .. '}')
  end
end
return total
)lua";

RedisArgs script_args(std::string_view command, BytesView script, const RedisArgs& keys, const RedisArgs& argv,
                      const std::string& key_count) {
  RedisArgs args;
  args.reserve(3 + keys.size() + argv.size());
  args.push_back(command);
  args.push_back(script);
  args.push_back(key_count);
  args.insert(args.end(), keys.begin(), keys.end());
  args.insert(args.end(), argv.begin(), argv.end());
  return args;
}

}  // namespace

RedisScripts::RedisScripts()
    : put{"the put script", kPutScript, {}},
      remove{"the remove script", kRemoveScript, {}},
      open{"the layout check script", kOpenScript, {}},
      erase{"the column erase script", kEraseScript, {}},
      snapshot{"the snapshot script", kSnapshotScript, {}},
      count{"the entry count script", kCountScript, {}} {}

Status RedisScripts::load(RedisSession& session) {
  for (RedisScript* script : {&put, &remove, &open, &erase, &snapshot, &count}) {
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply, session.call({"SCRIPT", "LOAD", script->body}));
    if (reply->type != REDIS_REPLY_STRING) return session.unexpected(*reply, "SCRIPT LOAD");
    script->sha.assign(reply->str, reply->len);
  }
  return Status::ok();
}

Result<RedisReplyPtr> eval_script(RedisSession& session, const RedisScript& script, const RedisArgs& keys,
                                  const RedisArgs& argv) {
  const std::string key_count = std::to_string(keys.size());
  if (!script.sha.empty()) {
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply,
                                 session.call(script_args("EVALSHA", script.sha, keys, argv, key_count)));
    if (reply->type != REDIS_REPLY_ERROR || !reply_bytes(*reply).starts_with("NOSCRIPT")) return reply;
  }
  return session.call(script_args("EVAL", script.body, keys, argv, key_count));
}

}  // namespace streamstate::internal
