// A Redis server that restarts without persistence loses this backend's state: every later
// operation fails with DataLoss (instead of reads finding nothing and writes NotFound), and the
// missing persistence was reported at open.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "streamstate/redis.h"
#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using testing::RedisServer;

RedisBackendOptions options_for(uint16_t port) {
  RedisBackendOptions options;
  options.port = port;
  options.key_prefix = "lossy";
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.command_timeout = std::chrono::milliseconds(1000);
  return options;
}

TEST(RedisDataLossTest, OpenReportsAServerWithoutPersistence) {
  Result<std::unique_ptr<RedisServer>> started = RedisServer::start();
  ASSERT_OK(started);
  std::unique_ptr<RedisBackend> backend = RedisBackend::open(options_for((*started)->port())).value();
  const RedisBackendStatistics statistics = backend->redis_statistics();
  EXPECT_EQ(statistics.persistence, "appendonly=no save=''");
  EXPECT_NE(statistics.persistence_warning.find("neither AOF (appendonly no) nor RDB"), std::string::npos)
      << statistics.persistence_warning;
  EXPECT_NE(statistics.persistence_warning.find("key_prefix 'lossy'"), std::string::npos);
  EXPECT_FALSE(statistics.data_lost);

  // RDB snapshots alone count as persistence.
  ASSERT_OK((*started)->command({"CONFIG", "SET", "save", "3600 1"}));
  std::unique_ptr<RedisBackend> with_rdb = RedisBackend::open(options_for((*started)->port())).value();
  EXPECT_EQ(with_rdb->redis_statistics().persistence_warning, "");
  EXPECT_EQ(with_rdb->redis_statistics().persistence, "appendonly=no save='3600 1'");
}

TEST(RedisDataLossTest, RestartWithoutPersistenceDuringWritesFailsReadsAndWritesWithDataLoss) {
  Result<std::unique_ptr<RedisServer>> started = RedisServer::start();
  ASSERT_OK(started);
  RedisServer& server = **started;
  std::unique_ptr<RedisBackend> backend = RedisBackend::open(options_for(server.port())).value();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("before", "v"));

  // A writer keeps writing while the server restarts. While it is down, writes are Unavailable;
  // once it is back (empty), the first write learns of the loss: DataLoss, never NotFound.
  std::atomic<int> written{0};
  std::atomic<bool> give_up{false};  // set when the server does not come back
  StatusCode final_code = StatusCode::kOk;
  std::thread writer([&] {
    for (int i = 0; i < 1000000; ++i) {
      Status status = column->put("k" + std::to_string(i), "v");
      if (status.is_ok()) {
        written.fetch_add(1);
        continue;
      }
      final_code = status.code();
      if (status.code() != StatusCode::kUnavailable || give_up.load()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the server is coming back
    }
  });
  while (written.load() < 100) std::this_thread::yield();
  const Status restart = server.restart();
  give_up.store(!restart.is_ok());
  writer.join();
  ASSERT_OK(restart);
  EXPECT_EQ(final_code, StatusCode::kDataLoss);

  EXPECT_STATUS(column->get("before"), StatusCode::kDataLoss, "restarted");
  EXPECT_STATUS(column->get("before"), StatusCode::kDataLoss, "key_prefix 'lossy'");
  EXPECT_STATUS(column->contains("before"), StatusCode::kDataLoss, "restarted");
  EXPECT_STATUS(column->put("after", "v"), StatusCode::kDataLoss, "restarted");
  EXPECT_STATUS(column->remove("before"), StatusCode::kDataLoss, "restarted");
  EXPECT_STATUS(column->update("n", [](std::optional<BytesView>) { return std::optional<std::string>("1"); }),
                StatusCode::kDataLoss, "restarted");
  EXPECT_STATUS(column->scan("", [](BytesView, BytesView) { return true; }), StatusCode::kDataLoss, "restarted");
  WriteBatch batch;
  batch.put("c", "batched", "v");
  EXPECT_STATUS(backend->write(batch), StatusCode::kDataLoss, "restarted");
  EXPECT_STATUS(backend->column("c"), StatusCode::kDataLoss, "restarted");
  EXPECT_STATUS(backend->list_columns(), StatusCode::kDataLoss, "restarted");
  EXPECT_STATUS(backend->snapshot(), StatusCode::kDataLoss, "restarted");
  EXPECT_TRUE(backend->redis_statistics().data_lost);
  // Nothing was written to the restarted server by the failed calls.
  EXPECT_EQ(server.command({"DBSIZE"}).value(), std::vector<std::string>{"0"});

  // A backend opened anew starts from the empty server (e.g. to restore a checkpoint into).
  std::unique_ptr<RedisBackend> fresh = RedisBackend::open(options_for(server.port())).value();
  auto fresh_column = fresh->column("c").value();
  EXPECT_EQ(fresh_column->get("before").value(), std::nullopt);
  EXPECT_OK(fresh_column->put("after", "v"));
  EXPECT_FALSE(fresh->redis_statistics().data_lost);
}

}  // namespace
}  // namespace streamstate
