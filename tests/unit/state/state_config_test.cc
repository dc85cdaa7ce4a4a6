// StateConfig: the four presets (exact figures), validate(), the builder's rules and messages,
// ttl_config(), format_duration and BackendOptionReader.
#include "streamstate/state_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

void expect_preset(const StateConfig& config, milliseconds ttl, milliseconds cleanup, uint64_t max_entries) {
  EXPECT_EQ(config.backend, "memory");
  EXPECT_TRUE(config.backend_options.empty());
  EXPECT_EQ(config.ttl, ttl);
  EXPECT_EQ(config.cleanup_interval, cleanup);
  EXPECT_EQ(config.max_entries, max_entries);
  EXPECT_EQ(config.clock, nullptr);
  EXPECT_OK(config.validate());
}

TEST(StateConfigPresets, HighPerformance) {
  expect_preset(StateConfig::high_performance(), milliseconds(3'600'000), milliseconds(60'000), 10'000);
}

TEST(StateConfigPresets, Session) {
  expect_preset(StateConfig::session(), milliseconds(1'800'000), milliseconds(300'000), 1'000);
}

TEST(StateConfigPresets, ShortLived) {
  expect_preset(StateConfig::short_lived(), milliseconds(300'000), milliseconds(30'000), 100);
}

TEST(StateConfigPresets, LongLived) {
  expect_preset(StateConfig::long_lived(), milliseconds(604'800'000), milliseconds(3'600'000), 100'000);
}

TEST(StateConfigPresets, PresetsPassTheBuilder) {
  for (const StateConfig& preset : {StateConfig::high_performance(), StateConfig::session(),
                                    StateConfig::short_lived(), StateConfig::long_lived()}) {
    Result<StateConfig> built = StateConfigBuilder(preset).build();
    ASSERT_OK(built);
    EXPECT_EQ(built->ttl, preset.ttl);
    EXPECT_EQ(built->cleanup_interval, preset.cleanup_interval);
    EXPECT_EQ(built->max_entries, preset.max_entries);
  }
}

TEST(StateConfigValidate, DefaultConfigIsValidAndNeverExpires) {
  StateConfig config;
  EXPECT_OK(config.validate());
  EXPECT_EQ(config.backend, "memory");
  EXPECT_EQ(config.ttl.count(), 0);
  EXPECT_FALSE(config.ttl_config().enabled());
}

TEST(StateConfigValidate, CleanupWithoutTtl) {
  StateConfig config;
  config.cleanup_interval = minutes(1);
  EXPECT_STATUS(
      config.validate(), StatusCode::kInvalidArgument,
      "cleanup_interval 1 min is set but ttl is 0, so nothing ever expires: set a ttl of at least 1 min "
      "or set cleanup_interval to 0");
}

TEST(StateConfigValidate, TtlWithoutCleanup) {
  StateConfig config;
  config.ttl = minutes(30);
  EXPECT_STATUS(config.validate(), StatusCode::kInvalidArgument,
                "ttl 30 min is set but cleanup_interval is 0");
  EXPECT_STATUS(config.validate(), StatusCode::kInvalidArgument, "of at most 30 min");
}

TEST(StateConfigValidate, CleanupLongerThanTtl) {
  StateConfig config;
  config.ttl = minutes(5);
  config.cleanup_interval = minutes(10);
  EXPECT_STATUS(config.validate(), StatusCode::kInvalidArgument,
                "cleanup_interval 10 min is longer than ttl 5 min: lower cleanup_interval or raise ttl");
}

TEST(StateConfigValidate, CleanupEqualToTtlIsAllowed) {
  StateConfig config;
  config.ttl = seconds(30);
  config.cleanup_interval = seconds(30);
  EXPECT_OK(config.validate());
}

TEST(StateConfigValidate, NegativeDurations) {
  StateConfig negative_ttl;
  negative_ttl.ttl = milliseconds(-5);
  EXPECT_STATUS(negative_ttl.validate(), StatusCode::kInvalidArgument, "ttl is negative (-5 ms)");
  StateConfig negative_cleanup;
  negative_cleanup.ttl = minutes(1);
  negative_cleanup.cleanup_interval = seconds(-1);
  EXPECT_STATUS(negative_cleanup.validate(), StatusCode::kInvalidArgument,
                "cleanup_interval is negative (-1 s)");
}

TEST(StateConfigValidate, BackendName) {
  StateConfig empty;
  empty.backend = "";
  EXPECT_STATUS(empty.validate(), StatusCode::kInvalidArgument, "StateConfig.backend is empty");
  StateConfig spaced;
  spaced.backend = "my backend";
  EXPECT_STATUS(spaced.validate(), StatusCode::kInvalidArgument, "\"my backend\" is not a backend kind");
  StateConfig custom;
  custom.backend = "My.Backend_2-x";
  EXPECT_OK(custom.validate());
}

TEST(StateConfigTtl, TtlConfigCarriesTheTtlWithFlinkDefaults) {
  const StateTtlConfig ttl = StateConfig::session().ttl_config();
  EXPECT_TRUE(ttl.enabled());
  EXPECT_EQ(ttl.ttl, minutes(30));
  EXPECT_EQ(ttl.update_type, TtlUpdateType::kOnCreateAndWrite);
  EXPECT_EQ(ttl.visibility, TtlVisibility::kNeverReturnExpired);
  EXPECT_TRUE(ttl.cleanup_in_snapshot);
  EXPECT_TRUE(ttl.cleanup_in_compaction);
  EXPECT_TRUE(ttl.cleanup_in_background);
  EXPECT_OK(ttl.validate());
}

TEST(StateConfigBuilderTest, BuildsWhatWasSet) {
  auto clock = std::make_shared<ManualClock>(5);
  Result<StateConfig> config = StateConfig::builder()
                                   .backend("rocksdb")
                                   .backend_option("path", "/tmp/x")
                                   .backend_option("compression", "zstd")
                                   .ttl(minutes(10))
                                   .cleanup_interval(minutes(1))
                                   .max_entries(5000)
                                   .clock(clock)
                                   .build();
  ASSERT_OK(config);
  EXPECT_EQ(config->backend, "rocksdb");
  EXPECT_EQ(config->backend_options.at("path"), "/tmp/x");
  EXPECT_EQ(config->backend_options.at("compression"), "zstd");
  EXPECT_EQ(config->ttl, minutes(10));
  EXPECT_EQ(config->cleanup_interval, minutes(1));
  EXPECT_EQ(config->max_entries, 5000u);
  EXPECT_EQ(config->clock, clock);
}

TEST(StateConfigBuilderTest, RejectsTtlZero) {
  EXPECT_STATUS(StateConfig::builder().cleanup_interval(seconds(1)).max_entries(10).build(),
                StatusCode::kInvalidArgument, "ttl is 0: call ttl() with a positive duration");
  EXPECT_STATUS(
      StateConfig::builder().ttl(milliseconds(0)).cleanup_interval(seconds(1)).max_entries(10).build(),
      StatusCode::kInvalidArgument, "ttl is 0");
}

TEST(StateConfigBuilderTest, RejectsCleanupIntervalZero) {
  EXPECT_STATUS(
      StateConfig::builder().ttl(minutes(5)).max_entries(10).build(), StatusCode::kInvalidArgument,
      "cleanup_interval is 0: call cleanup_interval() with a positive duration of at most the ttl (5 min)");
}

TEST(StateConfigBuilderTest, RejectsCleanupIntervalAboveTtl) {
  EXPECT_STATUS(StateConfig::builder().ttl(minutes(5)).cleanup_interval(minutes(10)).max_entries(10).build(),
                StatusCode::kInvalidArgument,
                "cleanup_interval 10 min is longer than ttl 5 min: lower cleanup_interval or raise ttl");
  EXPECT_STATUS(
      StateConfig::builder().ttl(seconds(1)).cleanup_interval(milliseconds(1001)).max_entries(10).build(),
      StatusCode::kInvalidArgument, "cleanup_interval 1001 ms is longer than ttl 1 s");
}

TEST(StateConfigBuilderTest, RejectsMaxSizeZero) {
  EXPECT_STATUS(StateConfig::builder().ttl(minutes(5)).cleanup_interval(minutes(1)).build(),
                StatusCode::kInvalidArgument,
                "max_entries is 0: call max_entries() with the most entries to keep");
  EXPECT_STATUS(StateConfigBuilder(StateConfig::session()).max_entries(0).build(),
                StatusCode::kInvalidArgument, "max_entries is 0");
}

TEST(StateConfigBuilderTest, RejectsWhatValidateRejects) {
  EXPECT_STATUS(
      StateConfig::builder().backend("").ttl(minutes(5)).cleanup_interval(minutes(1)).max_entries(1).build(),
      StatusCode::kInvalidArgument, "StateConfig.backend is empty");
  EXPECT_STATUS(StateConfig::builder().ttl(minutes(5)).cleanup_interval(seconds(-1)).max_entries(1).build(),
                StatusCode::kInvalidArgument, "cleanup_interval is negative");
}

TEST(StateConfigBuilderTest, StartsFromABase) {
  Result<StateConfig> config = StateConfigBuilder(StateConfig::short_lived()).max_entries(50).build();
  ASSERT_OK(config);
  EXPECT_EQ(config->ttl, minutes(5));
  EXPECT_EQ(config->cleanup_interval, seconds(30));
  EXPECT_EQ(config->max_entries, 50u);
}

TEST(FormatDuration, PicksTheLargestExactUnit) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0 ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500 ms");
  EXPECT_EQ(format_duration(seconds(30)), "30 s");
  EXPECT_EQ(format_duration(seconds(90)), "90 s");
  EXPECT_EQ(format_duration(minutes(5)), "5 min");
  EXPECT_EQ(format_duration(hours(1)), "1 h");
  EXPECT_EQ(format_duration(days(7)), "7 d");
  EXPECT_EQ(format_duration(milliseconds(-2000)), "-2 s");
}

StateConfig config_with(std::map<std::string, std::string> options) {
  StateConfig config;
  config.backend = "mine";
  config.backend_options = std::move(options);
  return config;
}

TEST(BackendOptionReaderTest, ReadsTypedValuesAndFallbacks) {
  const StateConfig config = config_with({{"name", "x"}, {"size", "42"}, {"on", "TRUE"}, {"off", "0"}});
  BackendOptionReader reader(config);
  EXPECT_EQ(reader.get_string("name", "d"), "x");
  EXPECT_EQ(reader.get_string("absent", "d"), "d");
  Result<uint64_t> size = reader.get_uint64("size", 7, 1, 100);
  ASSERT_OK(size);
  EXPECT_EQ(*size, 42u);
  Result<uint64_t> fallback = reader.get_uint64("other", 7, 1, 100);
  ASSERT_OK(fallback);
  EXPECT_EQ(*fallback, 7u);
  Result<bool> on = reader.get_bool("on", false);
  ASSERT_OK(on);
  EXPECT_TRUE(*on);
  Result<bool> off = reader.get_bool("off", true);
  ASSERT_OK(off);
  EXPECT_FALSE(*off);
  EXPECT_OK(reader.finish());
}

TEST(BackendOptionReaderTest, RejectsIllTypedValues) {
  const StateConfig config =
      config_with({{"size", "12abc"}, {"neg", "-1"}, {"big", "101"}, {"flag", "maybe"}});
  BackendOptionReader reader(config);
  EXPECT_STATUS(
      reader.get_uint64("size", 0, 0, 100), StatusCode::kInvalidArgument,
      "backend 'mine': backend_options[\"size\"] is \"12abc\"; expected a decimal integer in 0..100");
  EXPECT_STATUS(reader.get_uint64("neg", 0, 0, 100), StatusCode::kInvalidArgument, "\"-1\"");
  EXPECT_STATUS(reader.get_uint64("big", 0, 0, 100), StatusCode::kInvalidArgument, "\"101\"");
  EXPECT_STATUS(reader.get_bool("flag", false), StatusCode::kInvalidArgument, "expected true, false, 1 or 0");
}

TEST(BackendOptionReaderTest, RequiredStringNamesTheKeyAndItsPurpose) {
  const StateConfig config = config_with({{"empty", ""}});
  BackendOptionReader reader(config);
  EXPECT_STATUS(reader.required_string("path", "the database directory"), StatusCode::kInvalidArgument,
                "backend 'mine' needs backend_options[\"path\"] (the database directory)");
  EXPECT_STATUS(reader.required_string("empty", "something"), StatusCode::kInvalidArgument,
                "needs backend_options[\"empty\"]");
}

TEST(BackendOptionReaderTest, FinishListsUnknownAndAcceptedKeys) {
  const StateConfig config = config_with({{"host", "h"}, {"colour", "red"}, {"size", "1"}});
  BackendOptionReader reader(config);
  (void)reader.get_string("host", "");
  ASSERT_OK(reader.get_uint64("size", 0, 0, 10));
  (void)reader.get_string("port", "");
  EXPECT_STATUS(reader.finish(), StatusCode::kInvalidArgument,
                "backend 'mine' does not accept backend_options colour; accepted keys: host, port, size");
}

TEST(BackendOptionReaderTest, ReadsDurabilityNamesAndNamesTheValidOnes) {
  const StateConfig config = config_with({{"sync", "every_write"}, {"wal_recovery", "point_in_time"},
                                          {"bad_sync", "fsync"}, {"bad_recovery", "PointInTime"}});
  BackendOptionReader reader(config);
  EXPECT_EQ(reader.get_sync_policy("sync", SyncPolicy::kNone).value(), SyncPolicy::kEveryWrite);
  EXPECT_EQ(reader.get_sync_policy("absent", SyncPolicy::kNone).value(), SyncPolicy::kNone);
  EXPECT_EQ(reader.get_wal_recovery("wal_recovery", WalRecovery::kFailOnCorruption).value(),
            WalRecovery::kPointInTime);
  EXPECT_EQ(reader.get_wal_recovery("absent2", WalRecovery::kFailOnCorruption).value(),
            WalRecovery::kFailOnCorruption);
  EXPECT_STATUS(reader.get_sync_policy("bad_sync", SyncPolicy::kNone), StatusCode::kInvalidArgument,
                "backend 'mine': backend_options[\"bad_sync\"] is \"fsync\"; expected none or every_write");
  EXPECT_STATUS(reader.get_wal_recovery("bad_recovery", WalRecovery::kFailOnCorruption),
                StatusCode::kInvalidArgument,
                "backend_options[\"bad_recovery\"] is \"PointInTime\"; expected fail_on_corruption or point_in_time");
}

// ---- durability (RocksDB's sync policy, WAL recovery mode and checksums on open)

TEST(StateConfigDurability, BuilderSetsTheRocksDbOptions) {
  Result<StateConfig> config = StateConfigBuilder(StateConfig::session())
                                   .backend("rocksdb")
                                   .sync(SyncPolicy::kEveryWrite)
                                   .wal_recovery(WalRecovery::kPointInTime)
                                   .verify_checksums_on_open(true)
                                   .build();
  ASSERT_OK(config);
  const std::map<std::string, std::string> expected = {
      {"sync", "every_write"}, {"wal_recovery", "point_in_time"}, {"verify_checksums_on_open", "true"}};
  EXPECT_EQ(config->backend_options, expected);

  config = StateConfigBuilder(StateConfig::session())
               .backend("rocksdb")
               .sync(SyncPolicy::kNone)
               .wal_recovery(WalRecovery::kFailOnCorruption)
               .verify_checksums_on_open(false)
               .build();
  ASSERT_OK(config);
  const std::map<std::string, std::string> defaults = {
      {"sync", "none"}, {"wal_recovery", "fail_on_corruption"}, {"verify_checksums_on_open", "false"}};
  EXPECT_EQ(config->backend_options, defaults);
}

TEST(StateConfigDurability, NamesParseBothWays) {
  for (SyncPolicy policy : {SyncPolicy::kNone, SyncPolicy::kEveryWrite}) {
    EXPECT_EQ(parse_sync_policy(sync_policy_name(policy)).value(), policy);
  }
  for (WalRecovery recovery : {WalRecovery::kFailOnCorruption, WalRecovery::kPointInTime}) {
    EXPECT_EQ(parse_wal_recovery(wal_recovery_name(recovery)).value(), recovery);
  }
  EXPECT_STATUS(parse_sync_policy("always"), StatusCode::kInvalidArgument, "expected none or every_write");
  EXPECT_STATUS(parse_wal_recovery(""), StatusCode::kInvalidArgument,
                "expected fail_on_corruption or point_in_time");
}

TEST(StateConfigDurability, ValidateNamesTheValidValuesOfATypo) {
  StateConfig config;
  config.backend = "rocksdb";
  config.backend_options = {{"sync", "every-write"}};
  EXPECT_STATUS(config.validate(), StatusCode::kInvalidArgument,
                "StateConfig.backend_options[\"sync\"] is \"every-write\": expected none or every_write");
  config.backend_options = {{"wal_recovery", "strict"}};
  EXPECT_STATUS(config.validate(), StatusCode::kInvalidArgument,
                "StateConfig.backend_options[\"wal_recovery\"] is \"strict\": expected fail_on_corruption or "
                "point_in_time");
  config.backend_options = {{"verify_checksums_on_open", "yes"}};
  EXPECT_STATUS(config.validate(), StatusCode::kInvalidArgument,
                "StateConfig.backend_options[\"verify_checksums_on_open\"] is \"yes\": expected true, false, 1 or 0");
  config.backend_options = {{"enable_wal", "off"}};
  EXPECT_STATUS(config.validate(), StatusCode::kInvalidArgument, "[\"enable_wal\"] is \"off\"");
  // A value outside the enum reaches the config as "unknown", which is refused the same way.
  EXPECT_STATUS(StateConfigBuilder(StateConfig::session()).backend("rocksdb").sync(static_cast<SyncPolicy>(7)).build(),
                StatusCode::kInvalidArgument, "[\"sync\"] is \"unknown\": expected none or every_write");
}

TEST(StateConfigDurability, SyncingEveryWriteNeedsTheLog) {
  StateConfig config;
  config.backend = "rocksdb";
  config.backend_options = {{"sync", "every_write"}, {"enable_wal", "false"}};
  EXPECT_STATUS(config.validate(), StatusCode::kInvalidArgument,
                "sync is every_write but enable_wal is false: syncing each write needs the write-ahead log");
  config.backend_options = {{"sync", "none"}, {"enable_wal", "false"}};
  EXPECT_OK(config.validate());
}

TEST(StateConfigDurability, BackendsWithoutOurLogRefuseTheOptions) {
  Result<StateConfig> memory = StateConfigBuilder(StateConfig::session()).sync(SyncPolicy::kEveryWrite).build();
  EXPECT_STATUS(memory, StatusCode::kInvalidArgument,
                "StateConfig.backend_options[\"sync\"] is set for backend 'memory', but the memory backend keeps "
                "nothing on disk; sync applies to rocksdb only");
  StateConfig redis;
  redis.backend = "redis";
  redis.backend_options = {{"wal_recovery", "point_in_time"}};
  EXPECT_STATUS(redis.validate(), StatusCode::kInvalidArgument, "appendonly/appendfsync");
  // A custom kind decides for itself what its options mean.
  StateConfig custom;
  custom.backend = "mine";
  custom.backend_options = {{"sync", "sometimes"}};
  EXPECT_OK(custom.validate());
}

}  // namespace
}  // namespace streamstate
