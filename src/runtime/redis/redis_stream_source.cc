// The Redis Streams source (streamstate/sources.h): one split per stream key, XREAD from the id
// of the last entry emitted. Each reader owns one connection (the Redis backend's
// RedisConnection, which reconnects on a dropped connection; XREAD only reads, so a retry is
// safe).

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "backend/redis/redis_connection.h"
#include "streamstate/sources.h"

namespace streamstate {

namespace {

using internal::RedisConnection;
using internal::RedisReplyPtr;
using internal::RedisSession;

// An entry id "<milliseconds>-<sequence>", ordered as Redis orders them.
struct StreamId {
  uint64_t millis = 0;
  uint64_t sequence = 0;
  friend auto operator<=>(const StreamId&, const StreamId&) = default;
};

std::optional<StreamId> parse_id(std::string_view text) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  StreamId id;
  auto parse = [](std::string_view part, uint64_t& value) {
    const char* end = part.data() + part.size();
    auto [ptr, error] = std::from_chars(part.data(), end, value);
    return !part.empty() && error == std::errc() && ptr == end;
  };
  if (!parse(text.substr(0, dash), id.millis) || !parse(text.substr(dash + 1), id.sequence)) return std::nullopt;
  return id;
}

std::string reply_text(const redisReply& reply) { return std::string(reply.str, reply.len); }

struct StreamCursor {
  SourceSplit split;
  std::optional<StreamId> end;  // stop_at_end: the last id to read; none = nothing to read
  bool done = false;
};

class RedisStreamReader final : public SourceReader<RedisStreamEntry> {
 public:
  RedisStreamReader(RedisStreamSourceOptions options, std::unique_ptr<RedisConnection> connection,
                    std::vector<StreamCursor> cursors)
      : options_(std::move(options)), connection_(std::move(connection)), cursors_(std::move(cursors)) {}

  Result<SourcePoll> poll(SourceOutput<RedisStreamEntry>& out, size_t max_records) override {
    std::vector<size_t> active;
    for (size_t i = 0; i < cursors_.size(); ++i) {
      if (!cursors_[i].done) active.push_back(i);
    }
    if (active.empty()) return SourcePoll::kEnd;
    // XREAD's COUNT is per stream: share max_records among the streams read.
    const size_t per_stream = (std::max<size_t>(1, max_records) + active.size() - 1) / active.size();
    const std::string count = std::to_string(std::min<size_t>(options_.batch_size, per_stream));
    const std::string block = std::to_string(options_.block_millis);
    std::vector<std::string> ids;
    for (size_t i : active) ids.push_back(cursors_[i].split.position.empty() ? "0-0" : cursors_[i].split.position);
    internal::RedisArgs args = {"XREAD", "COUNT", count};
    // A bounded reader's remaining entries are all there already: no need to wait.
    const bool wait = options_.block_millis > 0 && !options_.stop_at_end;
    if (wait) {
      args.push_back("BLOCK");
      args.push_back(block);
    }
    args.push_back("STREAMS");
    for (size_t i : active) args.push_back(cursors_[i].split.id);
    for (const std::string& id : ids) args.push_back(id);

    std::vector<bool> got_entries(cursors_.size(), false);
    size_t emitted = 0;
    Status read = connection_->run("XREAD of " + describe_streams(active), [&](RedisSession& session) -> Status {
      Result<RedisReplyPtr> reply = session.call(args);
      if (!reply.is_ok()) return reply.status();
      const redisReply& streams = **reply;
      if (streams.type == REDIS_REPLY_NIL) return Status::ok();
      Status rejected = session.check(streams, "XREAD of " + describe_streams(active));
      if (!rejected.is_ok()) return rejected;
      if (streams.type != REDIS_REPLY_ARRAY) {
        return session.unexpected(streams, "XREAD");
      }
      for (size_t s = 0; s < streams.elements; ++s) {
        const redisReply& stream = *streams.element[s];
        if (stream.type != REDIS_REPLY_ARRAY || stream.elements != 2) return session.unexpected(stream, "XREAD");
        const std::string key = reply_text(*stream.element[0]);
        auto cursor = std::find_if(cursors_.begin(), cursors_.end(),
                                   [&key](const StreamCursor& c) { return c.split.id == key; });
        if (cursor == cursors_.end()) continue;
        got_entries[static_cast<size_t>(cursor - cursors_.begin())] = true;
        // Streams are read side by side: a watermark per stream.
        out.select_split(static_cast<size_t>(cursor - cursors_.begin()));
        const redisReply& entries = *stream.element[1];
        for (size_t e = 0; e < entries.elements && !cursor->done; ++e) {
          const redisReply& entry = *entries.element[e];
          if (entry.type != REDIS_REPLY_ARRAY || entry.elements != 2) return session.unexpected(entry, "XREAD");
          RedisStreamEntry record;
          record.stream = key;
          record.id = reply_text(*entry.element[0]);
          const std::optional<StreamId> id = parse_id(record.id);
          if (!id) return Status::io_error("Redis sent stream " + key + " an entry id '" + record.id + "'");
          if (options_.stop_at_end && (!cursor->end || *id > *cursor->end)) {
            cursor->done = true;
            break;
          }
          const redisReply& fields = *entry.element[1];
          for (size_t f = 0; f + 1 < fields.elements; f += 2) {
            record.fields.emplace_back(reply_text(*fields.element[f]), reply_text(*fields.element[f + 1]));
          }
          cursor->split.position = record.id;
          out.emit(std::move(record));
          ++emitted;
          if (options_.stop_at_end && *id >= *cursor->end) cursor->done = true;
        }
      }
      return Status::ok();
    });
    if (!read.is_ok()) return read;
    if (options_.stop_at_end) {
      // Without waiting, a stream that returned nothing has nothing left (up to its end).
      for (size_t i : active) {
        if (!got_entries[i]) cursors_[i].done = true;
      }
      bool all_done = std::all_of(cursors_.begin(), cursors_.end(), [](const StreamCursor& c) { return c.done; });
      if (all_done) return SourcePoll::kEnd;
    }
    return emitted > 0 ? SourcePoll::kMore : SourcePoll::kIdle;
  }

