// StateAccess<T> on memory, RocksDB and Redis: get / set / exists / remove / update, atomic
// updates from 8 threads, key partitioning, TTL update types and visibilities with a
// ManualClock, incremental cleanup, corrupt bytes and a throwing update function.
#include "streamstate/state_access.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/expiring_value.h"
#include "streamstate/key_group.h"
#include "streamstate/rescale.h"
#include "streamstate/state_config.h"
#include "streamstate/state_key.h"
#include "streamstate/value_state.h"
#include "unit/state/state_test_backends.h"

namespace streamstate {
namespace {

using std::chrono::milliseconds;
using testing::kStartMillis;
using testing::StateBackendTest;

class StateAccessTest : public StateBackendTest {
 protected:
  template <typename T>
  StateAccess<T> open_access(const std::string& name, StateTtlConfig ttl = {},
                             uint32_t max_parallelism = kDefaultMaxParallelism) {
    Result<StateAccess<T>> opened = StateAccess<T>::open(backend_, name, ttl, clock_, max_parallelism);
    EXPECT_OK(opened);
    return std::move(opened).value();
  }

  static StateTtlConfig ttl_of(int64_t millis, TtlUpdateType update = TtlUpdateType::kOnCreateAndWrite,
                               TtlVisibility visibility = TtlVisibility::kNeverReturnExpired) {
    StateTtlConfig ttl;
    ttl.ttl = milliseconds(millis);
    ttl.update_type = update;
    ttl.visibility = visibility;
    return ttl;
  }

  std::shared_ptr<StateColumn> raw_column(const std::string& name) { return backend_->column(name).value(); }

