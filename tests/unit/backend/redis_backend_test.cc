// Redis-specific behaviour of RedisBackend: options, authentication, key layout and prefix
// isolation, sharing between instances, close, statistics and large binary values. The
// generic StateBackend contract is checked by the conformance suite.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "streamstate/redis.h"
#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using testing::RedisServer;
using testing::shared_redis_server;

// A key prefix no other test (of this or another process) uses.
std::string unique_prefix() {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  return ("b" + std::to_string(getpid()) + "-" + name).substr(0, 64);
}

RedisBackendOptions options_for(uint16_t port, const std::string& prefix) {
  RedisBackendOptions options;
  options.port = port;
  options.key_prefix = prefix;
  // Generous: these tests are about behaviour, not timeouts, and 16 MiB values move slowly on
  // a loaded machine (more so under sanitizers).
  options.connect_timeout = std::chrono::milliseconds(5000);
  options.command_timeout = std::chrono::milliseconds(30000);
  return options;
}

std::unique_ptr<RedisBackend> open_or_die(const RedisBackendOptions& options) {
  Result<std::unique_ptr<RedisBackend>> backend = RedisBackend::open(options);
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return backend.is_ok() ? std::move(backend).value() : nullptr;
}

TEST(RedisBackendOptionsTest, BadOptionsAreInvalidArgumentNamingTheOption) {
  RedisBackendOptions options = options_for(shared_redis_server().port(), "ok");
  options.host = "";
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "host");

  options = options_for(0, "ok");
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "port");

  for (const std::string& prefix : {std::string(), std::string("a:b"), std::string("a b"),
                                    std::string(65, 'p'), std::string("a*"), std::string("nul\0byte", 8)}) {
    options = options_for(shared_redis_server().port(), prefix);
    EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "key_prefix");
  }
  options = options_for(shared_redis_server().port(), std::string(64, 'p'));  // the longest allowed
  EXPECT_OK(RedisBackend::open(options));

  options = options_for(shared_redis_server().port(), "ok");
  options.pipeline_depth = 0;
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "pipeline_depth");
  options = options_for(shared_redis_server().port(), "ok");
  options.command_timeout = std::chrono::milliseconds(0);
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "command_timeout");
  options = options_for(shared_redis_server().port(), "ok");
  options.connect_timeout = std::chrono::milliseconds(-5);
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "connect_timeout");
  options = options_for(shared_redis_server().port(), "ok");
  options.reconnect_attempts = -1;
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "reconnect_attempts");
  options = options_for(shared_redis_server().port(), "ok");
  options.database = -1;
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "database");
}

TEST(RedisBackendOpenTest, NoServerIsUnavailableNamingHostAndPort) {
  Result<std::unique_ptr<RedisServer>> server = RedisServer::start();
  ASSERT_OK(server);
  const uint16_t port = (*server)->port();
  ASSERT_OK((*server)->stop());
  const std::string expected = "cannot connect to Redis at 127.0.0.1:" + std::to_string(port);
  Result<std::unique_ptr<RedisBackend>> backend = RedisBackend::open(options_for(port, "p"));
  EXPECT_STATUS(backend, StatusCode::kUnavailable, expected);
  EXPECT_STATUS(backend, StatusCode::kUnavailable, "is redis-server running?");
}

TEST(RedisBackendOpenTest, PasswordIsUsedAndAWrongOneIsAClearErrorThatDoesNotShowIt) {
  const std::string password = "correct horse battery staple";
  Result<std::unique_ptr<RedisServer>> server = RedisServer::start(password);
  ASSERT_OK(server);
  RedisBackendOptions options = options_for((*server)->port(), unique_prefix());

  options.password = password;
  std::unique_ptr<RedisBackend> backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  Result<std::shared_ptr<StateColumn>> column = backend->column("c");
  ASSERT_OK(column);
  EXPECT_OK((*column)->put("k", "v"));
  EXPECT_EQ((*column)->get("k").value(), std::optional<std::string>("v"));

  options.password = "wrong-password-value";
  Result<std::unique_ptr<RedisBackend>> wrong = RedisBackend::open(options);
  EXPECT_STATUS(wrong, StatusCode::kInvalidArgument, "AUTH");
  EXPECT_STATUS(wrong, StatusCode::kInvalidArgument, "password");
  EXPECT_EQ(wrong.status().message().find("wrong-password-value"), std::string::npos)
      << wrong.status().message();

  options.password = "";
  Result<std::unique_ptr<RedisBackend>> missing = RedisBackend::open(options);
  EXPECT_STATUS(missing, StatusCode::kInvalidArgument, "password");
}

