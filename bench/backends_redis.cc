// redis/* cases: RedisBackend against raw hiredis calls in the same run, on the same
// redis-server (started here on a free loopback port, persistence off), each side under its
// own key prefix but in the same key layout (internal::RedisKeys), so both send the same
// commands on keys of the same shape:
//   redis/put        ours put()                  raw EVALSHA of the backend's put script
//   redis/get        ours get_into()             raw GET of the entry key
//   redis/batch-put  ours write() of 512 puts    raw WATCH, SMISMEMBER, MULTI, SET+ZADD per put,
//                                                SADD per group, EXEC, pipelined the same way
//   redis/rmw        ours update()               raw WATCH+GET, then MULTI, SET, ZADD, SADD, EXEC
//   redis/map-read-scaling  a prefix scan of one user key's 4-entry map with 100,000 user keys
//                    in the state (ours) over the same with 1,000 (baseline): 1.0 = no growth.
// The per-key cases use the first kRedisKeys keys of the dataset (all when fewer): each
// operation is a network round trip of tens of microseconds.
#include "backends_suite.h"
#include "streamstate/config.h"

#if STREAMSTATE_HAS_REDIS

#include <hiredis/hiredis.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "backend/redis/redis_keys.h"
#include "backend/redis/redis_scripts.h"
#include "backends_redis_server.h"
#include "column_workloads.h"
#include "measure.h"
#include "streamstate/redis.h"
#include "streamstate/state_key.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

constexpr char kRawBaseline[] = "raw hiredis";
constexpr char kColumn[] = "values";
constexpr char kCounters[] = "counters";
constexpr uint64_t kRedisKeys = 50'000;
constexpr size_t kBatchSize = 512;
constexpr int kSmallMapUsers = 1'000;
constexpr int kLargeMapUsers = 100'000;
constexpr int kMapEntries = 4;
constexpr int kMapReads = 5'000;
constexpr uint32_t kMapKeyGroups = 128;

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// The raw side: a hiredis connection and the layout of its prefix.
class RawSide {
 public:
  RawSide(RawRedis context, const std::string& prefix) : context_(std::move(context)), keys_(prefix) {}

  const internal::RedisKeys& keys() const { return keys_; }

  Status append(const std::vector<BytesView>& args) {
    argv_.clear();
    lengths_.clear();
    for (BytesView arg : args) {
      argv_.push_back(arg.data());
      lengths_.push_back(arg.size());
    }
    if (redisAppendCommandArgv(context_.get(), static_cast<int>(args.size()), argv_.data(), lengths_.data()) !=
        REDIS_OK) {
      return Status::io_error(std::string("raw hiredis: ") + context_->errstr);
    }
    return Status::ok();
  }
  Result<Reply> read() {
    void* reply = nullptr;
    if (redisGetReply(context_.get(), &reply) != REDIS_OK || reply == nullptr) {
      return Status::io_error(std::string("raw hiredis: ") + context_->errstr);
    }
    Reply owned(static_cast<redisReply*>(reply));
    if (owned->type == REDIS_REPLY_ERROR) return Status::io_error("raw hiredis: " + std::string(owned->str));
    return owned;
  }
  Result<Reply> call(const std::vector<BytesView>& args) {
    STREAMSTATE_RETURN_IF_ERROR(append(args));
    return read();
  }

 private:
  RawRedis context_;
  internal::RedisKeys keys_;
  std::vector<const char*> argv_;
  std::vector<size_t> lengths_;
};

struct Fixture {
  std::unique_ptr<RedisBackend> backend;
  std::shared_ptr<StateColumn> values;
  std::shared_ptr<StateColumn> counters;
  std::unique_ptr<RawSide> raw;
  std::string put_sha;
  std::string put_body;
};

Result<Sample> raw_put_all(RawSide& raw, const std::string& sha, const Dataset& data) {
  const internal::RedisKeys& keys = raw.keys();
  const std::string groups = keys.groups(kColumn);
  std::string entry;
  Stopwatch watch;
  for (uint64_t i = 0; i < data.size(); ++i) {
    const BytesView key = data.key(i);
    const std::string group = internal::group_of(key);
    entry.clear();
    keys.append_entry(entry, kColumn, group, key);
    const std::string index = keys.index(kColumn, group);
    STREAMSTATE_ASSIGN_OR_RETURN(Reply reply, raw.call({"EVALSHA", sha, "4", keys.registry(), entry, index, groups,
                                                        kColumn, key, data.value(i), group}));
    if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1) return Status::internal("raw put: bad reply");
  }
  const double seconds = watch.seconds();
  return Sample{seconds, data.size(), data.size() * Dataset::kValueBytes};
}

