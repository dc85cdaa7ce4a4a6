// TimerService: time order per domain, deduplication, deletion, persistence in the backend
// across a reopen, checkpoints restored into split key-group ranges, and times at the ends of
// int64's range.
#include "runtime/timer_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/key_group.h"
#include "streamstate/memory.h"
#include "streamstate/write_back_cache.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

constexpr uint32_t kMaxParallelism = 128;
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::shared_ptr<StateBackend> memory_backend() {
  return std::shared_ptr<StateBackend>(MemoryBackend::open({}).value());
}

uint32_t group_of(const std::string& key) { return key_group_for_key(key, kMaxParallelism); }

std::unique_ptr<TimerService> open_all(std::shared_ptr<StateBackend> backend) {
  return TimerService::open(std::move(backend), KeyGroupRange::all(kMaxParallelism)).value();
}

Status add(TimerService& timers, TimeDomain domain, const std::string& key, int64_t time) {
  return timers.register_timer(domain, key, group_of(key), time);
}

// Pops every timer due at `up_to`, as (time, key) pairs in firing order.
std::vector<std::pair<int64_t, std::string>> drain(TimerService& timers, TimeDomain domain, int64_t up_to) {
  std::vector<std::pair<int64_t, std::string>> fired;
  while (true) {
    Result<std::optional<FiredTimer>> due = timers.pop_due(domain, up_to);
    EXPECT_TRUE(due.is_ok()) << due.status().to_string();
    if (!due.is_ok() || !due->has_value()) break;
    EXPECT_EQ((*due)->domain, domain);
    EXPECT_EQ((*due)->key_group, group_of((*due)->key));
    fired.emplace_back((*due)->time, (*due)->key);
  }
  return fired;
}

using Fired = std::vector<std::pair<int64_t, std::string>>;

TEST(TimerService, FiresInTimeOrderThenKeyOrderAndOnlyWhenDue) {
  auto timers = open_all(memory_backend());
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "b", 20));
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "c", 10));
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "a", 20));
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "d", 30));
  EXPECT_EQ(timers->earliest(TimeDomain::kEventTime), 10);
  EXPECT_EQ(timers->earliest(TimeDomain::kProcessingTime), std::nullopt);

  EXPECT_EQ(drain(*timers, TimeDomain::kEventTime, 9), Fired{});
  EXPECT_EQ(drain(*timers, TimeDomain::kEventTime, 20), (Fired{{10, "c"}, {20, "a"}, {20, "b"}}));
  EXPECT_EQ(timers->earliest(TimeDomain::kEventTime), 30);
  EXPECT_EQ(timers->size(TimeDomain::kEventTime), 1u);
}

TEST(TimerService, DomainsAreSeparateQueues) {
  auto timers = open_all(memory_backend());
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "k", 5));
  ASSERT_OK(add(*timers, TimeDomain::kProcessingTime, "k", 5));
  EXPECT_EQ(timers->size(TimeDomain::kEventTime), 1u);
  EXPECT_EQ(timers->size(TimeDomain::kProcessingTime), 1u);
  EXPECT_EQ(drain(*timers, TimeDomain::kProcessingTime, 100), (Fired{{5, "k"}}));
  EXPECT_EQ(timers->size(TimeDomain::kEventTime), 1u) << "firing a processing-time timer removed the event-time one";
}

TEST(TimerService, RegisteringTheSameTimerTwiceKeepsOne) {
  auto backend = memory_backend();
  auto timers = open_all(backend);
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "k", 7));
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "k", 7));
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "k", 8));
  EXPECT_EQ(timers->size(TimeDomain::kEventTime), 2u);
  EXPECT_EQ(backend->statistics().puts, 2u) << "a duplicate registration wrote to the backend again";
  EXPECT_EQ(drain(*timers, TimeDomain::kEventTime, 100), (Fired{{7, "k"}, {8, "k"}}));
  EXPECT_EQ(backend->statistics().live_entries, 0u) << "fired timers stayed in the backend";
}