TEST(RedisBackendTest, KeysFollowTheDocumentedLayout) {
  const std::string prefix = unique_prefix();
  std::unique_ptr<RedisBackend> backend = open_or_die(options_for(shared_redis_server().port(), prefix));
  ASSERT_NE(backend, nullptr);
  Result<std::shared_ptr<StateColumn>> column = backend->column("counts");
  ASSERT_OK(column);
  const std::string key("user\0-1", 7);
  ASSERT_OK((*column)->put(key, std::string("4\0002", 3)));

  // Layout 2: the registry, the key's group ("us" = 7573) in the column's group set, the entry
  // as its own string key and the key in the group's index, both under the hash tag {counts:7573}.
  const RedisServer& server = shared_redis_server();
  EXPECT_EQ(server.command({"HGET", prefix + ":meta", "layout"}).value(), std::vector<std::string>{"2"});
  EXPECT_EQ(server.command({"SMEMBERS", prefix + ":registry"}).value(), std::vector<std::string>{"counts"});
  EXPECT_EQ(server.command({"SMEMBERS", prefix + ":groups:counts"}).value(), std::vector<std::string>{"7573"});
  EXPECT_EQ(server.command({"GET", prefix + ":e{counts:7573}" + key}).value(),
            std::vector<std::string>{std::string("4\0002", 3)});
  EXPECT_EQ(server.command({"ZRANGE", prefix + ":i{counts:7573}", "0", "-1"}).value(),
            std::vector<std::string>{key});
  Result<std::vector<std::string>> all = server.command({"KEYS", prefix + ":*"});
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 5u);  // meta, registry, groups, entry, index: nothing else
}

TEST(RedisBackendTest, DifferentPrefixesOnOneServerDoNotSeeEachOther) {
  const uint16_t port = shared_redis_server().port();
  std::unique_ptr<RedisBackend> first = open_or_die(options_for(port, unique_prefix() + "-1"));
  std::unique_ptr<RedisBackend> second = open_or_die(options_for(port, unique_prefix() + "-2"));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto first_column = first->column("shared-name").value();
  auto second_column = second->column("shared-name").value();
  ASSERT_OK(first_column->put("k", "from-first"));
  ASSERT_OK(second_column->put("k", "from-second"));
  ASSERT_OK(first->column("only-first"));

  EXPECT_EQ(first_column->get("k").value(), std::optional<std::string>("from-first"));
  EXPECT_EQ(second_column->get("k").value(), std::optional<std::string>("from-second"));
  EXPECT_EQ(first->list_columns().value(), (std::vector<std::string>{"only-first", "shared-name"}));
  EXPECT_EQ(second->list_columns().value(), std::vector<std::string>{"shared-name"});
  ASSERT_OK(second_column->clear());
  EXPECT_EQ(first_column->get("k").value(), std::optional<std::string>("from-first"));
  EXPECT_STATUS(second->drop_column("only-first"), StatusCode::kNotFound, "only-first");
  EXPECT_EQ(first->statistics().live_entries, 1u);
  EXPECT_EQ(second->statistics().live_entries, 0u);
}

