// Checkpoints of the Redis backend through the StateBackend interface (the snapshot is the
// server-side copy redis.h describes): restore into Redis and memory, and memory into Redis.
// Built only with Redis (not in the ThreadSanitizer build); starts its own redis-server.
#include <gtest/gtest.h>

#include "streamstate/checkpoint.h"
#include "streamstate/redis.h"
#include "testutil/redis_server.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

std::unique_ptr<RedisBackend> open_redis(const std::string& prefix) {
  RedisBackendOptions options;
  options.port = shared_redis_server().port();
  options.key_prefix = prefix + "-" + std::to_string(::getpid());
  auto backend = RedisBackend::open(options);
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return std::move(backend).value();
}

TEST(CheckpointRedisTest, RestoresIntoRedisAndMemoryAndBack) {
  auto source = open_redis("chk-source");
  Contents expected = fill(*source, 1500);
  auto storage = open_memory_storage();
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(kNow);
  auto info = write_checkpoint(*source, *storage, options);
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(info->manifest.backend_kind, "redis");

  auto into_redis = open_redis("chk-target");
  ASSERT_OK(restore_checkpoint(*storage, 1, *into_redis, {.key_groups = {}, .states = {}, .threads = 2}));
  EXPECT_EQ(read_all(*into_redis), expected);
  auto into_memory = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 1, *into_memory, {}));
  EXPECT_EQ(read_all(*into_memory), expected);

  auto memory_storage = open_memory_storage();
  ASSERT_OK(write_checkpoint(*into_memory, *memory_storage, options));
  auto again = open_redis("chk-again");
  ASSERT_OK(restore_latest_checkpoint(*memory_storage, *again, {}));
  EXPECT_EQ(read_all(*again), expected);
}

}  // namespace
}  // namespace streamstate::testing
