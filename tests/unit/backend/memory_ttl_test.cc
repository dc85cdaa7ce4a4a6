// TTL of the memory backend, driven by a ManualClock: exact expiry at the boundary, hiding of
// expired entries from every read path, refresh on read and on write, cleanup_expired(), and
// the background cleanup thread.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kStart = 1'000'000;

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kStart);
  std::unique_ptr<MemoryBackend> backend;
  std::shared_ptr<StateColumn> column;

  explicit Fixture(MemoryBackendOptions options) {
    options.clock = clock;
    auto opened = MemoryBackend::open(options);
    EXPECT_OK(opened);
    backend = std::move(opened).value();
    column = backend->column("c").value();
  }
};

MemoryBackendOptions with_ttl(int64_t ttl_millis) {
  MemoryBackendOptions options;
  options.ttl = milliseconds(ttl_millis);
  return options;
}

std::set<std::string> scan_keys(StateColumn& column) {
  std::set<std::string> keys;
  EXPECT_OK(column.scan("", [&keys](BytesView key, BytesView) {
    keys.emplace(key);
    return true;
  }));
  return keys;
}

std::set<std::string> snapshot_keys(MemoryBackend& backend) {
  std::set<std::string> keys;
  auto snapshot = backend.snapshot();
  EXPECT_OK(snapshot);
  auto it = snapshot.value()->iterate("c");
  EXPECT_OK(it);
  for (; it.value()->valid(); it.value()->next()) keys.emplace(it.value()->key());
  EXPECT_OK(it.value()->status());
  return keys;
}

TEST(MemoryTtlTest, EntryExpiresExactlyAtTheBoundary) {
  Fixture f(with_ttl(100));
  ASSERT_OK(f.column->put("k", "v"));
  f.clock->set_millis(kStart + 99);
  EXPECT_EQ(f.column->get("k").value(), std::optional<std::string>("v"));
  f.clock->set_millis(kStart + 100);
  EXPECT_EQ(f.column->get("k").value(), std::nullopt);
  // Going back in time does not resurrect it: it was removed when touched.
  f.clock->set_millis(kStart);
  EXPECT_EQ(f.column->get("k").value(), std::nullopt);
  EXPECT_EQ(f.backend->statistics().expirations, 1u);
}

TEST(MemoryTtlTest, ExpiredEntriesAreInvisibleToEveryReadPath) {
  Fixture f(with_ttl(100));
  ASSERT_OK(f.column->put("old", "1"));
  f.clock->advance_millis(50);
  ASSERT_OK(f.column->put("new", "2"));
  f.clock->advance_millis(50);  // "old" is expired now, "new" has 50 ms left

  EXPECT_EQ(scan_keys(*f.column), (std::set<std::string>{"new"}));
  EXPECT_EQ(snapshot_keys(*f.backend), (std::set<std::string>{"new"}));
  EXPECT_FALSE(f.column->contains("old").value());
  EXPECT_TRUE(f.column->contains("new").value());
  EXPECT_EQ(f.column->get("old").value(), std::nullopt);

  // update() sees an expired entry as absent.
  std::optional<std::string> seen = "unset";
  ASSERT_OK(f.column->update("old", [&seen](std::optional<BytesView> current) -> std::optional<std::string> {
    seen = current ? std::optional<std::string>(std::string(*current)) : std::nullopt;
    return std::string("fresh");
  }));
  EXPECT_EQ(seen, std::nullopt);
  EXPECT_EQ(f.column->get("old").value(), std::optional<std::string>("fresh"));
}

TEST(MemoryTtlTest, SnapshotHidesEntriesByItsOwnTime) {
  Fixture f(with_ttl(100));
  ASSERT_OK(f.column->put("a", "1"));
  f.clock->advance_millis(60);
  ASSERT_OK(f.column->put("b", "2"));
  f.clock->advance_millis(40);  // a expired, b live until +160
  auto snapshot = f.backend->snapshot();
  ASSERT_OK(snapshot);
  f.clock->advance_millis(1000);  // both expired for the live backend
  auto it = snapshot.value()->iterate("c");
  ASSERT_OK(it);
  ASSERT_TRUE(it.value()->valid());
  EXPECT_EQ(it.value()->key(), "b");
  it.value()->next();
  EXPECT_FALSE(it.value()->valid());
  EXPECT_OK(it.value()->status());
  EXPECT_TRUE(scan_keys(*f.column).empty());
}

TEST(MemoryTtlTest, ReadsRefreshTheTtlOnlyWhenAskedTo) {
  MemoryBackendOptions options = with_ttl(100);
  options.refresh_ttl_on_read = true;
  Fixture refreshing(options);
  ASSERT_OK(refreshing.column->put("k", "v"));
  refreshing.clock->advance_millis(80);
  ASSERT_TRUE(refreshing.column->get("k").value().has_value());  // expires at +180 now
  refreshing.clock->advance_millis(99);
  ASSERT_TRUE(refreshing.column->contains("k").value());  // contains is a read too: +279
  refreshing.clock->advance_millis(99);
  EXPECT_TRUE(refreshing.column->get("k").value().has_value());
  refreshing.clock->advance_millis(100);
  EXPECT_FALSE(refreshing.column->get("k").value().has_value());

  Fixture plain(with_ttl(100));
  ASSERT_OK(plain.column->put("k", "v"));
  plain.clock->advance_millis(80);
  ASSERT_TRUE(plain.column->get("k").value().has_value());
  plain.clock->advance_millis(20);
  EXPECT_FALSE(plain.column->get("k").value().has_value());
}