  // 8 threads x 1,000 increments of one key through update().
  void expect_atomic_increments(StateAccess<int64_t> counter) {
    constexpr int kThreads = 8;
    constexpr int kIncrements = 1000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([counter] {
        for (int i = 0; i < kIncrements; ++i) {
          Result<int64_t> next =
              counter.update("hot", [](std::optional<int64_t> n) { return n.value_or(0) + 1; });
          EXPECT_OK(next);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(counter.get("hot").value(), std::optional<int64_t>(kThreads * kIncrements));
  }
};

TEST_P(StateAccessTest, GetSetExistsRemove) {
  auto names = open_access<std::string>("names");
  EXPECT_EQ(names.name(), "names");
  EXPECT_EQ(names.get("user-1").value(), std::nullopt);
  EXPECT_FALSE(names.exists("user-1").value());
  ASSERT_OK(names.set("user-1", "ada"));
  ASSERT_OK(names.set("user-2", "bob"));
  EXPECT_EQ(names.get("user-1").value(), std::optional<std::string>("ada"));
  EXPECT_TRUE(names.exists("user-1").value());
  ASSERT_OK(names.set("user-1", "alan"));
  EXPECT_EQ(names.get("user-1").value(), std::optional<std::string>("alan"));
  ASSERT_OK(names.remove("user-1"));
  EXPECT_EQ(names.get("user-1").value(), std::nullopt);
  EXPECT_FALSE(names.exists("user-1").value());
  EXPECT_OK(names.remove("user-1"));  // absent: not an error
  EXPECT_EQ(names.get("user-2").value(), std::optional<std::string>("bob"));
  EXPECT_EQ(raw_entry_count("names"), 1u);
}

TEST_P(StateAccessTest, KeysWithZeroBytesAndStructuredValues) {
  auto totals = open_access<std::map<std::string, int64_t>>("totals");
  const std::string key("a\0b", 3);
  ASSERT_OK(totals.set(key, {{"clicks", 3}, {"views", 9}}));
  EXPECT_EQ(totals.get(std::string("a\0c", 3)).value(), std::nullopt);
  auto value = totals.get(key).value();
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->at("views"), 9);
}

TEST_P(StateAccessTest, UpdateSeesTheCurrentValueAndReturnsTheNewOne) {
  auto counter = open_access<int64_t>("counter");
  std::optional<int64_t> seen = 99;
  Result<int64_t> first = counter.update("k", [&seen](std::optional<int64_t> n) {
    seen = n;
    return n.value_or(0) + 10;
  });
  ASSERT_OK(first);
  EXPECT_EQ(*first, 10);
  EXPECT_EQ(seen, std::nullopt);
  Result<int64_t> second = counter.update("k", [&seen](std::optional<int64_t> n) {
    seen = n;
    return *n * 2;
  });
  ASSERT_OK(second);
  EXPECT_EQ(*second, 20);
  EXPECT_EQ(seen, std::optional<int64_t>(10));
  EXPECT_EQ(counter.get("k").value(), std::optional<int64_t>(20));
}

TEST_P(StateAccessTest, ConcurrentUpdatesOfOneKeyAreAtomic) {
  expect_atomic_increments(open_access<int64_t>("hits"));
}

TEST_P(StateAccessTest, ConcurrentUpdatesWithTtlAreAtomic) {
  expect_atomic_increments(open_access<int64_t>("hits_ttl", ttl_of(60'000)));
}

TEST_P(StateAccessTest, ConcurrentCallsOnManyKeys) {
  auto counter = open_access<int64_t>("many");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([counter, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string key = "k" + std::to_string(i % 10);
        EXPECT_OK(counter.update(key, [](std::optional<int64_t> n) { return n.value_or(0) + 1; }));
        EXPECT_OK(counter.get(key));
        EXPECT_OK(counter.set("own-" + std::to_string(t), i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(counter.get("k" + std::to_string(i)).value(), std::optional<int64_t>(80)) << i;
  }
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(counter.get("own-" + std::to_string(t)).value(), std::optional<int64_t>(199));
}

TEST_P(StateAccessTest, KeysArePartitionedByKeyGroup) {
  // The fixture's store recorded max_parallelism 128; move the (empty) state to 4 first.
  store_.reset();
  ASSERT_OK(rescale_keyed_state(*backend_, kDefaultMaxParallelism, 4));
  auto parts = open_access<int64_t>("parts", {}, 4);
  ASSERT_OK(parts.set("user-7", 7));
  auto column = raw_column("parts");
  const std::string expected_key = make_state_key(key_group_for_key("user-7", 4), "user-7");
  EXPECT_EQ(column->get(expected_key).value(), std::optional<std::string>(encode_value(int64_t{7})));
  EXPECT_EQ(raw_entry_count("parts"), 1u);
}

TEST_P(StateAccessTest, SharesTheLayoutOfValueState) {
  auto access = open_access<int64_t>("shared");
  ASSERT_OK(access.set("user-1", 41));
  auto state = store_->value_state(ValueStateDescriptor<int64_t>{.name = "shared"});
  ASSERT_OK(state);
  ASSERT_OK(store_->set_current_key("user-1"));
  EXPECT_EQ(state->value().value(), std::optional<int64_t>(41));
  ASSERT_OK(state->update(42));
  EXPECT_EQ(access.get("user-1").value(), std::optional<int64_t>(42));
}

TEST_P(StateAccessTest, TtlNeverReturnsExpiredValues) {
  auto sessions = open_access<std::string>("sessions", ttl_of(1000));
  ASSERT_OK(sessions.set("u", "token"));
  clock_->advance_millis(999);
  EXPECT_EQ(sessions.get("u").value(), std::optional<std::string>("token"));
  EXPECT_TRUE(sessions.exists("u").value());
  clock_->advance_millis(1);
  EXPECT_FALSE(sessions.exists("u").value());
  EXPECT_EQ(sessions.get("u").value(), std::nullopt);
  EXPECT_EQ(raw_entry_count("sessions"), 0u);  // the read removed it
}

TEST_P(StateAccessTest, TtlUpdateFunctionDoesNotSeeExpiredValues) {
  auto counter = open_access<int64_t>("expiring_counter", ttl_of(1000));
  ASSERT_OK(counter.set("k", 5));
  clock_->advance_millis(1000);
  std::optional<int64_t> seen = 0;
  Result<int64_t> next = counter.update("k", [&seen](std::optional<int64_t> n) {
    seen = n;
    return n.value_or(0) + 1;
  });
  ASSERT_OK(next);
  EXPECT_EQ(seen, std::nullopt);
  EXPECT_EQ(*next, 1);
  // The update gave a fresh time to live.
  clock_->advance_millis(999);
  EXPECT_EQ(counter.get("k").value(), std::optional<int64_t>(1));
}

TEST_P(StateAccessTest, TtlOnCreateAndWriteIgnoresReads) {
  auto state = open_access<int64_t>("create_write", ttl_of(1000, TtlUpdateType::kOnCreateAndWrite));
  ASSERT_OK(state.set("k", 1));
  clock_->advance_millis(600);
  EXPECT_TRUE(state.get("k").value().has_value());
  clock_->advance_millis(600);
  EXPECT_EQ(state.get("k").value(), std::nullopt);
}

TEST_P(StateAccessTest, TtlOnReadAndWriteRenewsOnRead) {
  auto state = open_access<int64_t>("read_write", ttl_of(1000, TtlUpdateType::kOnReadAndWrite));
  ASSERT_OK(state.set("k", 1));
  clock_->advance_millis(600);
  EXPECT_TRUE(state.get("k").value().has_value());  // renews: now expires at +1600
  clock_->advance_millis(600);
  EXPECT_TRUE(state.exists("k").value());  // renews again: +2200
  clock_->advance_millis(999);
  EXPECT_EQ(state.get("k").value(), std::optional<int64_t>(1));
  clock_->advance_millis(1000);
  EXPECT_EQ(state.get("k").value(), std::nullopt);
}

TEST_P(StateAccessTest, TtlReturnExpiredIfNotCleanedUpShowsItOnce) {
  auto state = open_access<int64_t>("return_expired", ttl_of(1000, TtlUpdateType::kOnCreateAndWrite,
                                                             TtlVisibility::kReturnExpiredIfNotCleanedUp));
  ASSERT_OK(state.set("k", 7));
  clock_->advance_millis(1000);
  EXPECT_EQ(state.get("k").value(), std::optional<int64_t>(7));  // not cleaned up yet
  EXPECT_EQ(state.get("k").value(), std::nullopt);               // that read removed it
  EXPECT_EQ(raw_entry_count("return_expired"), 0u);
}

TEST_P(StateAccessTest, TtlStoresTheExpiryHeader) {
  auto state = open_access<int64_t>("header", ttl_of(1000));
  ASSERT_OK(state.set("k", 3));
  auto stored =
      raw_column("header")->get(make_state_key(key_group_for_key("k", kDefaultMaxParallelism), "k"));
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(internal::read_expiry(**stored), std::optional<int64_t>(kStartMillis + 1000));
  EXPECT_EQ(internal::expiring_payload(**stored), encode_value(int64_t{3}));
}

TEST_P(StateAccessTest, IncrementalCleanupRemovesExpiredEntriesOfOtherKeys) {
  StateTtlConfig ttl = ttl_of(1000);
  ttl.incremental_cleanup_entries = 100;
  auto state = open_access<int64_t>("incremental", ttl);
  for (int i = 0; i < 5; ++i) ASSERT_OK(state.set("old-" + std::to_string(i), i));
  clock_->advance_millis(1000);
  ASSERT_OK(state.set("fresh", 1));  // this access checks the column and drops the five
  EXPECT_EQ(raw_entry_count("incremental"), 1u);
  EXPECT_EQ(state.get("fresh").value(), std::optional<int64_t>(1));
}

TEST_P(StateAccessTest, ConfigTtlWorksWithStateAccess) {
  StateConfig config = StateConfig::short_lived();
  auto state = open_access<int64_t>("from_config", config.ttl_config());
  ASSERT_OK(state.set("k", 1));
  clock_->advance_millis(std::chrono::milliseconds(config.ttl).count());
  EXPECT_EQ(state.get("k").value(), std::nullopt);
}

TEST_P(StateAccessTest, CorruptBytesNameTheStateAndKey) {
  auto state = open_access<int64_t>("corrupt");
  const std::string key = make_state_key(key_group_for_key("bad", kDefaultMaxParallelism), "bad");
  ASSERT_OK(raw_column("corrupt")->put(key, "xyz"));
  EXPECT_STATUS(state.get("bad"), StatusCode::kCorruption, "state 'corrupt', key 'bad'");
  bool called = false;
  EXPECT_STATUS(state.update("bad",
                             [&called](std::optional<int64_t>) {
                               called = true;
                               return int64_t{1};
                             }),
                StatusCode::kCorruption, "state 'corrupt', key 'bad'");
  EXPECT_FALSE(called);
  EXPECT_EQ(raw_column("corrupt")->get(key).value(), std::optional<std::string>("xyz"));  // untouched

  auto with_ttl = open_access<int64_t>("corrupt_ttl", ttl_of(1000));
  ASSERT_OK(raw_column("corrupt_ttl")->put(key, "abc"));
  EXPECT_STATUS(with_ttl.get("bad"), StatusCode::kCorruption, "too short for its 8-byte expiry header");
}

TEST_P(StateAccessTest, AThrowingUpdateFunctionStoresNothing) {
  auto state = open_access<int64_t>("throwing");
  ASSERT_OK(state.set("k", 5));
  EXPECT_STATUS(
      state.update("k", [](std::optional<int64_t>) -> int64_t { throw std::runtime_error("boom"); }),
      StatusCode::kInvalidArgument, "state 'throwing', key 'k': the update function threw: boom");
  EXPECT_EQ(state.get("k").value(), std::optional<int64_t>(5));
  EXPECT_STATUS(state.update("absent", [](std::optional<int64_t>) -> int64_t { throw 42; }),
                StatusCode::kInvalidArgument, "non-standard exception");
  EXPECT_FALSE(state.exists("absent").value());
}

TEST_P(StateAccessTest, OpenErrors) {
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "bad name"), StatusCode::kInvalidArgument, "bad name");
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "_ss.mine"), StatusCode::kInvalidArgument,
                "names starting with \"_ss.\" are reserved");
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "x", ttl_of(-1)), StatusCode::kInvalidArgument,
                "StateAccess 'x': StateTtlConfig.ttl is -1 ms");
  EXPECT_STATUS(StateAccess<int64_t>::open(backend_, "x", {}, clock_, 0), StatusCode::kInvalidArgument,
                "StateAccess 'x'");
  EXPECT_STATUS(StateAccess<int64_t>::open(nullptr, "x"), StatusCode::kInvalidArgument,
                "the backend is null");
}

TEST_P(StateAccessTest, CopiesShareOneState) {
  auto first = open_access<int64_t>("copies");
  StateAccess<int64_t> second = first;
  ASSERT_OK(first.set("k", 1));
  EXPECT_EQ(second.get("k").value(), std::optional<int64_t>(1));
  auto reopened = open_access<int64_t>("copies");
  EXPECT_EQ(reopened.get("k").value(), std::optional<int64_t>(1));
}

INSTANTIATE_TEST_SUITE_P(backends, StateAccessTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate
