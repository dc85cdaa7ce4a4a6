// The Redis backend when the server goes away, comes back, or stops answering: operations
// fail with Unavailable naming host:port within the configured timeouts, and the same backend
// works again once the server is back with its data (a server back without it: see
// redis_data_loss_test.cc).

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "streamstate/redis.h"
#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using testing::RedisServer;
using Clock = std::chrono::steady_clock;

// Short timeouts so that failures are quick; the bound checked below is far above them.
RedisBackendOptions quick_options(uint16_t port) {
  RedisBackendOptions options;
  options.port = port;
  options.key_prefix = "conn";
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.command_timeout = std::chrono::milliseconds(1000);
  options.reconnect_attempts = 2;
  return options;
}

// Generous: one operation waits at most (1 + reconnects) x (connect + command timeout) plus
// pauses, about 6 s; a refused connection fails at once.
constexpr auto kNoHangBound = std::chrono::seconds(15);

class RedisConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<RedisServer>> server = RedisServer::start();
    ASSERT_OK(server);
    server_ = std::move(server).value();
    Result<std::unique_ptr<RedisBackend>> backend = RedisBackend::open(quick_options(server_->port()));
    ASSERT_OK(backend);
    backend_ = std::move(backend).value();
    column_ = backend_->column("c").value();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisBackend> backend_;
  std::shared_ptr<StateColumn> column_;
};

TEST_F(RedisConnectionTest, StoppedServerIsUnavailableNamingHostAndPortWithoutHanging) {
  ASSERT_OK(column_->put("k", "v"));
  ASSERT_OK(server_->stop());

  const auto start = Clock::now();
  EXPECT_STATUS(column_->put("k", "v2"), StatusCode::kUnavailable, address());
  EXPECT_STATUS(column_->get("k"), StatusCode::kUnavailable, address());
  WriteBatch batch;
  batch.put("c", "k", "v");
  EXPECT_STATUS(backend_->write(batch), StatusCode::kUnavailable, address());
  EXPECT_STATUS(backend_->snapshot(), StatusCode::kUnavailable, address());
  EXPECT_STATUS(
      column_->update("k", [](std::optional<BytesView>) { return std::optional<std::string>("x"); }),
      StatusCode::kUnavailable, address());
  EXPECT_STATUS(column_->scan("", [](BytesView, BytesView) { return true; }), StatusCode::kUnavailable,
                "is redis-server running?");
  EXPECT_LT(Clock::now() - start, kNoHangBound);
  EXPECT_EQ(backend_->statistics().live_entries, 0u);  // best effort: no figure, no error
}

TEST(RedisReconnectTest, SameBackendWorksAgainAfterAPersistentServerRestarts) {
  Result<std::unique_ptr<RedisServer>> started =
      RedisServer::start("", RedisServer::Persistence::kAppendOnlyFile);
  ASSERT_OK(started);
  RedisServer& server = **started;
  std::unique_ptr<RedisBackend> backend = RedisBackend::open(quick_options(server.port())).value();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("before", "v"));
  EXPECT_EQ(backend->redis_statistics().persistence_warning, "");  // AOF is on

  ASSERT_OK(server.restart());  // a new server process (new run_id) that reloads the AOF
  EXPECT_EQ(column->get("before").value(), std::optional<std::string>("v"));
  ASSERT_OK(column->put("after", "v"));
  WriteBatch batch;
  batch.put("c", "batched", "v");
  EXPECT_OK(backend->write(batch));
  EXPECT_OK(column->update("n", [](std::optional<BytesView>) { return std::optional<std::string>("1"); }));

  // A restart while the backend is idle between two calls is noticed and repaired, too.
  ASSERT_OK(server.stop());
  EXPECT_STATUS(column->get("after"), StatusCode::kUnavailable, "127.0.0.1:" + std::to_string(server.port()));
  ASSERT_OK(server.restart());
  EXPECT_EQ(column->get("after").value(), std::optional<std::string>("v"));
  EXPECT_EQ(column->get("n").value(), std::optional<std::string>("1"));
  EXPECT_OK(column->put("again", "v"));
  EXPECT_FALSE(backend->redis_statistics().data_lost);
}

TEST_F(RedisConnectionTest, AConnectionKilledByTheServerIsReopenedWithoutDataLoss) {
  ASSERT_OK(column_->put("before", "v"));
  ASSERT_OK(server_->command({"CLIENT", "KILL", "TYPE", "normal"}));  // same server process
  EXPECT_EQ(column_->get("before").value(), std::optional<std::string>("v"));
  EXPECT_FALSE(backend_->redis_statistics().data_lost);
}

TEST_F(RedisConnectionTest, ServerThatStopsAnsweringTimesOut) {
  ASSERT_OK(column_->put("k", "v"));
  ASSERT_OK(server_->pause());
  const auto start = Clock::now();
  EXPECT_STATUS(column_->get("k"), StatusCode::kUnavailable, address());
  EXPECT_LT(Clock::now() - start, kNoHangBound);
  ASSERT_OK(server_->resume());
  EXPECT_EQ(column_->get("k").value(), std::optional<std::string>("v"));
}

}  // namespace
}  // namespace streamstate
