// Columns opened with ColumnOptions::values_carry_expiry on the RocksDB backend: compaction
// drops entries whose expiry header passed by the backend clock, keeps live, never-expiring
// and too-short values, never touches columns without the flag, and the flag survives a
// reopen (the filter is installed again) while list_columns() shows the plain names.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/expiring_value.h"
#include "streamstate/clock.h"
#include "streamstate/rocksdb.h"
#include "testutil/expiring_values.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/backend/rocksdb_test_fixture.h"

namespace streamstate {
namespace {

using testing::carrying_expiry;
using testing::contents;
using testing::expiring;
using testing::open_or_die;
using testing::small_options;
using testing::TempDir;

constexpr int64_t kNow = 7'000'000;

// A RocksDB backend in a fresh directory, driven by a manual clock that starts at kNow.
class RocksDbExpiringColumnTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(open()); }

  // Opens the backend on the test's directory (again, after close()).
  void open() {
    backend = open_or_die(small_options(dir.file("db"), clock));
    ASSERT_NE(backend, nullptr);
  }
  std::shared_ptr<StateColumn> expiring_column() {
    return backend->column_with_options("ttl", carrying_expiry()).value();
  }

  TempDir dir;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kNow);
  std::unique_ptr<RocksDbBackend> backend;
};

TEST_F(RocksDbExpiringColumnTest, CompactionDropsExpiredEntriesOnly) {
  auto ttl = backend->column_with_options("ttl", carrying_expiry());
  ASSERT_OK(ttl);
  auto plain = backend->column("plain");
  ASSERT_OK(plain);
  StateColumn& c = *ttl.value();
  ASSERT_OK(c.put("past", expiring(kNow - 1, "a")));
  ASSERT_OK(c.put("boundary", expiring(kNow, "b")));  // expired when now >= expires_at
  ASSERT_OK(c.put("future", expiring(kNow + 1, "c")));
  ASSERT_OK(c.put("never", expiring(internal::kNeverExpiresMillis, "d")));
  ASSERT_OK(c.put("short", "1234567"));  // too short for a header: left for the reader
  ASSERT_OK(plain.value()->put("p", expiring(kNow - 100, "x")));

  // Reads are not filtered by the backend.
  EXPECT_EQ(c.get("past").value(), std::optional<std::string>(expiring(kNow - 1, "a")));
  ASSERT_OK(backend->compact());
  const std::map<std::string, std::string> survivors{{"future", expiring(kNow + 1, "c")},
                                                      {"never", expiring(internal::kNeverExpiresMillis, "d")},
                                                      {"short", "1234567"}};
  EXPECT_EQ(contents(c), survivors);
  EXPECT_EQ(c.get("past").value(), std::nullopt);
  EXPECT_FALSE(c.contains("boundary").value());
  EXPECT_EQ(contents(*plain.value()),
            (std::map<std::string, std::string>{{"p", expiring(kNow - 100, "x")}}));

  clock->advance_millis(1);
  ASSERT_OK(backend->compact());
  EXPECT_EQ(c.get("future").value(), std::nullopt);
  EXPECT_TRUE(c.contains("never").value());
  EXPECT_TRUE(c.contains("short").value());
  EXPECT_OK(backend->close());
}

// The entries a snapshot shows for `column`.
std::map<std::string, std::string> snapshot_contents(BackendSnapshot& snapshot, std::string_view column) {
  std::map<std::string, std::string> entries;
  auto it = snapshot.iterate(column);
  EXPECT_OK(it);
  if (!it.is_ok()) return entries;
  for (; it.value()->valid(); it.value()->next()) {
    entries.emplace(std::string(it.value()->key()), std::string(it.value()->value()));
  }
  EXPECT_OK(it.value()->status());
  return entries;
}

TEST_F(RocksDbExpiringColumnTest, AnExpiredNewerVersionDoesNotResurrectAnOlderOne) {
  auto c = expiring_column();
  ASSERT_OK(c->put("k", expiring(kNow + 1000, "old")));
  ASSERT_OK(backend->compact());  // the old version sits in a table file of a lower level now
  ASSERT_OK(c->put("k", expiring(kNow + 10, "new")));
  clock->advance_millis(10);
  ASSERT_OK(backend->compact());
  EXPECT_EQ(c->get("k").value(), std::nullopt);
  EXPECT_TRUE(contents(*c).empty());
  EXPECT_OK(backend->close());
}

