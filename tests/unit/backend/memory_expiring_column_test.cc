// Columns opened with ColumnOptions::values_carry_expiry on the memory backend: cleanup_expired()
// and the background thread drop entries whose expiry header passed (by the backend clock),
// leave live, never-expiring and too-short values alone, never touch other columns, and the
// flag is fixed when the column is first opened. Reads are not filtered by the backend.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/expiring_value.h"
#include "streamstate/memory.h"
#include "testutil/expiring_values.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using std::chrono::milliseconds;
using testing::carrying_expiry;
using testing::expiring;

constexpr int64_t kNow = 5'000'000;

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kNow);
  std::unique_ptr<MemoryBackend> backend;

  explicit Fixture(MemoryBackendOptions options = {}) {
    options.clock = clock;
    auto opened = MemoryBackend::open(options);
    EXPECT_OK(opened);
    backend = std::move(opened).value();
  }
};

TEST(MemoryExpiringColumnTest, CleanupDropsEntriesWhoseHeaderExpired) {
  Fixture f;
  auto column = f.backend->column_with_options("ttl", carrying_expiry());
  ASSERT_OK(column);
  StateColumn& c = *column.value();
  ASSERT_OK(c.put("past", expiring(kNow - 1, "a")));
  ASSERT_OK(c.put("boundary", expiring(kNow, "b")));  // expired when now >= expires_at
  ASSERT_OK(c.put("future", expiring(kNow + 1, "c")));
  ASSERT_OK(c.put("never", expiring(internal::kNeverExpiresMillis, "d")));

  // The backend does not filter reads: the keyed-state layer applies its own visibility.
  EXPECT_EQ(c.get("past").value(), std::optional<std::string>(expiring(kNow - 1, "a")));

  auto removed = f.backend->cleanup_expired();
  ASSERT_OK(removed);
  EXPECT_EQ(removed.value(), 2u);
  EXPECT_FALSE(c.contains("past").value());
  EXPECT_FALSE(c.contains("boundary").value());
  EXPECT_EQ(c.get("future").value(), std::optional<std::string>(expiring(kNow + 1, "c")));
  EXPECT_TRUE(c.contains("never").value());
  EXPECT_EQ(f.backend->statistics().expirations, 2u);
  EXPECT_EQ(f.backend->statistics().live_entries, 2u);

  f.clock->advance_millis(1);
  EXPECT_EQ(f.backend->cleanup_expired().value(), 1u);
  EXPECT_FALSE(c.contains("future").value());
  f.clock->set_millis(internal::kNeverExpiresMillis - 1);
  EXPECT_EQ(f.backend->cleanup_expired().value(), 0u);
  EXPECT_TRUE(c.contains("never").value());
  EXPECT_EQ(f.backend->statistics().expirations, 3u);
}

TEST(MemoryExpiringColumnTest, ShortValuesAndOtherColumnsAreLeftAlone) {
  Fixture f;
  auto ttl = f.backend->column_with_options("ttl", carrying_expiry()).value();
  auto plain = f.backend->column("plain").value();
  auto plain_with_options = f.backend->column_with_options("plain2", ColumnOptions{}).value();
  // Too short to carry a header: the reader reports it as corrupt; cleanup must not guess.
  ASSERT_OK(ttl->put("short", "1234567"));
  ASSERT_OK(ttl->put("empty", ""));
  // The same bytes in columns without the flag are opaque values.
  ASSERT_OK(plain->put("k", expiring(kNow - 100, "x")));
  ASSERT_OK(plain_with_options->put("k", expiring(kNow - 100, "x")));

  EXPECT_EQ(f.backend->cleanup_expired().value(), 0u);
  EXPECT_EQ(ttl->get("short").value(), std::optional<std::string>("1234567"));
  EXPECT_TRUE(ttl->contains("empty").value());
  EXPECT_TRUE(plain->contains("k").value());
  EXPECT_TRUE(plain_with_options->contains("k").value());
  EXPECT_EQ(f.backend->statistics().expirations, 0u);
}