  std::vector<SourceSplit> splits() const override {
    std::vector<SourceSplit> splits;
    for (const StreamCursor& cursor : cursors_) splits.push_back(cursor.split);
    return splits;
  }

 private:
  // "streams a after entry 5-0, b from the start at host:port": the splits and positions of a read.
  std::string describe_streams(const std::vector<size_t>& active) const {
    std::string text = active.size() > 1 ? "streams" : "stream";
    for (size_t k = 0; k < active.size(); ++k) {
      const SourceSplit& split = cursors_[active[k]].split;
      text += (k == 0 ? " " : ", ") + split.id +
              (split.position.empty() ? " from the start" : " after entry " + split.position);
    }
    return text + " at " + connection_->address();
  }

  RedisStreamSourceOptions options_;
  std::unique_ptr<RedisConnection> connection_;
  std::vector<StreamCursor> cursors_;
};

class RedisStreamSource final : public Source<RedisStreamEntry> {
 public:
  explicit RedisStreamSource(RedisStreamSourceOptions options) : options_(std::move(options)) {}

  Result<std::vector<SourceSplit>> discover_splits() override {
    Status valid = validate();
    if (!valid.is_ok()) return valid;
    std::vector<SourceSplit> splits;
    for (const std::string& stream : options_.streams) splits.push_back({stream, ""});
    return splits;
  }

