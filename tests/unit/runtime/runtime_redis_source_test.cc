// The Redis Streams source against a real redis-server: stream keys become splits, entry ids
// positions that replay exactly (also regrouped over other readers), a bounded reader stops at
// the entries present when it opened, an unbounded one picks up new entries, and an unreachable
// server or a bad position is refused naming it.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/sources.h"
#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"
#include "unit/runtime/sources_test_helpers.h"

namespace streamstate {
namespace {

using testing::CollectingOutput;
using testing::open_or_fail;
using testing::read_all;
using testing::RedisServer;

class RedisStreamSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<RedisServer>> server = RedisServer::start();
    ASSERT_OK(server);
    server_ = std::move(server).value();
  }

  RedisStreamSourceOptions options(std::vector<std::string> streams, bool stop_at_end = true) const {
    RedisStreamSourceOptions result;
    result.port = server_->port();
    result.streams = std::move(streams);
    result.batch_size = 4;
    result.block_millis = 0;
    result.stop_at_end = stop_at_end;
    return result;
  }

  // XADD with an explicit id, so that the expected ids are known.
  void add(const std::string& stream, const std::string& id, const std::string& value) {
    ASSERT_OK(server_->command({"XADD", stream, id, "v", value, "stream", stream}));
  }

  // Streams s0..s2 with 10, 7 and 0 entries, ids <i+1>-<stream>.
  void fill() {
    for (int s = 0; s < 2; ++s) {
      const int entries = s == 0 ? 10 : 7;
      for (int i = 0; i < entries; ++i) {
        add("s" + std::to_string(s), std::to_string(i + 1) + "-" + std::to_string(s), std::to_string(s * 100 + i));
      }
    }
  }

  std::unique_ptr<RedisServer> server_;
};

std::string key(const RedisStreamEntry& entry) { return entry.stream + "/" + entry.id; }

TEST_F(RedisStreamSourceTest, ReadsEveryStreamInIdOrderAndEndsWhenBounded) {
  fill();
  auto source = redis_stream_source(options({"s0", "s1", "s2"}));
  Result<std::vector<SourceSplit>> splits = source->discover_splits();
  ASSERT_OK(splits);
  EXPECT_EQ(*splits, (std::vector<SourceSplit>{{"s0", ""}, {"s1", ""}, {"s2", ""}}));
  CollectingOutput<RedisStreamEntry> out;
  auto reader = open_or_fail(*source, *splits);
  ASSERT_NE(reader, nullptr);
  testing::read_to_end(*reader, out, 100);
  ASSERT_EQ(out.records.size(), 17u);
  std::vector<std::string> s0;
  for (const RedisStreamEntry& entry : out.records) {
    if (entry.stream == "s0") s0.push_back(entry.id);
  }
  EXPECT_EQ(s0, (std::vector<std::string>{"1-0", "2-0", "3-0", "4-0", "5-0", "6-0", "7-0", "8-0", "9-0", "10-0"}));
  EXPECT_EQ(out.records[0].fields,
            (std::vector<std::pair<std::string, std::string>>{{"v", "0"}, {"stream", "s0"}}));
  EXPECT_EQ(out.records[0].id_millis(), 1);
  EXPECT_EQ(reader->splits(), (std::vector<SourceSplit>{{"s0", "10-0"}, {"s1", "7-1"}, {"s2", ""}}));
}

TEST_F(RedisStreamSourceTest, ContinuesExactlyFromItsPositions) {
  fill();
  auto source = redis_stream_source(options({"s0", "s1", "s2"}));
  testing::expect_exact_replay<RedisStreamEntry>(*source, {1, 3, 8, 16, 17}, 3);
}

TEST_F(RedisStreamSourceTest, RegroupedSplitsGiveTheSameEntries) {
  fill();
  for (int i = 0; i < 5; ++i) add("s3", std::to_string(i + 1) + "-3", "x");
  auto source = redis_stream_source(options({"s0", "s1", "s2", "s3"}));
  testing::expect_same_records_regrouped<RedisStreamEntry>(*source, 6, key);
}

TEST_F(RedisStreamSourceTest, BoundedReaderStopsAtTheEntriesPresentWhenItOpened) {
  fill();
  auto source = redis_stream_source(options({"s0"}));
  auto reader = open_or_fail(*source, {{"s0", "8-0"}});
  ASSERT_NE(reader, nullptr);
  add("s0", "11-0", "late");
  CollectingOutput<RedisStreamEntry> out;
  testing::read_to_end(*reader, out);
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(out.records[1].id, "10-0");
  // A new reader from the same position sees the late entry.
  EXPECT_EQ(read_all(*source, reader->splits()).size(), 1u);
}