TEST(RedisBackendTest, TwoInstancesWithTheSamePrefixShareData) {
  const RedisBackendOptions options = options_for(shared_redis_server().port(), unique_prefix());
  std::unique_ptr<RedisBackend> first = open_or_die(options);
  std::unique_ptr<RedisBackend> second = open_or_die(options);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto written = first->column("events").value();
  ASSERT_OK(written->put("k", "v1"));
  EXPECT_EQ(second->list_columns().value(), std::vector<std::string>{"events"});
  auto read = second->column("events").value();
  EXPECT_EQ(read->get("k").value(), std::optional<std::string>("v1"));

  WriteBatch batch;
  batch.put("events", "k2", "v2");
  batch.remove("events", "k");
  ASSERT_OK(second->write(batch));
  EXPECT_EQ(written->get("k").value(), std::nullopt);
  EXPECT_EQ(written->get("k2").value(), std::optional<std::string>("v2"));

  // A column dropped by one instance is gone for the other too.
  ASSERT_OK(second->drop_column("events"));
  EXPECT_STATUS(first->write(batch), StatusCode::kNotFound, "events");
  EXPECT_TRUE(first->list_columns().value().empty());
}

TEST(RedisBackendTest, WritesThroughTheHandleOfADroppedColumnFailAndLeaveNothingBehind) {
  const RedisBackendOptions options = options_for(shared_redis_server().port(), unique_prefix());
  std::unique_ptr<RedisBackend> backend = open_or_die(options);
  std::unique_ptr<RedisBackend> other_process = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  ASSERT_NE(other_process, nullptr);
  auto stale = backend->column("c").value();
  ASSERT_OK(stale->put("k", "v"));
  ASSERT_OK(other_process->drop_column("c"));

  EXPECT_STATUS(stale->put("k2", "v"), StatusCode::kNotFound, "'c' does not exist");
  EXPECT_STATUS(stale->update("k3", [](std::optional<BytesView>) { return std::optional<std::string>("v"); }),
                StatusCode::kNotFound, "'c' does not exist");
  EXPECT_EQ(stale->get("k").value(), std::nullopt);
  EXPECT_OK(stale->remove("k"));

  // Created again, the column is empty, and the old handle works again.
  auto fresh = other_process->column("c").value();
  int entries = 0;
  ASSERT_OK(fresh->scan("", [&](BytesView, BytesView) { return ++entries > 0; }));
  EXPECT_EQ(entries, 0);
  ASSERT_OK(stale->put("k4", "v"));
  EXPECT_EQ(fresh->get("k4").value(), std::optional<std::string>("v"));
}

TEST(RedisBackendTest, LargeAndBinaryValuesRoundTrip) {
  std::unique_ptr<RedisBackend> backend =
      open_or_die(options_for(shared_redis_server().port(), unique_prefix()));
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("blobs").value();
  std::string big(16u << 20, '\0');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>(i % 251);
  const std::string zero_key("\0\0k\0", 4);
  ASSERT_OK(column->put(zero_key, big));
  ASSERT_OK(column->put("empty", ""));
  std::string value;
  ASSERT_TRUE(column->get_into(zero_key, value).value());
  EXPECT_TRUE(value == big);
  ASSERT_TRUE(column->get_into("empty", value).value());
  EXPECT_EQ(value, "");
  EXPECT_TRUE(column->contains("empty").value());

  WriteBatch batch;
  const std::string medium = big.substr(0, 1u << 20);
  batch.put("blobs", "medium", medium);
  batch.put("blobs", std::string("\0", 1), "");
  ASSERT_OK(backend->write(batch));
  EXPECT_TRUE(column->get("medium").value() == std::optional<std::string>(medium));
  EXPECT_EQ(column->get(std::string("\0", 1)).value(), std::optional<std::string>(""));
  EXPECT_EQ(column->get(std::string("\0\0k", 3)).value(), std::nullopt);
}

TEST(RedisBackendTest, EveryOperationAfterCloseIsClosed) {
  std::unique_ptr<RedisBackend> backend =
      open_or_die(options_for(shared_redis_server().port(), unique_prefix()));
  ASSERT_NE(backend, nullptr);
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  auto snapshot = backend->snapshot().value();
  auto iterator = snapshot->iterate("c").value();
  ASSERT_TRUE(iterator->valid());

  ASSERT_OK(backend->close());
  EXPECT_OK(backend->close());  // idempotent

  EXPECT_STATUS(backend->column("c"), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->list_columns(), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->drop_column("c"), StatusCode::kClosed, "closed");
  WriteBatch batch;
  batch.put("c", "k", "v");
  EXPECT_STATUS(backend->write(batch), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->write(WriteBatch()), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->snapshot(), StatusCode::kClosed, "closed");
  EXPECT_STATUS(backend->flush(), StatusCode::kClosed, "closed");

  std::string value;
  EXPECT_STATUS(column->get_into("k", value), StatusCode::kClosed, "closed");
  EXPECT_STATUS(column->put("k", "v"), StatusCode::kClosed, "closed");
  EXPECT_STATUS(column->remove("k"), StatusCode::kClosed, "closed");
  EXPECT_STATUS(column->contains("k"), StatusCode::kClosed, "closed");
  EXPECT_STATUS(column->update("k", [](std::optional<BytesView>) { return std::optional<std::string>("x"); }),
                StatusCode::kClosed, "closed");
  EXPECT_STATUS(column->scan("", [](BytesView, BytesView) { return true; }), StatusCode::kClosed, "closed");
  EXPECT_STATUS(column->clear(), StatusCode::kClosed, "closed");

  EXPECT_STATUS(snapshot->iterate("c"), StatusCode::kClosed, "closed");
  iterator->next();
  EXPECT_FALSE(iterator->valid());
  EXPECT_STATUS(iterator->status(), StatusCode::kClosed, "closed");
}

TEST(RedisBackendTest, StatisticsCountClientCallsAndLiveEntries) {
  std::unique_ptr<RedisBackend> backend =
      open_or_die(options_for(shared_redis_server().port(), unique_prefix()));
  ASSERT_NE(backend, nullptr);
  auto first = backend->column("a").value();
  auto second = backend->column("b").value();
  ASSERT_OK(first->put("1", "x"));
  ASSERT_OK(first->put("2", "x"));
  ASSERT_OK(second->put("1", "x"));
  EXPECT_EQ(first->get("1").value(), std::optional<std::string>("x"));
  EXPECT_EQ(first->get("missing").value(), std::nullopt);
  EXPECT_FALSE(second->contains("missing").value());
  ASSERT_OK(second->remove("1"));
  WriteBatch batch;
  batch.put("a", "3", "x");
  batch.remove("a", "1");
  ASSERT_OK(backend->write(batch));
  ASSERT_OK(first->update("4", [](std::optional<BytesView>) { return std::optional<std::string>("y"); }));
  ASSERT_OK(first->scan("", [](BytesView, BytesView) { return true; }));

  const BackendStatistics statistics = backend->statistics();
  EXPECT_EQ(statistics.gets, 3u);
  EXPECT_EQ(statistics.hits, 1u);
  EXPECT_EQ(statistics.misses, 2u);
  EXPECT_EQ(statistics.puts, 5u);     // 3 puts, 1 batch put, 1 update
  EXPECT_EQ(statistics.removes, 2u);  // 1 remove, 1 batch remove
  EXPECT_EQ(statistics.batches, 1u);
  EXPECT_EQ(statistics.scans, 1u);
  EXPECT_EQ(statistics.live_entries, 3u);  // a: 2, 3, 4; b: none
}

TEST(RedisBackendTest, DatabaseOptionSelectsTheLogicalDatabase) {
  const std::string prefix = unique_prefix();
  RedisBackendOptions options = options_for(shared_redis_server().port(), prefix);
  options.database = 3;
  std::unique_ptr<RedisBackend> backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  ASSERT_OK(backend->column("c"));
  // Database 0 (where the test's raw connection looks) does not hold the column set.
  Result<std::vector<std::string>> in_zero = shared_redis_server().command({"EXISTS", prefix + ":registry"});
  ASSERT_OK(in_zero);
  EXPECT_EQ(*in_zero, std::vector<std::string>{"0"});
  options.database = 0;
  std::unique_ptr<RedisBackend> other = open_or_die(options);
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->list_columns().value().empty());

  options.database = 100000;  // beyond the server's "databases" setting
  EXPECT_STATUS(RedisBackend::open(options), StatusCode::kInvalidArgument, "database");
}

}  // namespace
}  // namespace streamstate
