// The backend registry's rocksdb and redis kinds: required and optional options reach the
// backend, bad options are named, and a cleanup interval sweeps expired entries.
#include "streamstate/backend_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "backend_registry_test_util.h"
#include "streamstate/config.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#endif
#if STREAMSTATE_HAS_REDIS
#include "testutil/redis_server.h"
#endif

namespace streamstate {
namespace {

using namespace registry_test;
using std::chrono::milliseconds;
using testing::TempDir;

// ---- rocksdb

#if STREAMSTATE_HAS_ROCKSDB
// The newest file of `directory` whose name starts with `prefix`, as text.
std::string read_rocksdb_file(const std::string& directory, const std::string& prefix) {
  std::string newest;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name > newest) newest = name;
  }
  std::ifstream in(directory + "/" + newest);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(BackendRegistryRocksDb, PathIsRequired) {
  StateConfig config;
  config.backend = "rocksdb";
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "backend 'rocksdb' needs backend_options[\"path\"] (the database directory); add it to "
                "StateConfig.backend_options");
}

TEST(BackendRegistryRocksDb, OpensPersistsAndReopens) {
  TempDir directory;
  StateConfig config;
  config.backend = "rocksdb";
  config.backend_options = {{"path", directory.file("db")}, {"block_cache_bytes", "1048576"}};
  {
    auto backend = open_backend(config);
    ASSERT_OK(backend);
    EXPECT_EQ(backend.value()->kind(), "rocksdb");
    auto* rocksdb = dynamic_cast<RocksDbBackend*>(backend.value().get());
    ASSERT_NE(rocksdb, nullptr);  // no cleanup_interval: not wrapped
    EXPECT_EQ(rocksdb->path(), directory.file("db"));
    ASSERT_OK(column_of(**backend, "c", false)->put("k", "v"));
    ASSERT_OK(backend.value()->close());
  }
  auto reopened = open_backend(config);
  ASSERT_OK(reopened);
  EXPECT_EQ(column_of(**reopened, "c", false)->get("k").value(), std::optional<std::string>("v"));
}

TEST(BackendRegistryRocksDb, EveryOptionReachesRocksDb) {
  TempDir directory;
  StateConfig config;
  config.backend = "rocksdb";
  config.backend_options = {{"path", directory.file("db")},
                            {"compression", "zstd"},
                            {"bottommost_compression", "none"},
                            {"write_buffer_bytes", "1048576"},
                            {"block_cache_bytes", "3145728"}};
  auto backend = open_backend(config);
  ASSERT_OK(backend);
  // RocksDB records its options in OPTIONS-<n>; the block cache's capacity only in its LOG.
  const std::string options = read_rocksdb_file(directory.file("db"), "OPTIONS-");
  EXPECT_NE(options.find("compression=kZSTD"), std::string::npos) << options;
  EXPECT_NE(options.find("bottommost_compression=kNoCompression"), std::string::npos) << options;
  EXPECT_NE(options.find("write_buffer_size=1048576"), std::string::npos) << options;
  const std::string log = read_rocksdb_file(directory.file("db"), "LOG");
  EXPECT_NE(log.find("capacity : 3145728"), std::string::npos);
}

TEST(BackendRegistryRocksDb, RejectsUnknownAndIllTypedOptions) {
  TempDir directory;
  StateConfig config;
  config.backend = "rocksdb";
  config.backend_options = {{"path", directory.file("db")}, {"compression", "gzip"}};
  EXPECT_STATUS(
      open_backend(config), StatusCode::kInvalidArgument,
      "backend 'rocksdb': backend_options[\"compression\"] is \"gzip\"; expected none, lz4, snappy or zstd");
  config.backend_options = {{"path", directory.file("db")}, {"block_cache_bytes", "0"}};
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "backend_options[\"block_cache_bytes\"] is \"0\"; expected a decimal integer in 1..");
  config.backend_options = {{"path", directory.file("db")}, {"host", "localhost"}};
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "backend 'rocksdb' does not accept backend_options host; accepted keys: block_cache_bytes, "
                "bottommost_compression, compression, enable_wal, native_statistics, path, sync, "
                "verify_checksums_on_open, wal_recovery, write_buffer_bytes");
  EXPECT_FALSE(std::filesystem::exists(directory.file("db")));
}

// The WAL-sync counts RocksDB itself keeps for one put through a backend opened from `config`.
RocksDbStatistics statistics_after_one_put(const StateConfig& config) {
  auto backend = open_backend(config);
  EXPECT_OK(backend);
  if (!backend.is_ok()) return {};
  // A config with a cleanup interval opens a sweeping wrapper around the RocksDB backend.
  auto* sweeping = dynamic_cast<ExpirySweepingBackend*>(backend.value().get());
  auto* rocksdb = dynamic_cast<RocksDbBackend*>(sweeping != nullptr ? &sweeping->wrapped() : backend.value().get());
  EXPECT_NE(rocksdb, nullptr);
  if (rocksdb == nullptr) return {};
  const RocksDbStatistics before = rocksdb->rocksdb_statistics();
  EXPECT_OK(column_of(*rocksdb, "c", false)->put("k", "v"));
  RocksDbStatistics after = rocksdb->rocksdb_statistics();
  after.wal_syncs -= before.wal_syncs;
  after.writes_with_wal -= before.writes_with_wal;
  return after;
}

