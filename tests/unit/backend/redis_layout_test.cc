// The Redis key layout (version 2): updates of different keys never abort each other (across
// threads and processes), a prefix scan of
// one key group and user key reads only that user key's entries, every key of one key group
// carries the same hash tag, and a prefix written by another layout is refused.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/redis.h"
#include "streamstate/state_key.h"
#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"
#include "unit/backend/redis_test_helpers.h"

namespace streamstate {
namespace {

using testing::RedisServer;
using testing::increment_counter;
using testing::open_redis_backend;
using testing::unique_redis_prefix;
using testing::shared_redis_server;

std::string unique_prefix() { return unique_redis_prefix("l"); }

std::unique_ptr<RedisBackend> open_backend(uint16_t port, const std::string& prefix) {
  RedisBackendOptions options;
  options.port = port;
  options.key_prefix = prefix;
  return open_redis_backend(options);
}

TEST(RedisLayoutTest, AnUpdateIsAbortedByAWriteToItsKeyOnly) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> ours = open_backend(shared_redis_server().port(), prefix);
  std::unique_ptr<RedisBackend> other_process = open_backend(shared_redis_server().port(), prefix);
  ASSERT_NE(ours, nullptr);
  ASSERT_NE(other_process, nullptr);
  auto column = ours->column("c").value();
  auto other = other_process->column("c").value();
  // Same key group (first two bytes) and same user key: only the namespace differs.
  const std::string key = make_state_key(7, "user", "a");
  const std::string neighbour = make_state_key(7, "user", "b");

  // Another client writes a different key of the same column and group between our read and
  // our EXEC: the update goes through at the first attempt.
  int calls = 0;
  Status interfering;
  Status updated = column->update(key, [&](std::optional<BytesView> current) {
    if (++calls == 1) interfering = other->put(neighbour, "x");
    return increment_counter(current);
  });
  ASSERT_OK(updated);
  ASSERT_OK(interfering);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ours->redis_statistics().update_conflicts, 0u);
  EXPECT_EQ(ours->redis_statistics().update_attempts, 1u);

  // The same key written meanwhile: EXEC fails, and the update runs again on the new value.
  calls = 0;
  updated = column->update(key, [&](std::optional<BytesView> current) {
    if (++calls == 1) interfering = other->put(key, "10");
    return increment_counter(current);
  });
  ASSERT_OK(updated);
  ASSERT_OK(interfering);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(ours->redis_statistics().update_conflicts, 1u);
  EXPECT_EQ(column->get(key).value(), std::optional<std::string>("11"));
}

TEST(RedisLayoutTest, ScriptsFlushedFromTheServerAreSentAgain) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> backend = open_backend(shared_redis_server().port(), prefix);
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("k", "1"));
  // As after a restart that kept the data: the script cache is empty.
  ASSERT_OK(shared_redis_server().command({"SCRIPT", "FLUSH"}));
  ASSERT_OK(column->put("k", "5"));  // EVALSHA answers NOSCRIPT, then EVAL
  EXPECT_EQ(column->get("k").value(), std::optional<std::string>("5"));
  ASSERT_OK(shared_redis_server().command({"SCRIPT", "FLUSH"}));
  ASSERT_OK(column->remove("k"));
  EXPECT_EQ(column->get("k").value(), std::nullopt);
  ASSERT_OK(shared_redis_server().command({"SCRIPT", "FLUSH"}));
  ASSERT_OK(backend->drop_column("c"));
  EXPECT_TRUE(backend->list_columns().value().empty());
}