Result<Sample> raw_get_all(RawSide& raw, const Dataset& data, const std::vector<uint32_t>& order) {
  std::string entry;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    entry.clear();
    raw.keys().append_entry(entry, kColumn, internal::group_of(data.key(i)), data.key(i));
    STREAMSTATE_ASSIGN_OR_RETURN(Reply reply, raw.call({"GET", entry}));
    if (reply->type != REDIS_REPLY_STRING) return Status::internal("raw get: key #" + std::to_string(i) + " missing");
    checksum += value_checksum(BytesView(reply->str, reply->len));
  }
  const double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

Result<Sample> our_batch_put_all(RedisBackend& backend, const Dataset& data) {
  WriteBatch batch;
  Stopwatch watch;
  for (uint64_t i = 0; i < data.size(); ++i) {
    batch.put(kColumn, data.key(i), data.value(i));
    if (batch.size() == kBatchSize || i + 1 == data.size()) {
      STREAMSTATE_RETURN_IF_ERROR(backend.write(batch));
      batch.clear();
    }
  }
  const double seconds = watch.seconds();
  return Sample{seconds, data.size(), data.size() * Dataset::kValueBytes};
}

// What write() sends for one batch of puts: see RedisBackendImpl::write_attempt.
Status raw_batch(RawSide& raw, const Dataset& data, uint64_t first, uint64_t end) {
  const internal::RedisKeys& keys = raw.keys();
  STREAMSTATE_ASSIGN_OR_RETURN(Reply watched, raw.call({"WATCH", keys.registry()}));
  STREAMSTATE_ASSIGN_OR_RETURN(Reply members, raw.call({"SMISMEMBER", keys.registry(), kColumn}));
  if (members->type != REDIS_REPLY_ARRAY || members->element[0]->integer != 1) {
    return Status::internal("raw batch: column missing");
  }
  size_t unread = 0;
  size_t queued = 0;
  auto read_pending = [&]() -> Status {
    for (; unread > 0; --unread) STREAMSTATE_RETURN_IF_ERROR(raw.read().status());
    return Status::ok();
  };
  auto queue = [&](const std::vector<BytesView>& args) -> Status {
    STREAMSTATE_RETURN_IF_ERROR(raw.append(args));
    ++queued;
    if (++unread >= kBatchSize) return read_pending();
    return Status::ok();
  };
  STREAMSTATE_RETURN_IF_ERROR(raw.append({"MULTI"}));
  ++unread;
  std::set<std::string> groups;
  std::string entry;
  for (uint64_t i = first; i < end; ++i) {
    const std::string group = internal::group_of(data.key(i));
    entry.clear();
    keys.append_entry(entry, kColumn, group, data.key(i));
    STREAMSTATE_RETURN_IF_ERROR(queue({"SET", entry, data.value(i)}));
    STREAMSTATE_RETURN_IF_ERROR(queue({"ZADD", keys.index(kColumn, group), "0", data.key(i)}));
    groups.insert(group);
  }
  const std::string groups_key = keys.groups(kColumn);
  for (const std::string& group : groups) STREAMSTATE_RETURN_IF_ERROR(queue({"SADD", groups_key, group}));
  STREAMSTATE_RETURN_IF_ERROR(raw.append({"EXEC"}));
  STREAMSTATE_RETURN_IF_ERROR(read_pending());
  STREAMSTATE_ASSIGN_OR_RETURN(Reply exec, raw.read());
  if (exec->type != REDIS_REPLY_ARRAY || exec->elements != queued) return Status::internal("raw batch: EXEC failed");
  return Status::ok();
}

Result<Sample> raw_batch_put_all(RawSide& raw, const Dataset& data) {
  Stopwatch watch;
  for (uint64_t first = 0; first < data.size(); first += kBatchSize) {
    STREAMSTATE_RETURN_IF_ERROR(raw_batch(raw, data, first, std::min<uint64_t>(first + kBatchSize, data.size())));
  }
  const double seconds = watch.seconds();
  return Sample{seconds, data.size(), data.size() * Dataset::kValueBytes};
}