TEST(BackendRegistryRocksDb, DurabilityOptionsReachRocksDb) {
  TempDir directory;
  Result<StateConfig> built = StateConfigBuilder(StateConfig::session())
                           .backend("rocksdb")
                           .backend_option("path", directory.file("every"))
                           .backend_option("native_statistics", "true")
                           .sync(SyncPolicy::kEveryWrite)
                           .wal_recovery(WalRecovery::kPointInTime)
                           .verify_checksums_on_open(true)
                           .build();
  ASSERT_OK(built);
  StateConfig config = built.value();
  RocksDbStatistics statistics = statistics_after_one_put(config);
  EXPECT_EQ(statistics.wal_syncs, 1u);
  EXPECT_EQ(statistics.writes_with_wal, 1u);
  EXPECT_NE(read_rocksdb_file(directory.file("every"), "OPTIONS-").find("wal_recovery_mode=kPointInTimeRecovery"),
            std::string::npos);

  // The defaults: no sync, fail on a damaged log.
  config.backend_options = {{"path", directory.file("default")}, {"native_statistics", "1"}};
  statistics = statistics_after_one_put(config);
  EXPECT_EQ(statistics.wal_syncs, 0u);
  EXPECT_EQ(statistics.writes_with_wal, 1u);
  EXPECT_NE(read_rocksdb_file(directory.file("default"), "OPTIONS-")
                .find("wal_recovery_mode=kTolerateCorruptedTailRecords"),
            std::string::npos);

  config.backend_options = {{"path", directory.file("no-wal")}, {"native_statistics", "1"}, {"enable_wal", "false"}};
  statistics = statistics_after_one_put(config);
  EXPECT_EQ(statistics.wal_syncs, 0u);
  EXPECT_EQ(statistics.writes_with_wal, 0u);
}

TEST(BackendRegistryRocksDb, VerifyChecksumsOnOpenReachesRocksDb) {
  TempDir directory;
  StateConfig config;
  config.backend = "rocksdb";
  config.backend_options = {{"path", directory.file("db")}, {"compression", "none"}};
  {
    auto backend = open_backend(config);
    ASSERT_OK(backend);
    auto column = column_of(**backend, "c", false);
    for (int i = 0; i < 1000; ++i) ASSERT_OK(column->put("key" + std::to_string(i), std::string(100, 'v')));
    ASSERT_OK(backend.value()->flush());
  }
  std::string table;
  for (const auto& entry : std::filesystem::directory_iterator(directory.file("db"))) {
    if (entry.path().extension() == ".sst") table = entry.path().string();
  }
  ASSERT_FALSE(table.empty());
  {
    std::fstream file(table, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x7f');
  }
  ASSERT_OK(open_backend(config));
  config.backend_options["verify_checksums_on_open"] = "true";
  EXPECT_STATUS(open_backend(config), StatusCode::kCorruption, table);
}

TEST(BackendRegistryRocksDb, DurabilityTyposNameTheValidValues) {
  TempDir directory;
  StateConfig config;
  config.backend = "rocksdb";
  config.backend_options = {{"path", directory.file("db")}, {"sync", "always"}};
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "StateConfig.backend_options[\"sync\"] is \"always\": expected none or every_write");
  config.backend_options = {{"path", directory.file("db")}, {"wal_recovery", "pointintime"}};
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "StateConfig.backend_options[\"wal_recovery\"] is \"pointintime\": expected fail_on_corruption or "
                "point_in_time");
  config.backend_options = {{"path", directory.file("db")}, {"sync", "every_write"}, {"enable_wal", "false"}};
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument, "enable it or use sync none");
  EXPECT_FALSE(std::filesystem::exists(directory.file("db")));
}