TEST(RedisLayoutTest, TwoClientsUpdatingDisjointKeysOfOneColumnNeverAbortEachOther) {
  const std::string prefix = unique_prefix();
  constexpr int kClients = 2;
  constexpr int kKeysPerClient = 8;
  constexpr int kRounds = 300;
  std::vector<std::unique_ptr<RedisBackend>> backends;
  for (int i = 0; i < kClients; ++i) backends.push_back(open_backend(shared_redis_server().port(), prefix));
  for (const auto& backend : backends) ASSERT_NE(backend, nullptr);
  std::vector<std::thread> clients;
  std::atomic<int> failures{0};
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      auto column = backends[client]->column("counts").value();
      for (int round = 0; round < kRounds; ++round) {
        for (int k = 0; k < kKeysPerClient; ++k) {
          // Both clients use the same key groups; only the user keys differ.
          const std::string key =
              make_state_key(static_cast<uint32_t>(k), "client-" + std::to_string(client), "n");
          if (!column->update(key, increment_counter).is_ok()) failures.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : clients) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto column = backends[0]->column("counts").value();
  for (int client = 0; client < kClients; ++client) {
    const RedisBackendStatistics statistics = backends[client]->redis_statistics();
    EXPECT_EQ(statistics.update_conflicts, 0u) << "client " << client;
    EXPECT_EQ(statistics.update_attempts, static_cast<uint64_t>(kRounds * kKeysPerClient));
    for (int k = 0; k < kKeysPerClient; ++k) {
      const std::string key = make_state_key(static_cast<uint32_t>(k), "client-" + std::to_string(client), "n");
      EXPECT_EQ(column->get(key).value(), std::optional<std::string>(std::to_string(kRounds)));
    }
  }
}

// The processes' exit codes: 0 = every update went through at its first attempt.
constexpr int kChildAllFirstAttempts = 0;
constexpr int kChildConflicts = 1;
constexpr int kChildFailed = 2;

// In a forked child: its own backend (its own connection, as another process would have),
// `rounds` increments of each of its keys; the exit code says how it went.
[[noreturn]] void run_updating_child(uint16_t port, const std::string& prefix, int child, int rounds, int keys) {
  RedisBackendOptions options;
  options.port = port;
  options.key_prefix = prefix;
  Result<std::unique_ptr<RedisBackend>> backend = RedisBackend::open(options);
  if (!backend.is_ok()) _exit(kChildFailed);
  Result<std::shared_ptr<StateColumn>> column = (*backend)->column("counts");
  if (!column.is_ok()) _exit(kChildFailed);
  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < keys; ++k) {
      const std::string key = make_state_key(static_cast<uint32_t>(k), "process-" + std::to_string(child), "n");
      if (!(*column)->update(key, increment_counter).is_ok()) _exit(kChildFailed);
    }
  }
  const RedisBackendStatistics statistics = (*backend)->redis_statistics();
  _exit(statistics.update_conflicts == 0 ? kChildAllFirstAttempts : kChildConflicts);
}

TEST(RedisLayoutTest, TwoProcessesUpdatingDisjointKeysOfOneColumnNeverAbortEachOther) {
  const std::string prefix = unique_prefix();
  const uint16_t port = shared_redis_server().port();
  std::unique_ptr<RedisBackend> backend = open_backend(port, prefix);
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("counts").value();
  constexpr int kRounds = 300;
  constexpr int kKeys = 8;
  std::vector<pid_t> children;
  for (int child = 0; child < 2; ++child) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) run_updating_child(port, prefix, child, kRounds, kKeys);
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), kChildAllFirstAttempts)
        << (WEXITSTATUS(status) == kChildConflicts ? "an update was aborted by the other process" : "failed");
  }
  for (int child = 0; child < 2; ++child) {
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = make_state_key(static_cast<uint32_t>(k), "process-" + std::to_string(child), "n");
      EXPECT_EQ(column->get(key).value(), std::optional<std::string>(std::to_string(kRounds)));
    }
  }
}

// The value of `field` in an INFO reply ("field:value" or "cmdstat_x:calls=N,..."), or 0.
uint64_t info_number(const std::string& info, const std::string& field, const std::string& key = "") {
  const size_t at = info.find(field + ":" + key);
  if (at == std::string::npos) return 0;
  return std::stoull(info.substr(at + field.size() + 1 + key.size()));
}