TEST(MemoryTtlTest, EveryKindOfWriteRestartsTheTtl) {
  Fixture f(with_ttl(100));
  ASSERT_OK(f.column->put("put", "1"));
  ASSERT_OK(f.column->put("update", "1"));
  ASSERT_OK(f.column->put("batch", "1"));
  f.clock->advance_millis(90);
  ASSERT_OK(f.column->put("put", "2"));
  ASSERT_OK(f.column->update("update", [](std::optional<BytesView>) { return std::optional<std::string>("2"); }));
  WriteBatch batch;
  batch.put("c", "batch", "2");
  ASSERT_OK(f.backend->write(batch));
  f.clock->advance_millis(99);  // 189 ms after the first writes, 99 after the second
  EXPECT_EQ(f.column->get("put").value(), std::optional<std::string>("2"));
  EXPECT_EQ(f.column->get("update").value(), std::optional<std::string>("2"));
  EXPECT_EQ(f.column->get("batch").value(), std::optional<std::string>("2"));
  f.clock->advance_millis(1);
  EXPECT_EQ(f.column->get("put").value(), std::nullopt);
  EXPECT_EQ(f.column->get("update").value(), std::nullopt);
  EXPECT_EQ(f.column->get("batch").value(), std::nullopt);
}

TEST(MemoryTtlTest, WithoutTtlNothingExpires) {
  Fixture f(MemoryBackendOptions{});
  ASSERT_OK(f.column->put("k", "v"));
  f.clock->advance_millis(int64_t{1} << 50);
  EXPECT_TRUE(f.column->contains("k").value());
  EXPECT_EQ(f.backend->cleanup_expired().value(), 0u);
}

TEST(MemoryTtlTest, HugeTtlDoesNotOverflow) {
  MemoryBackendOptions options;
  options.ttl = milliseconds::max();
  Fixture f(options);
  ASSERT_OK(f.column->put("k", "v"));
  f.clock->set_millis(INT64_MAX - 1);
  EXPECT_TRUE(f.column->contains("k").value());
}

TEST(MemoryTtlTest, CleanupExpiredRemovesAndCountsOnlyExpiredEntries) {
  Fixture f(with_ttl(100));
  for (int i = 0; i < 50; ++i) ASSERT_OK(f.column->put("early-" + std::to_string(i), "v"));
  f.clock->advance_millis(50);
  for (int i = 0; i < 30; ++i) ASSERT_OK(f.column->put("late-" + std::to_string(i), "v"));
  f.clock->advance_millis(50);

  EXPECT_EQ(f.backend->statistics().live_entries, 80u);
  EXPECT_EQ(f.backend->cleanup_expired().value(), 50u);
  EXPECT_EQ(f.backend->cleanup_expired().value(), 0u);
  BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.live_entries, 30u);
  EXPECT_EQ(stats.expirations, 50u);
  EXPECT_EQ(stats.bytes_in_use, 30u * (std::string("late-0").size() + 1) + 20u);  // late-10..late-29 are 1 longer

  f.clock->advance_millis(50);
  EXPECT_EQ(f.backend->cleanup_expired().value(), 30u);
  stats = f.backend->statistics();
  EXPECT_EQ(stats.live_entries, 0u);
  EXPECT_EQ(stats.bytes_in_use, 0u);
  EXPECT_EQ(stats.expirations, 80u);
}

TEST(MemoryTtlTest, ExpiredEntryTouchedByGetIsRemovedAndCounted) {
  Fixture f(with_ttl(10));
  ASSERT_OK(f.column->put("k", "v"));
  ASSERT_OK(f.column->put("other", "v"));
  f.clock->advance_millis(10);
  EXPECT_FALSE(f.column->get("k").value().has_value());
  BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.expirations, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 0u);
  EXPECT_EQ(stats.live_entries, 1u);  // "other" stays until touched or cleaned up
}

// Polls (no timing assertion) until `done` or about five seconds have passed.
template <typename Predicate>
bool eventually(Predicate done) {
  for (int i = 0; i < 5000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return done();
}

TEST(MemoryTtlTest, BackgroundThreadRemovesExpiredEntries) {
  MemoryBackendOptions options = with_ttl(100);
  options.cleanup_interval = milliseconds(2);
  Fixture f(options);
  for (int i = 0; i < 20; ++i) ASSERT_OK(f.column->put("k" + std::to_string(i), "v"));
  // Several passes run while nothing is expired; they must not remove live entries.
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(f.backend->statistics().live_entries, 20u);

  f.clock->advance_millis(100);
  EXPECT_TRUE(eventually([&f] { return f.backend->statistics().live_entries == 0; }));
  BackendStatistics stats = f.backend->statistics();
  EXPECT_EQ(stats.expirations, 20u);
  EXPECT_EQ(stats.gets, 0u);  // removed by the thread, not by reads
}

TEST(MemoryTtlTest, CloseStopsTheCleanupThreadWithoutWaitingForTheInterval) {
  MemoryBackendOptions options = with_ttl(2 * 3600 * 1000);
  options.cleanup_interval = milliseconds(3600 * 1000);
  Fixture f(options);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_OK(f.backend->close());
  // A thread that slept through its interval would hold close() for an hour.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_STATUS(f.backend->cleanup_expired(), StatusCode::kClosed, "closed");
}

TEST(MemoryTtlTest, DestroyingTheBackendStopsTheCleanupThread) {
  MemoryBackendOptions options = with_ttl(2 * 3600 * 1000);
  options.cleanup_interval = milliseconds(3600 * 1000);
  auto column = [&options] {
    Fixture f(options);
    return f.column;
  }();  // the backend is destroyed here; the test would hang if the thread kept it alive
  EXPECT_STATUS(column->put("k", "v"), StatusCode::kClosed, "closed");
}

}  // namespace
}  // namespace streamstate
