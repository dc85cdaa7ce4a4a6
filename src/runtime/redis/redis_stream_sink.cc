// The exactly-once Redis Streams sink (streamstate/sinks.h): options, the commit script,
// commit and recover. The writers are in redis_stream_writer.cc.
#include "runtime/redis/redis_stream_sink.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "backend/redis/redis_scripts.h"
#include "runtime/sinks/committable_json.h"
#include "util/status_macros.h"

namespace streamstate {
namespace internal {
namespace {

constexpr const char* kFormat = "streamstate.redis-stream-sink";
constexpr int kVersion = 1;

// KEYS stream, committed set, staging list; ARGV transaction, checkpoint, entries staged,
// maxlen (0: none), oldest checkpoint to remember. Returns 1 when it appended, 0 when the
// transaction was committed before; an error "STAGED <n>" when the staging list does not hold
// the entries the committable counts (then nothing is appended).
constexpr std::string_view kCommitScript = R"lua(
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
local staged = redis.call('LLEN', KEYS[3])
if staged ~= tonumber(ARGV[3]) then return redis.error_reply('STAGED ' .. staged) end
local function fields(entry)
  local out, at = {}, 1
  while at <= #entry do
    local colon = string.find(entry, ':', at, true)
    local length = tonumber(string.sub(entry, at, colon - 1))
    out[#out + 1] = string.sub(entry, colon + 1, colon + length)
    at = colon + length + 1
  end
  return out
end
for first = 0, staged - 1, 1000 do
  for _, entry in ipairs(redis.call('LRANGE', KEYS[3], first, first + 999)) do
    if ARGV[4] ~= '0' then
      redis.call('XADD', KEYS[1], 'MAXLEN', '=', ARGV[4], '*', unpack(fields(entry)))
    else
      redis.call('XADD', KEYS[1], '*', unpack(fields(entry)))
    end
  end
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
redis.call('DEL', KEYS[3])
return 1
)lua";

// `text` with the glob characters of SCAN MATCH escaped.
std::string glob_escaped(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

class RedisStreamSink final : public Sink<RedisStreamFields> {
 public:
  RedisStreamSink(std::shared_ptr<const RedisStreamSinkLayout> layout, std::unique_ptr<RedisConnection> connection)
      : layout_(std::move(layout)), connection_(std::move(connection)) {
    script_ = RedisScript{"the stream sink's commit script", kCommitScript, {}};
  }

  Status load_script() {
    return connection_->run("SCRIPT LOAD", [&](RedisSession& session) -> Status {
      STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply, session.call({"SCRIPT", "LOAD", script_.body}));
      if (reply->type != REDIS_REPLY_STRING) return session.unexpected(*reply, "SCRIPT LOAD");
      script_.sha.assign(reply->str, reply->len);
      return Status::ok();
    });
  }

  Result<std::unique_ptr<SinkWriter<RedisStreamFields>>> open_writer(const SinkWriterContext& context) override {
    STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RedisConnection> connection,
                                 RedisConnection::open(layout_->connection));
    return std::unique_ptr<SinkWriter<RedisStreamFields>>(
        new RedisStreamWriter(layout_, std::move(connection), context));
  }

  Status commit(const std::string& committable) override {
    if (committable.empty()) return Status::ok();
    STREAMSTATE_ASSIGN_OR_RETURN(RedisStreamTransaction transaction, decode_redis_transaction(committable, describe()));
    if (transaction.stream != layout_->options.stream_key || transaction.prefix != layout_->prefix) {
      return Status::invalid_argument("Redis stream sink " + describe() + ": the committable is of the sink of stream '" +
                                      transaction.stream + "' with key prefix '" + transaction.prefix + "'");
    }
    const std::string stream = layout_->options.stream_key;
    const std::string committed = layout_->committed_key();
    const std::string staging = layout_->staging_key(transaction.transaction);
    const std::string checkpoint = std::to_string(transaction.checkpoint);
    const std::string entries = std::to_string(transaction.entries);
    const std::string maxlen = std::to_string(layout_->options.maxlen);
    const uint64_t remember = layout_->options.remember_checkpoints;
    const std::string oldest =
        std::to_string(transaction.checkpoint > remember ? transaction.checkpoint - remember : 0);
    // A retry after a lost reply runs the script again, which then finds the transaction done.
    return connection_->run("committing " + staging, [&](RedisSession& session) -> Status {
      STREAMSTATE_ASSIGN_OR_RETURN(
          RedisReplyPtr reply,
          eval_script(session, script_, {stream, committed, staging},
                      {transaction.transaction, checkpoint, entries, maxlen, oldest}));
      if (reply->type == REDIS_REPLY_ERROR && reply_bytes(*reply).starts_with("STAGED ")) {
        return Status::data_loss("Redis at " + layout_->address + ": cannot commit transaction " +
                                 transaction.transaction + " (checkpoint " + checkpoint + ") to stream '" + stream +
                                 "': its staging list " + staging + " holds " +
                                 std::string(reply_bytes(*reply).substr(7)) + " of its " + entries +
                                 " entries (the server lost them, the key was deleted, or the transaction was "
                                 "committed more than remember_checkpoints checkpoints ago)");
      }
      if (reply->type != REDIS_REPLY_INTEGER) return session.unexpected(*reply, "the stream sink's commit script");
      return Status::ok();
    });
  }

  Status recover(const std::vector<std::string>& committables) override {
    for (const std::string& committable : committables) {
      STREAMSTATE_RETURN_IF_ERROR(commit(committable).with_context("recovering"));
    }
    return discard_staged();
  }

  bool exactly_once() const override { return true; }
  std::string describe() const override {
    return "stream '" + layout_->options.stream_key + "' at Redis " + layout_->address;
  }

 private:
  // Deletes every staging list of this sink: after recover()'s commits, none belongs to a
  // transaction the restored checkpoint covers.
  Status discard_staged() {
    const std::string pattern = glob_escaped(layout_->prefix + ":staging:") + "*";
    std::vector<std::string> keys;
    STREAMSTATE_RETURN_IF_ERROR(connection_->run("listing staged transactions", [&](RedisSession& session) -> Status {
      keys.clear();
      std::string cursor = "0";
      do {
        STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply,
                                     session.call({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}));
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_ARRAY) {
          return session.unexpected(*reply, "SCAN");
        }
        cursor.assign(reply->element[0]->str, reply->element[0]->len);
        const redisReply& found = *reply->element[1];
        for (size_t i = 0; i < found.elements; ++i) keys.emplace_back(found.element[i]->str, found.element[i]->len);
      } while (cursor != "0");
      return Status::ok();
    }));
    for (const std::string& key : keys) {
      STREAMSTATE_RETURN_IF_ERROR(connection_->run("discarding " + key, [&](RedisSession& session) -> Status {
        STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply, session.call({"DEL", key}));
        return session.check(*reply, "DEL " + key);
      }));
    }
    return Status::ok();
  }

  std::shared_ptr<const RedisStreamSinkLayout> layout_;
  std::unique_ptr<RedisConnection> connection_;
  RedisScript script_;
};

Status validate(const RedisStreamSinkOptions& options) {
  if (options.stream_key.empty()) {
    return Status::invalid_argument("RedisStreamSinkOptions::stream_key is empty; name the stream to append to");
  }
  if (options.batch_entries == 0) return Status::invalid_argument("RedisStreamSinkOptions::batch_entries must be > 0");
  if (options.remember_checkpoints == 0) {
    return Status::invalid_argument("RedisStreamSinkOptions::remember_checkpoints must be > 0");
  }
  if (options.connect_timeout_millis <= 0 || options.command_timeout_millis <= 0) {
    return Status::invalid_argument("RedisStreamSinkOptions: the connect and command timeouts must be > 0");
  }
  return Status::ok();
}

}  // namespace

void encode_stream_entry(const RedisStreamFields& entry, std::string& out) {
  for (const auto& [field, value] : entry) {
    out += std::to_string(field.size());
    out.push_back(':');
    out += field;
    out += std::to_string(value.size());
    out.push_back(':');
    out += value;
  }
}

std::string encode_redis_transaction(const RedisStreamTransaction& transaction) {
  nlohmann::json json = {{"format", kFormat},
                         {"version", kVersion},
                         {"stream", transaction.stream},
                         {"prefix", transaction.prefix},
                         {"transaction", transaction.transaction},
                         {"checkpoint", transaction.checkpoint},
                         {"entries", transaction.entries}};
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<RedisStreamTransaction> decode_redis_transaction(const std::string& committable, const std::string& sink) {
  const std::string bad = "Redis stream sink " + sink + ": a committable ";
  STREAMSTATE_ASSIGN_OR_RETURN(const nlohmann::json json, parse_committable(committable, kFormat, kVersion, bad));
  const nlohmann::json* stream = json_member(json, "stream");
  const nlohmann::json* prefix = json_member(json, "prefix");
  const nlohmann::json* transaction = json_member(json, "transaction");
  const nlohmann::json* checkpoint = json_member(json, "checkpoint");
  const nlohmann::json* entries = json_member(json, "entries");
  for (const nlohmann::json* text : {stream, prefix, transaction}) {
    if (text == nullptr || !text->is_string()) return Status::corruption(bad + "with a missing field: " + committable);
  }
  for (const nlohmann::json* number : {checkpoint, entries}) {
    if (number == nullptr || !number->is_number_unsigned()) {
      return Status::corruption(bad + "with a missing field: " + committable);
    }
  }
  return RedisStreamTransaction{stream->get<std::string>(), prefix->get<std::string>(),
                                transaction->get<std::string>(), checkpoint->get<uint64_t>(),
                                entries->get<uint64_t>()};
}

}  // namespace internal

Result<std::unique_ptr<Sink<RedisStreamFields>>> redis_stream_entry_sink(const RedisStreamSinkOptions& options) {
  STREAMSTATE_RETURN_IF_ERROR(internal::validate(options));
  auto layout = std::make_shared<internal::RedisStreamSinkLayout>();
  layout->options = options;
  layout->prefix = options.key_prefix.empty() ? options.stream_key + ":streamstate" : options.key_prefix;
  layout->address = options.host + ":" + std::to_string(options.port);
  layout->connection.host = options.host;
  layout->connection.port = options.port;
  layout->connection.password = options.password;
  layout->connection.database = options.database;
  layout->connection.connect_timeout = std::chrono::milliseconds(options.connect_timeout_millis);
  layout->connection.command_timeout = std::chrono::milliseconds(options.command_timeout_millis);
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<internal::RedisConnection> connection,
                               internal::RedisConnection::open(layout->connection));
  auto sink = std::make_unique<internal::RedisStreamSink>(std::move(layout), std::move(connection));
  STREAMSTATE_RETURN_IF_ERROR(sink->load_script());
  return std::unique_ptr<Sink<RedisStreamFields>>(std::move(sink));
}

}  // namespace streamstate