TEST(MemoryExpiringColumnTest, FlagIsFixedAtFirstOpen) {
  Fixture f;
  ASSERT_OK(f.backend->column_with_options("ttl", carrying_expiry()));
  ASSERT_OK(f.backend->column_with_options("ttl", carrying_expiry()));
  EXPECT_STATUS(f.backend->column_with_options("ttl", ColumnOptions{}), StatusCode::kInvalidArgument,
                "column 'ttl' was created with values_carry_expiry=true");
  ASSERT_OK(f.backend->column("plain"));
  EXPECT_STATUS(f.backend->column_with_options("plain", carrying_expiry()), StatusCode::kInvalidArgument,
                "column 'plain' was created with values_carry_expiry=false");
  // column() opens an existing column whatever its options, and it keeps expiring.
  auto reopened = f.backend->column("ttl");
  ASSERT_OK(reopened);
  ASSERT_OK(reopened.value()->put("k", expiring(kNow, "v")));
  EXPECT_EQ(f.backend->cleanup_expired().value(), 1u);
  EXPECT_STATUS(f.backend->column_with_options("bad name", carrying_expiry()), StatusCode::kInvalidArgument,
                "bad name");

  // Dropping the column forgets the flag.
  ASSERT_OK(f.backend->drop_column("ttl"));
  auto recreated = f.backend->column_with_options("ttl", ColumnOptions{});
  ASSERT_OK(recreated);
  ASSERT_OK(recreated.value()->put("k", expiring(kNow - 1, "v")));
  EXPECT_EQ(f.backend->cleanup_expired().value(), 0u);
  EXPECT_TRUE(recreated.value()->contains("k").value());
}

TEST(MemoryExpiringColumnTest, WorksTogetherWithTheBackendTtl) {
  MemoryBackendOptions options;
  options.ttl = milliseconds(100);
  Fixture f(options);
  auto ttl = f.backend->column_with_options("ttl", carrying_expiry()).value();
  auto plain = f.backend->column("plain").value();
  ASSERT_OK(ttl->put("header-expired", expiring(kNow + 10, "a")));
  ASSERT_OK(ttl->put("header-live", expiring(kNow + 1000, "b")));
  ASSERT_OK(plain->put("p", "v"));
  f.clock->advance_millis(10);
  EXPECT_EQ(f.backend->cleanup_expired().value(), 1u);
  f.clock->advance_millis(90);  // the backend ttl has passed for every entry
  EXPECT_EQ(f.backend->cleanup_expired().value(), 2u);
  EXPECT_EQ(f.backend->statistics().live_entries, 0u);
  EXPECT_EQ(f.backend->statistics().expirations, 3u);
}

TEST(MemoryExpiringColumnTest, SnapshotsKeepWhatCleanupRemovesLater) {
  Fixture f;
  auto ttl = f.backend->column_with_options("ttl", carrying_expiry()).value();
  ASSERT_OK(ttl->put("k", expiring(kNow, "v")));
  auto snapshot = f.backend->snapshot();
  ASSERT_OK(snapshot);
  EXPECT_EQ(f.backend->cleanup_expired().value(), 1u);
  EXPECT_FALSE(ttl->contains("k").value());
  auto it = snapshot.value()->iterate("ttl");
  ASSERT_OK(it);
  ASSERT_TRUE(it.value()->valid());
  EXPECT_EQ(it.value()->key(), "k");
  EXPECT_EQ(it.value()->value(), expiring(kNow, "v"));
}

TEST(MemoryExpiringColumnTest, BackgroundThreadCleansWithoutABackendTtl) {
  MemoryBackendOptions options;
  options.cleanup_interval = milliseconds(1);
  Fixture f(options);
  auto ttl = f.backend->column_with_options("ttl", carrying_expiry()).value();
  auto plain = f.backend->column("plain").value();
  ASSERT_OK(ttl->put("live", expiring(kNow + 1, "a")));
  ASSERT_OK(plain->put("p", expiring(kNow - 1, "b")));
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(ttl->put("dead" + std::to_string(i), expiring(kNow, "x")));
  }
  // Polls the effect of the thread (not its speed): it runs every millisecond.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (f.backend->statistics().expirations < 100 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_EQ(f.backend->statistics().expirations, 100u);
  EXPECT_TRUE(ttl->contains("live").value());
  EXPECT_TRUE(plain->contains("p").value());
  EXPECT_FALSE(ttl->contains("dead0").value());
  EXPECT_OK(f.backend->close());
}

TEST(MemoryExpiringColumnTest, CleanupAfterCloseReportsClosed) {
  Fixture f;
  ASSERT_OK(f.backend->column_with_options("ttl", carrying_expiry()));
  ASSERT_OK(f.backend->close());
  EXPECT_STATUS(f.backend->cleanup_expired(), StatusCode::kClosed, "closed");
  EXPECT_STATUS(f.backend->column_with_options("ttl", carrying_expiry()), StatusCode::kClosed, "closed");
}

}  // namespace
}  // namespace streamstate
