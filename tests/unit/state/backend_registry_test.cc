// The backend registry: built-in kinds, how the memory kind applies a StateConfig (ttl,
// cleanup interval, max entries, backend_options), errors for unknown kinds and options, and
// user-defined kinds.
#include "streamstate/backend_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "backend_registry_test_util.h"
#include "custom_backend/ordered_map_backend.h"
#include "streamstate/config.h"
#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using namespace registry_test;
using std::chrono::milliseconds;

TEST(BackendRegistryTest, BuiltInKindsAreRegistered) {
  const std::vector<std::string> kinds = BackendRegistry().kinds();
  std::vector<std::string> expected{"memory"};
#if STREAMSTATE_HAS_REDIS
  expected.push_back("redis");
#endif
#if STREAMSTATE_HAS_ROCKSDB
  expected.push_back("rocksdb");
#endif
  EXPECT_EQ(kinds, expected);
  for (const std::string& kind : expected) EXPECT_TRUE(BackendRegistry::global().contains(kind)) << kind;
}

TEST(BackendRegistryTest, DefaultConfigOpensMemory) {
  Result<std::unique_ptr<StateBackend>> backend = open_backend(StateConfig{});
  ASSERT_OK(backend);
  EXPECT_EQ(backend.value()->kind(), "memory");
  EXPECT_NE(dynamic_cast<MemoryBackend*>(backend.value().get()), nullptr);
}

TEST(BackendRegistryTest, UnknownKindListsTheRegisteredOnes) {
  StateConfig config;
  config.backend = "cassandra";
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "backend 'cassandra' is not registered; registered kinds: memory");
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument, "register_backend");
}

TEST(BackendRegistryTest, InvalidConfigIsRejectedBeforeAnyFactoryRuns) {
  BackendRegistry registry;
  bool called = false;
  ASSERT_OK(registry.register_backend("probe",
                                      [&called](const StateConfig&) -> Result<std::unique_ptr<StateBackend>> {
                                        called = true;
                                        return examples::open_ordered_map_backend();
                                      }));
  StateConfig config;
  config.backend = "probe";
  config.ttl = std::chrono::minutes(5);
  config.cleanup_interval = std::chrono::minutes(10);
  EXPECT_STATUS(registry.open(config), StatusCode::kInvalidArgument,
                "cleanup_interval 10 min is longer than ttl 5 min");
  EXPECT_FALSE(called);
}

// ---- memory

TEST(BackendRegistryMemory, AppliesTtlFromTheConfigClock) {
  auto clock = std::make_shared<ManualClock>(kStart);
  StateConfig config = StateConfig::short_lived();
  config.clock = clock;
  auto backend = open_backend(config);
  ASSERT_OK(backend);
  auto column = column_of(**backend, "c", false);
  ASSERT_OK(column->put("k", "v"));
  clock->advance_millis(std::chrono::milliseconds(std::chrono::minutes(5)).count() - 1);
  EXPECT_TRUE(column->contains("k").value());
  clock->advance_millis(1);
  EXPECT_FALSE(column->contains("k").value());
}

TEST(BackendRegistryMemory, AppliesMaxEntries) {
  auto backend = open_backend(StateConfig::short_lived());  // at most 100 entries
  ASSERT_OK(backend);
  auto column = column_of(**backend, "c", false);
  for (int i = 0; i < 500; ++i) ASSERT_OK(column->put("key-" + std::to_string(i), "v"));
  const BackendStatistics statistics = backend.value()->statistics();
  EXPECT_LE(statistics.live_entries, 100u);
  EXPECT_GE(statistics.evictions, 400u);
  EXPECT_LE(entry_count(*column), 100u);
}

TEST(BackendRegistryMemory, CleanupIntervalRunsTheBackgroundCleanup) {
  auto clock = std::make_shared<ManualClock>(kStart);
  Result<StateConfig> config = StateConfig::builder()
                                   .ttl(milliseconds(1000))
                                   .cleanup_interval(milliseconds(10))
                                   .max_entries(1000)
                                   .clock(clock)
                                   .build();
  ASSERT_OK(config);
  auto backend = open_backend(*config);
  ASSERT_OK(backend);
  auto column = column_of(**backend, "c", false);
  for (int i = 0; i < 50; ++i) ASSERT_OK(column->put("key-" + std::to_string(i), "v"));
  clock->advance_millis(1000);
  // Nothing reads the entries: only the cleanup thread can remove them.
  EXPECT_TRUE(eventually([&] { return backend.value()->statistics().expirations == 50; }))
      << backend.value()->statistics().expirations;
  EXPECT_EQ(backend.value()->statistics().live_entries, 0u);
}

TEST(BackendRegistryMemory, BackendOptions) {
  // shard_count: with max_bytes 8 KiB, one shard takes a 5,000-byte entry; the default
  // (lowered to two shards of 4 KiB) rejects it.
  StateConfig one_shard;
  one_shard.backend_options = {{"shard_count", "1"}, {"max_bytes", "8192"}};
  auto single = open_backend(one_shard);
  ASSERT_OK(single);
  EXPECT_OK(column_of(**single, "c", false)->put("big", std::string(5000, 'x')));
  StateConfig default_shards;
  default_shards.backend_options = {{"max_bytes", "8192"}};
  auto several = open_backend(default_shards);
  ASSERT_OK(several);
  EXPECT_STATUS(column_of(**several, "c", false)->put("big", std::string(5000, 'x')),
                StatusCode::kInvalidArgument, "");

  // refresh_ttl_on_read: reads keep an entry alive.
  for (const bool refresh : {false, true}) {
    auto clock = std::make_shared<ManualClock>(kStart);
    StateConfig config = StateConfigBuilder()
                             .ttl(milliseconds(1000))
                             .cleanup_interval(milliseconds(1000))
                             .max_entries(10)
                             .clock(clock)
                             .build()
                             .value();
    config.backend_options = {{"refresh_ttl_on_read", refresh ? "true" : "false"}};
    auto backend = open_backend(config);
    ASSERT_OK(backend);
    auto column = column_of(**backend, "c", false);
    ASSERT_OK(column->put("k", "v"));
    clock->advance_millis(800);
    EXPECT_TRUE(column->contains("k").value());
    clock->advance_millis(800);
    EXPECT_EQ(column->contains("k").value(), refresh) << "refresh_ttl_on_read=" << refresh;
  }
}