Result<Sample> raw_increment_all(RawSide& raw, const Dataset& data, const std::vector<uint32_t>& order,
                                 uint64_t expected_before) {
  const internal::RedisKeys& keys = raw.keys();
  const std::string groups_key = keys.groups(kCounters);
  std::string entry;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint32_t i : order) {
    const BytesView key = data.key(i);
    const std::string group = internal::group_of(key);
    entry.clear();
    keys.append_entry(entry, kCounters, group, key);
    STREAMSTATE_RETURN_IF_ERROR(raw.append({"WATCH", entry}));
    STREAMSTATE_RETURN_IF_ERROR(raw.append({"GET", entry}));
    STREAMSTATE_RETURN_IF_ERROR(raw.read().status());
    STREAMSTATE_ASSIGN_OR_RETURN(Reply current, raw.read());
    const uint64_t counter = current->type == REDIS_REPLY_STRING && current->len == 8
                                 ? decode_fixed64(current->str)
                                 : ~uint64_t{0};
    if (counter != expected_before) return counter_mismatch("raw hiredis", i, counter, expected_before);
    checksum += counter;
    const std::string next = encode_counter(counter + 1);
    STREAMSTATE_RETURN_IF_ERROR(raw.append({"MULTI"}));
    STREAMSTATE_RETURN_IF_ERROR(raw.append({"SET", entry, next}));
    STREAMSTATE_RETURN_IF_ERROR(raw.append({"ZADD", keys.index(kCounters, group), "0", key}));
    STREAMSTATE_RETURN_IF_ERROR(raw.append({"SADD", groups_key, group}));
    STREAMSTATE_RETURN_IF_ERROR(raw.append({"EXEC"}));
    for (int reply = 0; reply < 4; ++reply) STREAMSTATE_RETURN_IF_ERROR(raw.read().status());
    STREAMSTATE_ASSIGN_OR_RETURN(Reply exec, raw.read());
    if (exec->type != REDIS_REPLY_ARRAY) return Status::internal("raw rmw: EXEC aborted without contention");
  }
  const double seconds = watch.seconds();
  return Sample{seconds, order.size(), checksum};
}

// A backend under `prefix` whose column "map" holds `users` user keys with 4 map entries each.
Result<std::unique_ptr<RedisBackend>> open_map_state(uint16_t port, const std::string& prefix, int users) {
  RedisBackendOptions options;
  options.port = port;
  options.key_prefix = prefix;
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RedisBackend> backend, RedisBackend::open(options));
  STREAMSTATE_RETURN_IF_ERROR(backend->column("map").status());
  WriteBatch batch;
  for (int user = 0; user < users; ++user) {
    const std::string user_key = "user-" + std::to_string(user);
    for (int entry = 0; entry < kMapEntries; ++entry) {
      batch.put("map", make_state_key(static_cast<uint32_t>(user) % kMapKeyGroups, user_key, "e" + std::to_string(entry)),
                "value-" + std::to_string(entry));
    }
    if (batch.size() >= 4096 || user + 1 == users) {
      STREAMSTATE_RETURN_IF_ERROR(backend->write(batch).with_context("filling " + prefix));
      batch.clear();
    }
  }
  return backend;
}

// Reads the map of kMapReads users (all among the first kSmallMapUsers, so present in both).
Result<Sample> read_maps(StateColumn& column) {
  uint64_t checksum = 0;
  uint64_t entries = 0;
  Stopwatch watch;
  for (int n = 0; n < kMapReads; ++n) {
    const uint32_t user = static_cast<uint32_t>((n * 7919) % kSmallMapUsers);
    const std::string prefix = user_key_prefix(user % kMapKeyGroups, "user-" + std::to_string(user));
    STREAMSTATE_RETURN_IF_ERROR(column.scan(prefix, [&](BytesView, BytesView value) {
      ++entries;
      checksum += value_checksum(value);
      return true;
    }));
  }
  const double seconds = watch.seconds();
  if (entries != static_cast<uint64_t>(kMapReads) * kMapEntries) {
    return Status::internal("map read found " + std::to_string(entries) + " entries, expected " +
                            std::to_string(kMapReads * kMapEntries));
  }
  return Sample{seconds, static_cast<uint64_t>(kMapReads), checksum};
}

