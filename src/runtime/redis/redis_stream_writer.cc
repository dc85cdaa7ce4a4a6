// The writer of one Redis Streams sink instance: stages entries in a list per transaction.
#include <utility>

#include "runtime/redis/redis_stream_sink.h"
#include "runtime/sinks/transaction_ids.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

// Redis' Lua unpack() takes a few thousand values; an entry's fields and values are unpacked
// into one XADD.
constexpr size_t kMaxFields = 1000;

}  // namespace

RedisStreamWriter::RedisStreamWriter(std::shared_ptr<const RedisStreamSinkLayout> layout,
                                     std::unique_ptr<RedisConnection> connection, const SinkWriterContext& context)
    : layout_(std::move(layout)),
      connection_(std::move(connection)),
      id_base_(safe_name_part(context.sink_name) + "-" + std::to_string(context.instance) + "-" +
               random_writer_token()) {}

std::string RedisStreamWriter::transaction_id() const { return id_base_ + "-" + std::to_string(transaction_); }

Status RedisStreamWriter::write(const RedisStreamFields& entry, int64_t /*event_time_millis*/) {
  if (closed_) return Status::closed("Redis stream sink " + layout_->options.stream_key + ": the writer is closed");
  if (entry.empty() || entry.size() > kMaxFields) {
    return Status::invalid_argument("Redis stream sink " + layout_->options.stream_key + ": an entry has " +
                                    std::to_string(entry.size()) + " fields; a stream entry needs 1 to " +
                                    std::to_string(kMaxFields));
  }
  std::string encoded;
  encode_stream_entry(entry, encoded);
  buffer_.push_back(std::move(encoded));
  return buffer_.size() >= layout_->options.batch_entries ? flush() : Status::ok();
}

Status RedisStreamWriter::flush() {
  if (buffer_.empty()) return Status::ok();
  const std::string key = layout_->staging_key(transaction_id());
  const uint64_t before = staged_;
  const uint64_t after = staged_ + buffer_.size();
  RedisArgs push{"RPUSH", key};
  for (const std::string& entry : buffer_) push.push_back(entry);
  STREAMSTATE_RETURN_IF_ERROR(connection_->run("staging entries in " + key, [&](RedisSession& session) -> Status {
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr length, session.call({"LLEN", key}));
    if (length->type != REDIS_REPLY_INTEGER) return session.unexpected(*length, "LLEN " + key);
    const auto found = static_cast<uint64_t>(length->integer);
    if (found == after) return Status::ok();  // pushed by an attempt whose reply was lost
    if (found != before) {
      return Status::data_loss("Redis at " + layout_->address + ": the staging list " + key + " holds " +
                               std::to_string(found) + " entries, " + std::to_string(before) +
                               " were staged (did the server restart without persistence, or was the key "
                               "changed?); the pipeline must restart from its last checkpoint");
    }
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr pushed, session.call(push));
    if (pushed->type != REDIS_REPLY_INTEGER) return session.unexpected(*pushed, "RPUSH " + key);
    return Status::ok();
  }));
  staged_ = after;
  buffer_.clear();
  return Status::ok();
}

Result<std::string> RedisStreamWriter::pre_commit(uint64_t checkpoint) {
  if (closed_) return Status::closed("Redis stream sink " + layout_->options.stream_key + ": the writer is closed");
  if (checkpoint <= last_checkpoint_) {
    return Status::failed_precondition("Redis stream sink " + layout_->options.stream_key + ": pre_commit(" +
                                       std::to_string(checkpoint) + ") after pre_commit(" +
                                       std::to_string(last_checkpoint_) + "); checkpoint ids must increase");
  }
  STREAMSTATE_RETURN_IF_ERROR(flush());
  last_checkpoint_ = checkpoint;
  if (staged_ == 0) return std::string();
  RedisStreamTransaction transaction{layout_->options.stream_key, layout_->prefix, transaction_id(), checkpoint,
                                     staged_};
  ++transaction_;
  staged_ = 0;
  return encode_redis_transaction(transaction);
}

Status RedisStreamWriter::close() {
  if (closed_) return Status::ok();
  closed_ = true;
  buffer_.clear();
  if (staged_ == 0) return Status::ok();
  const std::string key = layout_->staging_key(transaction_id());
  staged_ = 0;
  return connection_->run("discarding " + key, [&](RedisSession& session) -> Status {
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply, session.call({"DEL", key}));
    return session.check(*reply, "DEL " + key);
  });
}

}  // namespace streamstate::internal
