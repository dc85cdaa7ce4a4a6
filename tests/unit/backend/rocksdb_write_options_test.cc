// RocksDB backend: what each SyncPolicy, enable_wal and wal_recovery setting does to RocksDB's
// own options, and (through RocksDB's statistics) what a put then really does to the log.
#include <gtest/gtest.h>

#include <rocksdb/options.h>

#include <string>

#include "backend/rocksdb/rocksdb_options.h"
#include "streamstate/rocksdb.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/backend/rocksdb_test_fixture.h"

namespace streamstate {
namespace {

using testing::column_or_die;
using testing::open_or_die;
using testing::small_options;
using testing::TempDir;

struct WriteSetting {
  SyncPolicy sync;
  bool enable_wal;
  bool expect_sync;
  bool expect_disable_wal;
};

class RocksDbWriteSettings : public ::testing::TestWithParam<WriteSetting> {};

TEST_P(RocksDbWriteSettings, MapOntoRocksDbWriteOptions) {
  const WriteSetting setting = GetParam();
  RocksDbBackendOptions options = small_options("/unused");
  options.sync = setting.sync;
  options.enable_wal = setting.enable_wal;
  auto native = internal::make_rocksdb_options(options);
  ASSERT_OK(native);
  EXPECT_EQ(native->write.sync, setting.expect_sync);
  EXPECT_EQ(native->write.disableWAL, setting.expect_disable_wal);
}

// Each put is one RocksDB write: the log is synced once per put under kEveryWrite and never
// under kNone, and without the log nothing is written to it.
TEST_P(RocksDbWriteSettings, PutsSyncTheLogAsRocksDbCountsIt) {
  const WriteSetting setting = GetParam();
  TempDir dir;
  RocksDbBackendOptions options = small_options(dir.file("db"));
  options.sync = setting.sync;
  options.enable_wal = setting.enable_wal;
  options.native_statistics = true;
  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "c");
  ASSERT_NE(column, nullptr);
  const RocksDbStatistics before = backend->rocksdb_statistics();
  constexpr uint64_t kPuts = 5;
  for (uint64_t i = 0; i < kPuts; ++i) ASSERT_OK(column->put("key" + std::to_string(i), "value"));
  const RocksDbStatistics after = backend->rocksdb_statistics();
  EXPECT_EQ(after.wal_syncs - before.wal_syncs, setting.expect_sync ? kPuts : 0u);
  EXPECT_EQ(after.writes_with_wal - before.writes_with_wal, setting.expect_disable_wal ? 0u : kPuts);
  if (setting.expect_disable_wal) {
    EXPECT_EQ(after.wal_bytes_written, before.wal_bytes_written);
  } else {
    EXPECT_GT(after.wal_bytes_written, before.wal_bytes_written);
  }
}

INSTANTIATE_TEST_SUITE_P(EverySetting, RocksDbWriteSettings,
                         ::testing::Values(WriteSetting{SyncPolicy::kNone, true, false, false},
                                           WriteSetting{SyncPolicy::kEveryWrite, true, true, false},
                                           WriteSetting{SyncPolicy::kNone, false, false, true}),
                         [](const ::testing::TestParamInfo<WriteSetting>& setting_info) {
                           return std::string(setting_info.param.sync == SyncPolicy::kEveryWrite ? "EveryWrite" : "None") +
                                  (setting_info.param.enable_wal ? "WithWal" : "WithoutWal");
                         });

TEST(RocksDbWriteSettings, SyncEveryWriteWithoutTheLogIsRejected) {
  RocksDbBackendOptions options = small_options("/some/db");
  options.sync = SyncPolicy::kEveryWrite;
  options.enable_wal = false;
  EXPECT_STATUS(internal::make_rocksdb_options(options), StatusCode::kInvalidArgument, "enable_wal");
}

TEST(RocksDbWriteSettings, StatisticsAreCollectedOnlyWhenAskedFor) {
  RocksDbBackendOptions options = small_options("/unused");
  auto native = internal::make_rocksdb_options(options);
  ASSERT_OK(native);
  EXPECT_EQ(native->db.statistics, nullptr);
  options.native_statistics = true;
  native = internal::make_rocksdb_options(options);
  ASSERT_OK(native);
  EXPECT_NE(native->db.statistics, nullptr);
}

TEST(RocksDbWalRecovery, MapsOntoRocksDbRecoveryModes) {
  RocksDbBackendOptions options = small_options("/unused");
  auto native = internal::make_rocksdb_options(options);
  ASSERT_OK(native);
  // The default refuses damage anywhere but in a torn last record.
  EXPECT_EQ(native->db.wal_recovery_mode, rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords);
  options.wal_recovery = WalRecovery::kPointInTime;
  native = internal::make_rocksdb_options(options);
  ASSERT_OK(native);
  EXPECT_EQ(native->db.wal_recovery_mode, rocksdb::WALRecoveryMode::kPointInTimeRecovery);
}

TEST(RocksDbWalRecovery, UnknownValuesAreRejectedWithTheValidOnes) {
  RocksDbBackendOptions options = small_options("/some/db");
  options.wal_recovery = static_cast<WalRecovery>(7);
  EXPECT_STATUS(internal::make_rocksdb_options(options), StatusCode::kInvalidArgument,
                "wal_recovery has an unknown value 7");
  options.wal_recovery = WalRecovery::kFailOnCorruption;
  options.sync = static_cast<SyncPolicy>(9);
  EXPECT_STATUS(internal::make_rocksdb_options(options), StatusCode::kInvalidArgument, "use kNone or kEveryWrite");
}

}  // namespace
}  // namespace streamstate