struct ServerWork {
  uint64_t commands = 0;       // commands other than INFO and CONFIG
  uint64_t keys_looked_up = 0; // keyspace hits + misses
  uint64_t zrangebylex = 0;
};

ServerWork server_work(const RedisServer& server) {
  const std::string commandstats = server.command({"INFO", "commandstats"}).value().at(0);
  const std::string stats = server.command({"INFO", "stats"}).value().at(0);
  ServerWork work;
  work.keys_looked_up = info_number(stats, "keyspace_hits") + info_number(stats, "keyspace_misses");
  work.zrangebylex = info_number(commandstats, "cmdstat_zrangebylex", "calls=");
  size_t at = 0;
  while ((at = commandstats.find("cmdstat_", at)) != std::string::npos) {
    const size_t colon = commandstats.find(':', at);
    const std::string name = commandstats.substr(at + 8, colon - at - 8);
    if (name != "info" && name != "config|resetstat" && name != "config") {
      work.commands += info_number(commandstats.substr(at), "cmdstat_" + name, "calls=");
    }
    at = colon;
  }
  return work;
}

// Fills `users` user keys x 4 map entries, spread over 128 key groups.
void fill_map_state(RedisBackend& backend, int users) {
  WriteBatch batch;
  for (int user = 0; user < users; ++user) {
    const std::string user_key = "user-" + std::to_string(user);
    for (int entry = 0; entry < 4; ++entry) {
      batch.put("map", make_state_key(static_cast<uint32_t>(user % 128), user_key, "e" + std::to_string(entry)), "v");
    }
    if (batch.size() >= 4000) {
      ASSERT_OK(backend.write(batch));
      batch = WriteBatch();
    }
  }
  if (!batch.empty()) ASSERT_OK(backend.write(batch));
}

TEST(RedisLayoutTest, APrefixScanOfOneUserKeyReadsOnlyItsEntriesWhateverTheColumnSize) {
  Result<std::unique_ptr<RedisServer>> started = RedisServer::start();
  ASSERT_OK(started);
  RedisServer& server = **started;
  std::vector<ServerWork> work_per_size;
  for (int users : {1000, 20000}) {
    const std::string prefix = "scaling-" + std::to_string(users);
    std::unique_ptr<RedisBackend> backend = open_backend(server.port(), prefix);
    ASSERT_NE(backend, nullptr);
    ASSERT_OK(backend->column("map"));
    fill_map_state(*backend, users);
    auto column = backend->column("map").value();
    ASSERT_OK(server.command({"CONFIG", "RESETSTAT"}));
    std::vector<std::string> visited;
    ASSERT_OK(column->scan(user_key_prefix(777 % 128, "user-777"), [&](BytesView key, BytesView) {
      visited.emplace_back(key);
      return true;
    }));
    work_per_size.push_back(server_work(server));
    std::vector<std::string> expected;
    for (int entry = 0; entry < 4; ++entry) expected.push_back(make_state_key(777 % 128, "user-777", "e" + std::to_string(entry)));
    EXPECT_EQ(visited, expected);  // exactly its entries, in byte order
  }
  for (const ServerWork& work : work_per_size) {
    // One ZRANGEBYLEX of the group's index and one MGET of the 4 entries: no paging through the
    // column (which took 2 x users / 512 HSCAN pages in layout 1).
    EXPECT_EQ(work.commands, 2u);
    EXPECT_EQ(work.zrangebylex, 1u);
    EXPECT_EQ(work.keys_looked_up, 5u);  // the index and the four entries
  }
}

