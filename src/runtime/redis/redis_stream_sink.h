// Internals of the exactly-once Redis Streams sink (streamstate/sinks.h, redis_stream_sink).
//
// Keys, with P the sink's key prefix (RedisStreamSinkOptions::key_prefix):
//   P:staging:<transaction>  a list: the staged entries of one transaction, in order, each
//                            encoded as netstrings "<length>:<bytes>" of field, value, ...
//   P:committed              a sorted set: the transactions already appended, scored by
//                            their checkpoint id (pruned remember_checkpoints behind)
// A transaction id is <sink>-<instance>-<writer token>-<number>; the random token keeps two
// runs of one instance apart.
//
// Commit is one Lua script: unless the transaction is in P:committed, it XADDs every staged
// entry to the stream, records the transaction and deletes its staging list - all or nothing
// as Redis runs a script, so a commit repeated (a retry, a recover) appends nothing.
//
// Committable: {"format":"streamstate.redis-stream-sink","version":1,"stream":S,"prefix":P,
//               "transaction":T,"checkpoint":C,"entries":N}
//
// Thread-safety: a RedisStreamWriter is used by one thread at a time; the sink's commit and
// recover may be called from any thread (its connection serializes them).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/redis/redis_connection.h"
#include "streamstate/redis.h"
#include "streamstate/sinks.h"

namespace streamstate::internal {

// What a sink and its writers share; immutable after creation.
struct RedisStreamSinkLayout {
  RedisStreamSinkOptions options;
  RedisBackendOptions connection;  // host, port, password, database, timeouts
  std::string prefix;              // the key prefix in effect
  std::string address;             // host:port, for messages

  std::string staging_key(const std::string& transaction) const { return prefix + ":staging:" + transaction; }
  std::string committed_key() const { return prefix + ":committed"; }
};

// Appends `entry` to `out` as netstrings of its fields and values.
void encode_stream_entry(const RedisStreamFields& entry, std::string& out);

struct RedisStreamTransaction {
  std::string stream;
  std::string prefix;
  std::string transaction;
  uint64_t checkpoint = 0;
  uint64_t entries = 0;
};

std::string encode_redis_transaction(const RedisStreamTransaction& transaction);
// Corruption (naming `sink`) when `committable` is not a Redis Streams sink's committable.
Result<RedisStreamTransaction> decode_redis_transaction(const std::string& committable, const std::string& sink);

class RedisStreamWriter final : public SinkWriter<RedisStreamFields> {
 public:
  RedisStreamWriter(std::shared_ptr<const RedisStreamSinkLayout> layout, std::unique_ptr<RedisConnection> connection,
                    const SinkWriterContext& context);
  // Leaves the open transaction's staged entries in Redis, as a crash would.
  ~RedisStreamWriter() override = default;

  Status write(const RedisStreamFields& entry, int64_t event_time_millis) override;
  Result<std::string> pre_commit(uint64_t checkpoint) override;
  // Deletes the open transaction's staged entries.
  Status close() override;

 private:
  std::string transaction_id() const;
  // Appends the buffered entries to the staging list (idempotently: a retry after a lost reply
  // finds them there and does not push them twice).
  Status flush();

  std::shared_ptr<const RedisStreamSinkLayout> layout_;
  std::unique_ptr<RedisConnection> connection_;
  std::string id_base_;  // <sink>-<instance>-<token>
  uint64_t transaction_ = 0;
  uint64_t staged_ = 0;  // entries of the open transaction already in its staging list
  uint64_t last_checkpoint_ = 0;
  bool closed_ = false;
  std::vector<std::string> buffer_;  // encoded entries not yet sent
};

}  // namespace streamstate::internal