TEST_F(RedisStreamSourceTest, UnboundedReaderIsIdleWithoutEntriesAndPicksUpNewOnes) {
  auto source = redis_stream_source(options({"live"}, /*stop_at_end=*/false));
  auto reader = open_or_fail(*source, *source->discover_splits());
  ASSERT_NE(reader, nullptr);
  CollectingOutput<RedisStreamEntry> out;
  Result<SourcePoll> poll = reader->poll(out, 10);
  ASSERT_OK(poll);
  EXPECT_EQ(*poll, SourcePoll::kIdle);
  add("live", "5-0", "a");
  add("live", "6-0", "b");
  poll = reader->poll(out, 10);
  ASSERT_OK(poll);
  EXPECT_EQ(*poll, SourcePoll::kMore);
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(reader->splits(), (std::vector<SourceSplit>{{"live", "6-0"}}));
  // With BLOCK, an empty wait is idle too.
  RedisStreamSourceOptions blocking = options({"live"}, false);
  blocking.block_millis = 20;
  auto blocking_reader = open_or_fail(*redis_stream_source(blocking), reader->splits());
  poll = blocking_reader->poll(out, 10);
  ASSERT_OK(poll);
  EXPECT_EQ(*poll, SourcePoll::kIdle);
  // A poll shares its max_records among its streams (XREAD COUNT is per stream).
  for (int i = 0; i < 10; ++i) {
    add("live", std::to_string(i + 10) + "-0", "c");
    add("live2", std::to_string(i + 10) + "-0", "d");
  }
  auto two = open_or_fail(*source, {{"live", "6-0"}, {"live2", ""}});
  CollectingOutput<RedisStreamEntry> shared;
  ASSERT_OK(two->poll(shared, 4));
  EXPECT_EQ(shared.records.size(), 4u);
  EXPECT_EQ(two->splits(), (std::vector<SourceSplit>{{"live", "11-0"}, {"live2", "11-0"}}));
}

TEST(RedisStreamSourceRestart, ReaderReconnectsAfterAServerRestartAndContinuesAfterItsPosition) {
  Result<std::unique_ptr<RedisServer>> started = RedisServer::start("", RedisServer::Persistence::kAppendOnlyFile);
  ASSERT_OK(started);
  std::unique_ptr<RedisServer> server = std::move(started).value();
  for (int i = 1; i <= 10; ++i) {
    ASSERT_OK(server->command({"XADD", "s", std::to_string(i) + "-0", "i", std::to_string(i)}));
  }
  RedisStreamSourceOptions options;
  options.port = server->port();
  options.streams = {"s"};
  options.batch_size = 4;
  options.block_millis = 0;
  auto source = redis_stream_source(options);
  auto reader = open_or_fail(*source, *source->discover_splits());
  ASSERT_NE(reader, nullptr);
  CollectingOutput<RedisStreamEntry> out;
  ASSERT_OK(reader->poll(out, 100));
  ASSERT_EQ(out.records.size(), 4u);
  ASSERT_OK(server->restart());
  while (out.records.size() < 10) {
    Result<SourcePoll> poll = reader->poll(out, 100);
    ASSERT_OK(poll);
    ASSERT_EQ(*poll, SourcePoll::kMore);
  }
  std::vector<std::string> ids;
  for (const RedisStreamEntry& entry : out.records) ids.push_back(entry.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"1-0", "2-0", "3-0", "4-0", "5-0", "6-0", "7-0", "8-0", "9-0", "10-0"}));
}

TEST(RedisStreamSourcePassword, ReadsWithThePasswordAndRefusesAWrongOne) {
  Result<std::unique_ptr<RedisServer>> started = RedisServer::start("s3cret");
  ASSERT_OK(started);
  std::unique_ptr<RedisServer> server = std::move(started).value();
  ASSERT_OK(server->command({"XADD", "s", "1-0", "k", "v"}));
  RedisStreamSourceOptions options;
  options.port = server->port();
  options.streams = {"s"};
  options.stop_at_end = true;
  options.password = "s3cret";
  auto source = redis_stream_source(options);
  EXPECT_EQ(read_all(*source, {{"s", ""}}).size(), 1u);
  options.password = "wrong";
  EXPECT_STATUS(redis_stream_source(options)->open_reader({{"s", ""}}, {}), StatusCode::kInvalidArgument, "AUTH");
  options.password = "";
  EXPECT_STATUS(redis_stream_source(options)->open_reader({{"s", ""}}, {}), StatusCode::kInvalidArgument,
                "requires a password");
}

TEST_F(RedisStreamSourceTest, UnreachableServerIsUnavailableNamingHostAndPort) {
  const uint16_t port = server_->port();
  ASSERT_OK(server_->stop());
  RedisStreamSourceOptions unreachable = options({"s0"});
  unreachable.connect_timeout = std::chrono::milliseconds(500);
  auto source = redis_stream_source(unreachable);
  EXPECT_STATUS(source->open_reader({{"s0", ""}}, {}), StatusCode::kUnavailable,
                "127.0.0.1:" + std::to_string(port));
}

TEST_F(RedisStreamSourceTest, BadPositionsAndOptionsAreRefused) {
  auto source = redis_stream_source(options({"s0"}));
  EXPECT_STATUS(source->open_reader({{"s0", "12x"}}, {}), StatusCode::kInvalidArgument,
                "position '12x' of stream s0");
  EXPECT_STATUS(redis_stream_source(options({}))->discover_splits(), StatusCode::kInvalidArgument,
                "RedisStreamSourceOptions::streams");
  RedisStreamSourceOptions slow = options({"s0"});
  slow.block_millis = 10'000;
  EXPECT_STATUS(redis_stream_source(slow)->discover_splits(), StatusCode::kInvalidArgument, "block_millis");
  // A key of another type is named in the error.
  ASSERT_OK(server_->command({"SET", "plain", "x"}));
  auto wrong = redis_stream_source(options({"plain"}, false));
  auto reader = open_or_fail(*wrong, {{"plain", ""}});
  ASSERT_NE(reader, nullptr);
  CollectingOutput<RedisStreamEntry> out;
  EXPECT_STATUS(reader->poll(out, 10), StatusCode::kIoError,
                "stream plain from the start at 127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_STATUS(source->open_reader({{"s0", ""}, {"s0", "1-0"}}, {}), StatusCode::kInvalidArgument, "twice");
}

}  // namespace
}  // namespace streamstate