TEST(TimerService, DeletedTimersNeverFireAndDeletingAnAbsentOneIsANoOp) {
  auto timers = open_all(memory_backend());
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "a", 1));
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "b", 2));
  ASSERT_OK(timers->delete_timer(TimeDomain::kEventTime, "a", group_of("a"), 1));
  ASSERT_OK(timers->delete_timer(TimeDomain::kEventTime, "a", group_of("a"), 1));
  ASSERT_OK(timers->delete_timer(TimeDomain::kProcessingTime, "b", group_of("b"), 2));  // other domain
  ASSERT_OK(timers->delete_timer(TimeDomain::kEventTime, "never", group_of("never"), 3));
  EXPECT_EQ(drain(*timers, TimeDomain::kEventTime, 100), (Fired{{2, "b"}}));
}

TEST(TimerService, TimersSurviveAReopenOverTheSameBackend) {
  auto backend = memory_backend();
  {
    auto timers = open_all(backend);
    ASSERT_OK(add(*timers, TimeDomain::kEventTime, "a", 100));
    ASSERT_OK(add(*timers, TimeDomain::kEventTime, "b", 50));
    ASSERT_OK(add(*timers, TimeDomain::kProcessingTime, std::string("bin\0key", 7), 1'700'000'000'000));
    ASSERT_OK(add(*timers, TimeDomain::kEventTime, "gone", 10));
    ASSERT_OK(add(*timers, TimeDomain::kEventTime, "fired", 1));
    ASSERT_OK(timers->delete_timer(TimeDomain::kEventTime, "gone", group_of("gone"), 10));
    EXPECT_EQ(drain(*timers, TimeDomain::kEventTime, 1), (Fired{{1, "fired"}}));
  }
  auto reopened = open_all(backend);
  EXPECT_EQ(drain(*reopened, TimeDomain::kEventTime, kMax), (Fired{{50, "b"}, {100, "a"}}));
  EXPECT_EQ(drain(*reopened, TimeDomain::kProcessingTime, kMax),
            (Fired{{1'700'000'000'000, std::string("bin\0key", 7)}}));
}

TEST(TimerService, TimesAtTheEndsOfTheRangeOrderAndRoundTrip) {
  auto backend = memory_backend();
  const std::vector<int64_t> times = {kMax, 0, kMin, -1, 1, kMin + 1, kMax - 1, -1'000'000};
  {
    auto timers = open_all(backend);
    for (int64_t time : times) ASSERT_OK(add(*timers, TimeDomain::kEventTime, "k", time));
  }
  std::vector<int64_t> ascending = times;
  std::sort(ascending.begin(), ascending.end());
  Fired expected;
  for (int64_t time : ascending) expected.emplace_back(time, "k");
  auto reopened = open_all(backend);
  EXPECT_EQ(reopened->earliest(TimeDomain::kEventTime), kMin);
  EXPECT_EQ(drain(*reopened, TimeDomain::kEventTime, kMax), expected);

  // The stored keys sort bytewise as their times do (an ordered backend or a checkpoint reads
  // them in time order within a key group).
  std::vector<std::string> stored;
  for (int64_t time : times) stored.push_back(encode_timer_key(group_of("k"), TimeDomain::kEventTime, time, "k"));
  std::sort(stored.begin(), stored.end());
  std::vector<int64_t> decoded;
  for (const std::string& key : stored) decoded.push_back(decode_timer_key(key).value().time);
  EXPECT_EQ(decoded, ascending);
}

TEST(TimerService, OpenLoadsOnlyItsKeyGroupsAndRefusesTimersOfOthers) {
  auto backend = memory_backend();
  std::map<std::string, uint32_t> groups;
  {
    auto timers = open_all(backend);
    for (int i = 0; i < 200; ++i) {
      const std::string key = "user-" + std::to_string(i);
      groups[key] = group_of(key);
      ASSERT_OK(add(*timers, TimeDomain::kEventTime, key, i));
    }
  }
  const KeyGroupRange low(0, 64);
  auto half = TimerService::open(backend, low).value();
  size_t expected = 0;
  for (const auto& [key, group] : groups) expected += low.contains(group) ? 1 : 0;
  ASSERT_GT(expected, 0u);
  ASSERT_LT(expected, groups.size());
  EXPECT_EQ(half->size(TimeDomain::kEventTime), expected);
  for (const auto& [time, key] : drain(*half, TimeDomain::kEventTime, kMax)) EXPECT_TRUE(low.contains(groups[key])) << key;

  const std::string outside = std::find_if(groups.begin(), groups.end(), [&](const auto& entry) {
                                return !low.contains(entry.second);
                              })->first;
  EXPECT_STATUS(half->register_timer(TimeDomain::kEventTime, outside, groups[outside], 1), StatusCode::kOutOfRange,
                outside);
}