  Result<std::unique_ptr<SourceReader<RedisStreamEntry>>> open_reader(std::vector<SourceSplit> splits,
                                                                      const SourceReaderContext& /*context*/) override {
    Status valid = validate();
    if (!valid.is_ok()) return valid;
    std::vector<StreamCursor> cursors;
    for (SourceSplit& split : splits) {
      for (const StreamCursor& other : cursors) {
        if (other.split.id == split.id) {
          return Status::invalid_argument("redis_stream_source: stream " + split.id + " was given twice");
        }
      }
      if (!split.position.empty() && !parse_id(split.position)) {
        return Status::invalid_argument("redis_stream_source: position '" + split.position + "' of stream " +
                                        split.id + " is not a stream entry id (<milliseconds>-<sequence>)");
      }
      cursors.push_back({std::move(split), std::nullopt, false});
    }
    Result<std::unique_ptr<RedisConnection>> connection = RedisConnection::open(connection_options());
    if (!connection.is_ok()) return connection.status().with_context("redis_stream_source");
    if (options_.stop_at_end) {
      for (StreamCursor& cursor : cursors) {
        Status ended = find_end(**connection, cursor);
        if (!ended.is_ok()) return ended.with_context("redis_stream_source");
      }
    }
    return std::unique_ptr<SourceReader<RedisStreamEntry>>(
        std::make_unique<RedisStreamReader>(options_, std::move(connection).value(), std::move(cursors)));
  }

  std::string describe() const override {
    std::string text = "Redis streams at " + options_.host + ":" + std::to_string(options_.port) + ":";
    for (const std::string& stream : options_.streams) text += " " + stream;
    return text;
  }

 private:
  Status validate() const {
    if (options_.streams.empty()) {
      return Status::invalid_argument("redis_stream_source: no stream to read: set RedisStreamSourceOptions::streams");
    }
    if (options_.batch_size == 0) {
      return Status::invalid_argument("redis_stream_source: RedisStreamSourceOptions::batch_size is 0");
    }
    if (std::chrono::milliseconds(options_.block_millis) >= options_.command_timeout) {
      return Status::invalid_argument("redis_stream_source: RedisStreamSourceOptions::block_millis (" +
                                      std::to_string(options_.block_millis) +
                                      ") must be below command_timeout (" +
                                      std::to_string(options_.command_timeout.count()) + " ms)");
    }
    return Status::ok();
  }

  RedisBackendOptions connection_options() const {
    RedisBackendOptions connection;
    connection.host = options_.host;
    connection.port = options_.port;
    connection.password = options_.password;
    connection.database = options_.database;
    connection.connect_timeout = options_.connect_timeout;
    connection.command_timeout = options_.command_timeout;
    return connection;
  }

  // stop_at_end: the id of the stream's last entry now (none for an empty or missing stream).
  static Status find_end(RedisConnection& connection, StreamCursor& cursor) {
    const std::string what = "XREVRANGE of stream " + cursor.split.id + " at " + connection.address();
    return connection.run(what, [&](RedisSession& session) -> Status {
      Result<RedisReplyPtr> reply = session.call({"XREVRANGE", cursor.split.id, "+", "-", "COUNT", "1"});
      if (!reply.is_ok()) return reply.status();
      Status rejected = session.check(**reply, what);
      if (!rejected.is_ok()) return rejected;
      if ((*reply)->type != REDIS_REPLY_ARRAY) return session.unexpected(**reply, what);
      if ((*reply)->elements == 0) {
        cursor.done = true;
        return Status::ok();
      }
      const redisReply& entry = *(*reply)->element[0];
      if (entry.type != REDIS_REPLY_ARRAY || entry.elements < 1) return session.unexpected(entry, what);
      cursor.end = parse_id(reply_text(*entry.element[0]));
      if (!cursor.end) return Status::io_error("Redis sent an entry id that is not one in reply to " + what);
      const std::optional<StreamId> position =
          cursor.split.position.empty() ? StreamId{} : parse_id(cursor.split.position);
      if (position && *position >= *cursor.end) cursor.done = true;
      return Status::ok();
    });
  }

  RedisStreamSourceOptions options_;
};

}  // namespace

int64_t RedisStreamEntry::id_millis() const {
  const std::optional<StreamId> parsed = parse_id(id);
  return parsed ? static_cast<int64_t>(parsed->millis) : 0;
}

std::shared_ptr<Source<RedisStreamEntry>> redis_stream_source(RedisStreamSourceOptions options) {
  return std::make_shared<RedisStreamSource>(std::move(options));
}

}  // namespace streamstate