// A snapshot taken between the two versions makes compaction keep the older one in the file
// it writes, under the newer one. The filter drops the newer version; RocksDB must turn that
// into a deletion, or the older, live version would come back once the snapshot is gone.
TEST_F(RocksDbExpiringColumnTest, AnOlderVersionKeptBelowADroppedOneStaysHidden) {
  auto c = expiring_column();
  ASSERT_OK(c->put("k", expiring(kNow + 1000, "old")));
  ASSERT_OK(backend->compact());
  auto snapshot = backend->snapshot();
  ASSERT_OK(snapshot);
  ASSERT_OK(c->put("k", expiring(kNow + 10, "new")));
  clock->advance_millis(10);
  ASSERT_OK(backend->compact());
  EXPECT_EQ(c->get("k").value(), std::nullopt);
  // The older version is still stored: the snapshot reads it.
  EXPECT_EQ(snapshot_contents(*snapshot.value(), "ttl"),
            (std::map<std::string, std::string>{{"k", expiring(kNow + 1000, "old")}}));
  snapshot.value().reset();
  EXPECT_EQ(c->get("k").value(), std::nullopt);
  ASSERT_OK(backend->compact());
  EXPECT_EQ(c->get("k").value(), std::nullopt);
  EXPECT_TRUE(contents(*c).empty());
  EXPECT_OK(backend->close());
}

TEST_F(RocksDbExpiringColumnTest, FlagSurvivesReopen) {
  {
    ASSERT_OK(backend->column_with_options("ttl", carrying_expiry()));
    ASSERT_OK(backend->column("plain"));
    ASSERT_OK(backend->column_with_options("plain2", ColumnOptions{}));
    auto c = backend->column("ttl").value();  // column() opens it whatever its flag
    ASSERT_OK(c->put("soon", expiring(kNow + 100, "a")));
    ASSERT_OK(c->put("later", expiring(kNow + 200, "b")));
    ASSERT_OK(backend->close());
  }
  clock->advance_millis(100);
  ASSERT_NO_FATAL_FAILURE(open());
  EXPECT_EQ(backend->list_columns().value(), (std::vector<std::string>{"plain", "plain2", "ttl"}));
  EXPECT_STATUS(backend->column_with_options("ttl", ColumnOptions{}), StatusCode::kInvalidArgument,
                "column 'ttl'");
  EXPECT_STATUS(backend->column_with_options("plain", carrying_expiry()), StatusCode::kInvalidArgument,
                "values_carry_expiry");
  // Compaction runs before anyone reopens the column with options: the filter is already there.
  ASSERT_OK(backend->compact());
  auto c = backend->column_with_options("ttl", carrying_expiry());
  ASSERT_OK(c);
  EXPECT_EQ(contents(*c.value()), (std::map<std::string, std::string>{{"later", expiring(kNow + 200, "b")}}));
  EXPECT_OK(backend->close());
}

TEST_F(RocksDbExpiringColumnTest, FlagIsFixedAtCreationAndForgottenOnDrop) {
  ASSERT_OK(backend->column_with_options("ttl", carrying_expiry()));
  ASSERT_OK(backend->column_with_options("ttl", carrying_expiry()));
  EXPECT_STATUS(backend->column_with_options("ttl", ColumnOptions{}), StatusCode::kInvalidArgument,
                "created with values_carry_expiry=true and cannot be opened with values_carry_expiry=false");
  EXPECT_STATUS(backend->column_with_options("bad name", carrying_expiry()), StatusCode::kInvalidArgument,
                "bad name");
  ASSERT_OK(backend->drop_column("ttl"));
  auto recreated = backend->column_with_options("ttl", ColumnOptions{});
  ASSERT_OK(recreated);
  ASSERT_OK(recreated.value()->put("k", expiring(kNow - 1, "v")));
  ASSERT_OK(backend->compact());
  EXPECT_TRUE(recreated.value()->contains("k").value());
  EXPECT_EQ(backend->list_columns().value(), (std::vector<std::string>{"ttl"}));
  EXPECT_OK(backend->close());
  EXPECT_STATUS(backend->column_with_options("ttl", carrying_expiry()), StatusCode::kClosed, "closed");
}

TEST_F(RocksDbExpiringColumnTest, BatchesAndSnapshotsSeeExpiringColumns) {
  auto c = expiring_column();
  WriteBatch batch;
  batch.put("ttl", "dead", expiring(kNow, "x"));
  batch.put("ttl", "live", expiring(kNow + 5, "y"));
  ASSERT_OK(backend->write(batch));
  auto snapshot = backend->snapshot();
  ASSERT_OK(snapshot);
  EXPECT_EQ(snapshot.value()->columns(), (std::vector<std::string>{"ttl"}));
  EXPECT_EQ(snapshot_contents(*snapshot.value(), "ttl").size(), 2u);
  ASSERT_OK(backend->compact());
  EXPECT_EQ(contents(*c), (std::map<std::string, std::string>{{"live", expiring(kNow + 5, "y")}}));
  // Compaction filters ignore snapshots (see backend.h): the earlier snapshot loses the entry too.
  EXPECT_EQ(snapshot_contents(*snapshot.value(), "ttl"),
            (std::map<std::string, std::string>{{"live", expiring(kNow + 5, "y")}}));
  EXPECT_OK(backend->close());
}

}  // namespace
}  // namespace streamstate