TEST(TimerService, ACheckpointRestoredIntoSplitRangesGivesEachInstanceExactlyItsTimers) {
  auto backend = memory_backend();
  std::map<std::string, uint32_t> groups;
  {
    auto timers = open_all(backend);
    for (int i = 0; i < 300; ++i) {
      const std::string key = "user-" + std::to_string(i);
      groups[key] = group_of(key);
      ASSERT_OK(add(*timers, TimeDomain::kEventTime, key, 1000 + i));
      if (i % 3 == 0) ASSERT_OK(add(*timers, TimeDomain::kProcessingTime, key, -i));
    }
  }
  std::unique_ptr<CheckpointStorage> storage = open_memory_storage();
  Result<CheckpointInfo> written = write_checkpoint(*backend, *storage, CheckpointOptions{});
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();

  std::map<std::string, int> restored_event;  // key -> how many instances fired it
  size_t restored_processing = 0;
  for (uint32_t instance = 0; instance < 2; ++instance) {
    const KeyGroupRange range = KeyGroupRange::for_operator(kMaxParallelism, 2, instance);
    auto target = memory_backend();
    RestoreOptions options;
    options.key_groups = range;
    Result<RestoreInfo> restored = restore_checkpoint(*storage, written->manifest.id, *target, options);
    ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
    auto timers = TimerService::open(target, range).value();
    for (const auto& [time, key] : drain(*timers, TimeDomain::kEventTime, kMax)) {
      EXPECT_TRUE(range.contains(groups[key])) << key << " restored into instance " << instance;
      EXPECT_EQ(time, 1000 + std::stoi(key.substr(5)));
      ++restored_event[key];
    }
    for (const auto& [time, key] : drain(*timers, TimeDomain::kProcessingTime, kMax)) {
      EXPECT_TRUE(range.contains(groups[key])) << key;
      EXPECT_EQ(time, -std::stoi(key.substr(5)));
      ++restored_processing;
    }
  }
  EXPECT_EQ(restored_event.size(), groups.size()) << "timers were lost in the restore";
  for (const auto& [key, count] : restored_event) EXPECT_EQ(count, 1) << key << " restored into both instances";
  EXPECT_EQ(restored_processing, 100u);
}

// Over a write-back cache (as on RocksDB in a pipeline), timer changes wait in the cache, and a
// checkpoint of the cache still holds exactly the timers registered and not fired.
TEST(TimerService, ACheckpointOfAWriteBackCacheHoldsTheCachedTimers) {
  auto inner = memory_backend();
  std::shared_ptr<StateBackend> cache = open_write_back_cache(inner).value();
  auto timers = open_all(cache);
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "a", 10));
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "b", 20));
  ASSERT_OK(add(*timers, TimeDomain::kEventTime, "c", 30));
  EXPECT_EQ(drain(*timers, TimeDomain::kEventTime, 10), (Fired{{10, "a"}}));
  EXPECT_EQ(inner->statistics().live_entries, 0u) << "timer writes went past the cache";

  std::unique_ptr<CheckpointStorage> storage = open_memory_storage();
  Result<CheckpointInfo> written = write_checkpoint(*cache, *storage, CheckpointOptions{});
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  auto target = memory_backend();
  Result<RestoreInfo> restored = restore_checkpoint(*storage, written->manifest.id, *target, RestoreOptions{});
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(drain(*open_all(target), TimeDomain::kEventTime, kMax), (Fired{{20, "b"}, {30, "c"}}));
}

TEST(TimerService, AStoredKeyThatIsNoTimerIsCorruption) {
  auto backend = memory_backend();
  ASSERT_OK(backend->column(std::string(kTimersColumn)).value()->put("short", ""));
  EXPECT_STATUS(TimerService::open(backend, KeyGroupRange::all(kMaxParallelism)), StatusCode::kCorruption, "short");
  EXPECT_STATUS(decode_timer_key(encode_timer_key(3, static_cast<TimeDomain>(7), 0, "k")), StatusCode::kCorruption,
                "time domain 7");
}

}  // namespace
}  // namespace streamstate