Status run_cases(const BenchOptions& options, const Dataset& data, uint16_t port, Fixture& fixture,
                 std::vector<CaseResult>& results) {
  RawSide& raw = *fixture.raw;
  const SampleFunction ours_put = [&](int) { return put_all(*fixture.values, data); };
  const SampleFunction raw_put = [&](int) { return raw_put_all(raw, fixture.put_sha, data); };
  STREAMSTATE_RETURN_IF_ERROR(measure_and_add(results, options, {"redis/put", kRawBaseline}, ours_put, raw_put));

  const std::vector<uint32_t> get_order = data.random_order(1);
  const SampleFunction ours_get = [&](int) { return get_all(*fixture.values, data, get_order); };
  const SampleFunction raw_get = [&](int) { return raw_get_all(raw, data, get_order); };
  STREAMSTATE_RETURN_IF_ERROR(measure_and_add(results, options, {"redis/get", kRawBaseline}, ours_get, raw_get));

  const SampleFunction ours_batch = [&](int) { return our_batch_put_all(*fixture.backend, data); };
  const SampleFunction raw_batch_put = [&](int) { return raw_batch_put_all(raw, data); };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options, {"redis/batch-put", kRawBaseline}, ours_batch, raw_batch_put));

  // rmw: counters start at 0 on both sides; in measurement r every counter must read r.
  const std::vector<uint32_t> rmw_order = data.random_order(3);
  STREAMSTATE_RETURN_IF_ERROR(load_counters(*fixture.counters, data));
  {
    // The raw side's counters, written through a backend under the raw prefix (same layout).
    RedisBackendOptions raw_options;
    raw_options.port = port;
    raw_options.key_prefix = raw.keys().prefix();
    STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RedisBackend> loader, RedisBackend::open(raw_options));
    STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> counters, loader->column(kCounters));
    STREAMSTATE_RETURN_IF_ERROR(load_counters(*counters, data));
  }
  const SampleFunction ours_rmw = [&](int run) {
    return increment_all(*fixture.counters, data, rmw_order, static_cast<uint64_t>(run));
  };
  const SampleFunction raw_rmw = [&](int run) {
    return raw_increment_all(raw, data, rmw_order, static_cast<uint64_t>(run));
  };
  STREAMSTATE_RETURN_IF_ERROR(measure_and_add(results, options, {"redis/rmw", kRawBaseline}, ours_rmw, raw_rmw));

  if (!options.selects("redis/map-read-scaling")) return Status::ok();
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RedisBackend> small, open_map_state(port, "bench-map-1k", kSmallMapUsers));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RedisBackend> large,
                               open_map_state(port, "bench-map-100k", kLargeMapUsers));
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> small_map, small->column("map"));
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> large_map, large->column("map"));
  const SampleFunction with_100k = [&](int) { return read_maps(*large_map); };
  const SampleFunction with_1k = [&](int) { return read_maps(*small_map); };
  return measure_and_add(results, options,
                         {"redis/map-read-scaling", "the same reads with 1,000 keys in the state"}, with_100k,
                         with_1k);
}

}  // namespace

Status run_redis_backend_cases(const BenchOptions& options, const Dataset& full_data,
                               std::vector<CaseResult>& results) {
  Result<std::unique_ptr<BenchRedisServer>> server = BenchRedisServer::start();
  if (!server.is_ok() && server.status().code() == StatusCode::kFailedPrecondition) {
    std::cerr << "backends: redis/* skipped: " << server.status().message() << "\n";
    return Status::ok();
  }
  if (!server.is_ok()) return server.status().with_context("starting redis-server for the redis/* cases");
  const uint16_t port = (*server)->port();
  const Dataset data(std::min<uint64_t>(full_data.size(), kRedisKeys));

  Fixture fixture;
  RedisBackendOptions ours;
  ours.port = port;
  ours.key_prefix = "bench-ours";
  STREAMSTATE_ASSIGN_OR_RETURN(fixture.backend, RedisBackend::open(ours));
  STREAMSTATE_ASSIGN_OR_RETURN(fixture.values, fixture.backend->column(kColumn));
  STREAMSTATE_ASSIGN_OR_RETURN(fixture.counters, fixture.backend->column(kCounters));
  STREAMSTATE_ASSIGN_OR_RETURN(RawRedis context, connect_raw_redis(port));
  fixture.raw = std::make_unique<RawSide>(std::move(context), "bench-raw");
  // The raw side's registry names its columns, as column() would; the put script checks it.
  STREAMSTATE_RETURN_IF_ERROR(
      fixture.raw->call({"SADD", fixture.raw->keys().registry(), kColumn, kCounters}).status());
  const internal::RedisScripts scripts;
  STREAMSTATE_ASSIGN_OR_RETURN(Reply loaded, fixture.raw->call({"SCRIPT", "LOAD", scripts.put.body}));
  fixture.put_sha.assign(loaded->str, loaded->len);
  return run_cases(options, data, port, fixture, results);
}

}  // namespace streamstate::bench

#else  // !STREAMSTATE_HAS_REDIS

#include <iostream>

namespace streamstate::bench {

Status run_redis_backend_cases(const BenchOptions&, const Dataset&, std::vector<CaseResult>&) {
  std::cerr << "backends: this build has no Redis backend (STREAMSTATE_WITH_REDIS=OFF); redis/* skipped\n";
  return Status::ok();
}

}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_REDIS