TEST(RedisLayoutTest, PrefixScansOfEveryLengthSeeExactlyTheMatchingKeys) {
  const std::string prefix = unique_prefix();
  RedisBackendOptions options;
  options.port = shared_redis_server().port();
  options.key_prefix = prefix;
  options.pipeline_depth = 3;  // several pages per group
  std::unique_ptr<RedisBackend> backend = RedisBackend::open(options).value();
  auto column = backend->column("c").value();
  // Short keys, keys with zero and 0xff bytes, keys that are prefixes of others.
  std::vector<std::string> keys = {"", "a", std::string("\0", 1), std::string("\xff", 1), std::string("\xff\xff", 2),
                                   std::string("\xff\xff\xff", 3), "ab", "abc", "abd", std::string("a\0", 2),
                                   std::string("a\0b", 3), "b", "ba", "bab", std::string("\xff\x00z", 3)};
  std::mt19937 random(7);
  for (int i = 0; i < 40; ++i) {
    std::string key;
    for (int b = 0; b < 1 + static_cast<int>(random() % 5); ++b) key.push_back("ab\0\xff"[random() % 4]);
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const std::string& key : keys) ASSERT_OK(column->put(key, "v" + key));
  std::vector<std::string> prefixes = {"", "a", "ab", "abc", std::string("\xff", 1), std::string("\xff\xff", 2),
                                       std::string("\xff\xff\xff\xff", 4), std::string("a\0", 2), "zz"};
  for (const std::string& scan_prefix : prefixes) {
    std::vector<std::string> expected;
    for (const std::string& key : keys) {
      if (key.starts_with(scan_prefix)) expected.push_back(key);
    }
    std::vector<std::string> visited;
    ASSERT_OK(column->scan(scan_prefix, [&](BytesView key, BytesView value) {
      EXPECT_EQ(value, "v" + std::string(key));
      visited.emplace_back(key);
      return true;
    }));
    EXPECT_EQ(visited, expected) << "prefix of " << scan_prefix.size() << " bytes";
  }
}

TEST(RedisLayoutTest, EveryKeyOfOneKeyGroupCarriesTheSameHashTag) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> backend = open_backend(shared_redis_server().port(), prefix);
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c").value();
  for (uint32_t group : {0u, 1u, 300u}) {
    for (const char* user : {"u1", "u2"}) ASSERT_OK(column->put(make_state_key(group, user, "n"), "v"));
  }
  auto snapshot = backend->snapshot().value();
  const std::vector<std::string> all = shared_redis_server().command({"KEYS", prefix + ":*"}).value();
  std::map<std::string, int> keys_per_tag;
  for (const std::string& key : all) {
    const size_t open = key.find('{');
    if (open == std::string::npos) continue;  // meta, registry, group set, snapshot counter
    const size_t close = key.find('}', open);
    ASSERT_NE(close, std::string::npos) << key;
    ++keys_per_tag[key.substr(open + 1, close - open - 1)];
  }
  // Per group: two entries, the index and the snapshot copy.
  EXPECT_EQ(keys_per_tag, (std::map<std::string, int>{{"c:0000", 4}, {"c:0001", 4}, {"c:012c", 4}}));
}

TEST(RedisLayoutTest, APrefixHoldingTheOldLayoutIsRefusedWithAClearMessage) {
  const std::string prefix = unique_prefix();
  ASSERT_OK(shared_redis_server().command({"SADD", prefix + ":columns", "counts"}));
  ASSERT_OK(shared_redis_server().command({"HSET", prefix + ":col:counts", "k", "v"}));
  RedisBackendOptions options;
  options.port = shared_redis_server().port();
  options.key_prefix = prefix;
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kFailedPrecondition, "layout 1");
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kFailedPrecondition, "key_prefix '" + prefix + "'");
  // Nothing was written under the prefix.
  EXPECT_EQ(shared_redis_server().command({"EXISTS", prefix + ":meta"}).value(), std::vector<std::string>{"0"});

  ASSERT_OK(shared_redis_server().command({"HSET", prefix + ":meta", "layout", "3"}));
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kFailedPrecondition, "layout 3");
}

}  // namespace
}  // namespace streamstate