TEST(BackendRegistryMemory, RejectsUnknownAndIllTypedOptions) {
  StateConfig unknown;
  unknown.backend_options = {{"path", "/tmp/x"}};
  EXPECT_STATUS(open_backend(unknown), StatusCode::kInvalidArgument,
                "backend 'memory' does not accept backend_options path; accepted keys: max_bytes, "
                "refresh_ttl_on_read, shard_count");
  StateConfig ill_typed;
  ill_typed.backend_options = {{"shard_count", "many"}};
  EXPECT_STATUS(open_backend(ill_typed), StatusCode::kInvalidArgument,
                "backend_options[\"shard_count\"] is \"many\"; expected a decimal integer in 1..4096");
  StateConfig bad_bool;
  bad_bool.backend_options = {{"refresh_ttl_on_read", "yes please"}};
  EXPECT_STATUS(open_backend(bad_bool), StatusCode::kInvalidArgument, "expected true, false, 1 or 0");
}


// ---- user-defined kinds

TEST(BackendRegistryCustom, AConfigCanNameAUsersBackend) {
  const std::string kind = unique_name("ordered_map");
  StateConfig seen;
  ASSERT_OK(
      register_backend(kind, [&seen](const StateConfig& config) -> Result<std::unique_ptr<StateBackend>> {
        BackendOptionReader options(config);
        seen = config;
        seen.backend_options["label"] = options.get_string("label", "none");
        if (Status unknown = options.finish(); !unknown.is_ok()) return unknown;
        return examples::open_ordered_map_backend();
      }));
  const std::vector<std::string> kinds = registered_backend_kinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), kind), kinds.end());

  StateConfig config = StateConfig::session();
  config.backend = kind;
  config.backend_options = {{"label", "blue"}};
  auto backend = open_backend(config);
  ASSERT_OK(backend);
  EXPECT_EQ(backend.value()->kind(), "ordered_map");
  EXPECT_EQ(seen.ttl, std::chrono::minutes(30));  // the factory got the whole config
  EXPECT_EQ(seen.max_entries, 1000u);
  EXPECT_EQ(seen.backend_options.at("label"), "blue");
  ASSERT_OK(column_of(**backend, "c", false)->put("k", "v"));
  EXPECT_EQ(column_of(**backend, "c", false)->get("k").value(), std::optional<std::string>("v"));

  config.backend_options = {{"colour", "red"}};
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "backend '" + kind + "' does not accept backend_options colour; accepted keys: label");
  ASSERT_OK(BackendRegistry::global().unregister_backend(kind));
  EXPECT_STATUS(open_backend(config), StatusCode::kInvalidArgument,
                "backend '" + kind + "' is not registered");
}

TEST(BackendRegistryCustom, RegistrationErrors) {
  BackendRegistry registry;
  auto factory = [](const StateConfig&) { return examples::open_ordered_map_backend(); };
  EXPECT_STATUS(registry.register_backend("memory", factory), StatusCode::kAlreadyExists,
                "backend kind 'memory' is already registered");
  ASSERT_OK(registry.register_backend("mine", factory));
  EXPECT_STATUS(registry.register_backend("mine", factory), StatusCode::kAlreadyExists, "'mine'");
  EXPECT_STATUS(registry.register_backend("has space", factory), StatusCode::kInvalidArgument,
                "register_backend: StateConfig.backend \"has space\" is not a backend kind");
  EXPECT_STATUS(registry.register_backend("empty-factory", BackendFactory()), StatusCode::kInvalidArgument,
                "the factory is empty");
  EXPECT_STATUS(registry.unregister_backend("nothing"), StatusCode::kNotFound, "'nothing' is not registered");
  // A registry instance is independent of the process-wide one.
  EXPECT_FALSE(BackendRegistry::global().contains("mine"));
}

TEST(BackendRegistryCustom, AFactoryReturningNothingIsAnError) {
  BackendRegistry registry;
  ASSERT_OK(
      registry.register_backend("null", [](const StateConfig&) -> Result<std::unique_ptr<StateBackend>> {
        return std::unique_ptr<StateBackend>();
      }));
  StateConfig config;
  config.backend = "null";
  EXPECT_STATUS(registry.open(config), StatusCode::kInternal,
                "the factory of backend 'null' returned no backend");
}

TEST(BackendRegistryCustom, ConcurrentOpensAndRegistrations) {
  BackendRegistry registry;
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry, &opened, t] {
      const std::string kind = "kind" + std::to_string(t);
      EXPECT_OK(registry.register_backend(
          kind, [](const StateConfig&) { return examples::open_ordered_map_backend(); }));
      StateConfig config;
      config.backend = kind;
      for (int i = 0; i < 50; ++i) {
        if (registry.open(config).is_ok()) opened.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), 200);
  EXPECT_EQ(registry.kinds().size(), BackendRegistry().kinds().size() + 4);
}

}  // namespace
}  // namespace streamstate