TEST(BackendRegistryRocksDb, CleanupIntervalSweepsExpiredEntries) {
  TempDir directory;
  auto clock = std::make_shared<ManualClock>(kStart);
  StateConfig config =
      StateConfigBuilder(StateConfig::session()).backend("rocksdb").clock(clock).build().value();
  config.backend_options = {{"path", directory.file("db")}};
  auto backend = open_backend(config);
  ASSERT_OK(backend);
  EXPECT_EQ(backend.value()->kind(), "rocksdb");
  auto* sweeping = dynamic_cast<ExpirySweepingBackend*>(backend.value().get());
  ASSERT_NE(sweeping, nullptr);
  EXPECT_NE(dynamic_cast<RocksDbBackend*>(&sweeping->wrapped()), nullptr);
  auto expiring_column = column_of(**backend, "expiring", true);
  auto plain = column_of(**backend, "plain", false);
  ASSERT_OK(expiring_column->put("old", with_expiry(kStart + 100, "a")));
  ASSERT_OK(expiring_column->put("new", with_expiry(kStart + 10'000, "b")));
  ASSERT_OK(plain->put("old", with_expiry(kStart + 100, "a")));
  clock->advance_millis(100);
  Result<uint64_t> swept = sweeping->sweep_expired();
  ASSERT_OK(swept);
  EXPECT_EQ(*swept, 1u);
  EXPECT_FALSE(expiring_column->contains("old").value());
  EXPECT_TRUE(expiring_column->contains("new").value());
  EXPECT_TRUE(plain->contains("old").value());  // not an expiring column: never swept
  EXPECT_EQ(backend.value()->statistics().expirations, 1u);
}
#endif

// ---- redis

#if STREAMSTATE_HAS_REDIS
StateConfig redis_config(const std::string& prefix, uint16_t port) {
  StateConfig config;
  config.backend = "redis";
  config.backend_options = {{"host", "127.0.0.1"}, {"port", std::to_string(port)}, {"key_prefix", prefix}};
  return config;
}

TEST(BackendRegistryRedis, HostPortAndKeyPrefix) {
  testing::RedisServer& server = testing::shared_redis_server();
  const std::string prefix = unique_name("registry");
  auto backend = open_backend(redis_config(prefix, server.port()));
  ASSERT_OK(backend);
  EXPECT_EQ(backend.value()->kind(), "redis");
  ASSERT_OK(column_of(**backend, "c", false)->put("k", "v"));
  Result<std::vector<std::string>> keys = server.command({"KEYS", prefix + ":*"});
  ASSERT_OK(keys);
  EXPECT_FALSE(keys->empty());
  for (const std::string& key : *keys) EXPECT_TRUE(key.starts_with(prefix + ":")) << key;
  ASSERT_OK(backend.value()->column("c").value()->clear());
}

TEST(BackendRegistryRedis, PasswordAndDatabase) {
  auto server = testing::RedisServer::start("s3cret");
  ASSERT_OK(server);
  StateConfig config = redis_config(unique_name("auth"), server.value()->port());
  EXPECT_FALSE(open_backend(config).is_ok());  // no password
  config.backend_options["password"] = "s3cret";
  config.backend_options["database"] = "3";
  auto backend = open_backend(config);
  ASSERT_OK(backend);
  ASSERT_OK(column_of(**backend, "c", false)->put("k", "v"));
  Result<std::vector<std::string>> info = server.value()->command({"INFO", "keyspace"});
  ASSERT_OK(info);
  ASSERT_EQ(info->size(), 1u);
  EXPECT_NE(info->front().find("db3:keys="), std::string::npos) << info->front();
  EXPECT_EQ(info->front().find("db0:"), std::string::npos) << info->front();
}

TEST(BackendRegistryRedis, UnreachableServerAndBadOptions) {
  StateConfig config = redis_config(unique_name("x"), 1);
  EXPECT_STATUS(open_backend(config), StatusCode::kUnavailable, "127.0.0.1:1");
  config.backend_options["port"] = "70000";
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "backend_options[\"port\"] is \"70000\"; expected a decimal integer in 1..65535");
  config.backend_options = {{"path", "/tmp"}};
  EXPECT_STATUS(
      open_backend(config), StatusCode::kInvalidArgument,
      "backend 'redis' does not accept backend_options path; accepted keys: database, host, key_prefix, "
      "password, port");
}

TEST(BackendRegistryRedis, CleanupIntervalThreadSweepsExpiredEntries) {
  auto clock = std::make_shared<ManualClock>(kStart);
  StateConfig config = redis_config(unique_name("sweep"), testing::shared_redis_server().port());
  config.ttl = milliseconds(1000);
  config.cleanup_interval = milliseconds(10);
  config.clock = clock;
  auto backend = open_backend(config);
  ASSERT_OK(backend);
  ASSERT_NE(dynamic_cast<ExpirySweepingBackend*>(backend.value().get()), nullptr);
  auto column = column_of(**backend, "expiring", true);
  for (int i = 0; i < 20; ++i)
    ASSERT_OK(column->put("k" + std::to_string(i), with_expiry(kStart + 1000, "v")));
  ASSERT_OK(column->put("forever", with_expiry(internal::kNeverExpiresMillis, "v")));
  clock->advance_millis(1000);
  // Nothing reads the entries: only the sweeping thread can remove them.
  EXPECT_TRUE(eventually([&] { return entry_count(*column) == 1; })) << entry_count(*column);
  EXPECT_TRUE(column->contains("forever").value());
  ASSERT_OK(column->clear());
}
#endif


}  // namespace
}  // namespace streamstate
