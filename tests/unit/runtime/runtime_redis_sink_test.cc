// The exactly-once Redis Streams sink against a real redis-server: nothing in the stream before
// commit, one atomic commit per transaction, idempotent commits, recover after a simulated
// crash, and the errors of an unreachable server or lost staged entries.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "streamstate/sinks.h"
#include "testutil/kill_rounds.h"
#include "testutil/redis_server.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

using testing::RedisServer;
using testing::shared_redis_server;

// A stream key of its own for every test (and every run of it).
std::string unique_stream(const char* tag) {
  static std::atomic<int> calls{0};
  return std::string("sinktest:") + tag + ":" + std::to_string(::getpid()) + ":" + std::to_string(++calls);
}

// The values of the stream's entries, in order, when every entry has the one field "v".
std::vector<std::string> stream_values(const RedisServer& server, const std::string& stream) {
  auto flat = server.command({"XRANGE", stream, "-", "+"});
  EXPECT_OK(flat);
  std::vector<std::string> values;
  if (!flat.is_ok()) return values;
  for (size_t i = 0; i + 2 < flat->size(); i += 3) {
    EXPECT_EQ((*flat)[i + 1], "v");
    values.push_back((*flat)[i + 2]);
  }
  return values;
}

std::vector<std::string> staging_keys(const RedisServer& server, const std::string& stream) {
  return server.command({"KEYS", stream + ":streamstate:staging:*"}).value();
}

RedisStreamFields value(const std::string& v) { return {{"v", v}}; }

class RedisSinkTest : public ::testing::Test {
 protected:
  RedisStreamSinkOptions options(const RedisServer& server) const {
    RedisStreamSinkOptions options;
    options.port = server.port();
    options.stream_key = stream_;
    options.batch_entries = 2;
    return options;
  }
  std::unique_ptr<Sink<RedisStreamFields>> make_sink(const RedisServer& server) {
    auto sink = redis_stream_entry_sink(options(server));
    EXPECT_OK(sink);
    return sink.is_ok() ? std::move(sink).value() : nullptr;
  }
  static std::unique_ptr<SinkWriter<RedisStreamFields>> open(Sink<RedisStreamFields>& sink, uint32_t instance = 0) {
    auto writer = sink.open_writer({"out", instance, 2});
    EXPECT_OK(writer);
    return writer.is_ok() ? std::move(writer).value() : nullptr;
  }
  static void write_all(SinkWriter<RedisStreamFields>& writer, const std::vector<std::string>& values) {
    for (const std::string& v : values) ASSERT_OK(writer.write(value(v), kNoEventTime));
  }

  std::string stream_ = unique_stream("s");
};

TEST_F(RedisSinkTest, NothingIsInTheStreamBeforeCommitAndCommitAppendsWhatPreCommitCovered) {
  RedisServer& server = shared_redis_server();
  auto sink = make_sink(server);
  ASSERT_NE(sink, nullptr);
  EXPECT_TRUE(sink->exactly_once());
  auto writer = open(*sink);
  write_all(*writer, {"a", "b", "c"});
  auto committable = writer->pre_commit(1);
  ASSERT_OK(committable);
  EXPECT_EQ(server.command({"XLEN", stream_}).value(), std::vector<std::string>{"0"});
  ASSERT_EQ(staging_keys(server, stream_).size(), 1u) << "staged in Redis by pre_commit";
  write_all(*writer, {"d"});  // the next transaction

  ASSERT_OK(sink->commit(*committable));
  EXPECT_EQ(stream_values(server, stream_), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(staging_keys(server, stream_).empty()) << "committed, and \"d\" is still buffered in the writer";
  ASSERT_OK(sink->commit(writer->pre_commit(2).value()));
  EXPECT_EQ(stream_values(server, stream_), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(staging_keys(server, stream_).empty());
}

TEST_F(RedisSinkTest, CommittingTwiceAppendsOnce) {
  RedisServer& server = shared_redis_server();
  auto sink = make_sink(server);
  ASSERT_NE(sink, nullptr);
  auto writer = open(*sink);
  write_all(*writer, {"x", "y", "z"});
  std::string committable = writer->pre_commit(9).value();
  ASSERT_OK(sink->commit(committable));
  ASSERT_OK(sink->commit(committable));
  auto again = make_sink(server);  // another process committing the same transaction
  ASSERT_OK(again->commit(committable));
  EXPECT_EQ(stream_values(server, stream_), (std::vector<std::string>{"x", "y", "z"}));
}

TEST_F(RedisSinkTest, RecoverCommitsTheListedTransactionsAndDiscardsTheOthers) {
  RedisServer& server = shared_redis_server();
  std::string first;
  std::string second;
  {
    auto sink = make_sink(server);
    ASSERT_NE(sink, nullptr);
    auto writer = open(*sink);
    write_all(*writer, {"a1", "a2"});
    first = writer->pre_commit(1).value();
    write_all(*writer, {"b1"});
    second = writer->pre_commit(2).value();
    write_all(*writer, {"c1", "c2"});  // staged (a full batch), never pre-committed
    // A crash: no commit, no close().
  }
  EXPECT_EQ(staging_keys(server, stream_).size(), 3u);
  EXPECT_EQ(server.command({"XLEN", stream_}).value(), std::vector<std::string>{"0"});

  auto sink = make_sink(server);
  ASSERT_OK(sink->recover({first}));
  EXPECT_EQ(stream_values(server, stream_), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_TRUE(staging_keys(server, stream_).empty());
  EXPECT_STATUS(sink->commit(second), StatusCode::kDataLoss, "holds 0 of its 1 entries");
  EXPECT_EQ(stream_values(server, stream_), (std::vector<std::string>{"a1", "a2"}));
}

TEST_F(RedisSinkTest, ATransactionCommittedBeforeTheCrashAndAgainOnRecoverAppearsOnce) {
  RedisServer& server = shared_redis_server();
  std::string committable;
  {
    auto sink = make_sink(server);
    ASSERT_NE(sink, nullptr);
    auto writer = open(*sink);
    write_all(*writer, {"once", "only"});
    committable = writer->pre_commit(3).value();
    ASSERT_OK(sink->commit(committable));
  }
  auto sink = make_sink(server);
  ASSERT_OK(sink->recover({committable}));
  EXPECT_EQ(stream_values(server, stream_), (std::vector<std::string>{"once", "only"}));
}

TEST_F(RedisSinkTest, AShortStagingListFailsTheCommitAndAppendsNothing) {
  RedisServer& server = shared_redis_server();
  auto sink = make_sink(server);
  ASSERT_NE(sink, nullptr);
  auto writer = open(*sink);
  write_all(*writer, {"1", "2", "3"});
  std::string committable = writer->pre_commit(1).value();
  const std::string staging = staging_keys(server, stream_).at(0);
  ASSERT_OK(server.command({"RPOP", staging}));
  EXPECT_STATUS(sink->commit(committable), StatusCode::kDataLoss, staging);
  EXPECT_EQ(server.command({"XLEN", stream_}).value(), std::vector<std::string>{"0"});
}

TEST_F(RedisSinkTest, EntriesKeepEveryFieldAndByte) {
  RedisServer& server = shared_redis_server();
  auto sink = make_sink(server);
  ASSERT_NE(sink, nullptr);
  auto writer = open(*sink);
  const std::string binary("12:ab\0:\n", 8);
  ASSERT_OK(writer->write({{"user", "ada"}, {"odd:field", binary}, {"", "empty name"}}, kNoEventTime));
  ASSERT_OK(sink->commit(writer->pre_commit(1).value()));
  auto flat = server.command({"XRANGE", stream_, "-", "+"});
  ASSERT_OK(flat);
  EXPECT_EQ(std::vector<std::string>(flat->begin() + 1, flat->end()),
            (std::vector<std::string>{"user", "ada", "odd:field", binary, "", "empty name"}));
  EXPECT_STATUS(writer->write({}, kNoEventTime), StatusCode::kInvalidArgument, "1 to");
}

TEST_F(RedisSinkTest, JsonObjectsBecomeFields) {
  RedisServer& server = shared_redis_server();
  auto sink = redis_stream_sink<nlohmann::json>(options(server));
  ASSERT_OK(sink);
  auto writer = (*sink)->open_writer({"json", 0, 1});
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->write(nlohmann::json{{"user", "ada"}, {"count", 3}}, kNoEventTime));
  ASSERT_OK((*sink)->commit((*writer)->pre_commit(1).value()));
  auto flat = server.command({"XRANGE", stream_, "-", "+"});
  ASSERT_OK(flat);
  EXPECT_EQ(std::vector<std::string>(flat->begin() + 1, flat->end()),
            (std::vector<std::string>{"count", "3", "user", "ada"}));
}

TEST_F(RedisSinkTest, MaxlenTrimsTheStream) {
  RedisServer& server = shared_redis_server();
  RedisStreamSinkOptions trimmed = options(server);
  trimmed.maxlen = 3;
  auto sink = redis_stream_entry_sink(trimmed);
  ASSERT_OK(sink);
  auto writer = open(**sink);
  write_all(*writer, {"1", "2", "3", "4", "5"});
  ASSERT_OK((*sink)->commit(writer->pre_commit(1).value()));
  EXPECT_EQ(stream_values(server, stream_), (std::vector<std::string>{"3", "4", "5"}));
}

TEST_F(RedisSinkTest, ATransactionForgottenAfterRememberCheckpointsIsRefusedNotAppendedTwice) {
  RedisServer& server = shared_redis_server();
  RedisStreamSinkOptions short_memory = options(server);
  short_memory.remember_checkpoints = 2;
  auto sink = redis_stream_entry_sink(short_memory);
  ASSERT_OK(sink);
  auto writer = open(**sink);
  write_all(*writer, {"old"});
  std::string old = writer->pre_commit(1).value();
  ASSERT_OK((*sink)->commit(old));
  ASSERT_OK((*sink)->commit(old));  // remembered: nothing appended
  write_all(*writer, {"new"});
  ASSERT_OK((*sink)->commit(writer->pre_commit(5).value()));  // forgets checkpoints before 3
  EXPECT_EQ(server.command({"ZCARD", stream_ + ":streamstate:committed"}).value(), std::vector<std::string>{"1"});
  EXPECT_STATUS((*sink)->commit(old), StatusCode::kDataLoss, "remember_checkpoints");
  EXPECT_EQ(stream_values(server, stream_), (std::vector<std::string>{"old", "new"}));
}

TEST_F(RedisSinkTest, CloseDiscardsTheOpenTransaction) {
  RedisServer& server = shared_redis_server();
  auto sink = make_sink(server);
  ASSERT_NE(sink, nullptr);
  auto writer = open(*sink);
  write_all(*writer, {"kept"});
  std::string committable = writer->pre_commit(1).value();
  write_all(*writer, {"dropped", "dropped"});
  ASSERT_OK(writer->close());
  EXPECT_EQ(staging_keys(server, stream_).size(), 1u);
  ASSERT_OK(sink->commit(committable));
  EXPECT_EQ(stream_values(server, stream_), std::vector<std::string>{"kept"});
}

TEST_F(RedisSinkTest, AnUnreachableServerIsNamed) {
  auto server = RedisServer::start();
  ASSERT_OK(server);
  RedisStreamSinkOptions unreachable = options(**server);
  ASSERT_OK((*server)->stop());
  const std::string address = "127.0.0.1:" + std::to_string(unreachable.port);
  EXPECT_STATUS(redis_stream_entry_sink(unreachable), StatusCode::kUnavailable, address);
}

TEST_F(RedisSinkTest, AWriterOpenedAfterTheServerWentAwayIsNamed) {
  auto server = RedisServer::start();
  ASSERT_OK(server);
  auto sink = make_sink(**server);
  ASSERT_NE(sink, nullptr);
  ASSERT_OK((*server)->stop());
  EXPECT_STATUS(sink->open_writer({"out", 0, 1}), StatusCode::kUnavailable,
                "127.0.0.1:" + std::to_string((*server)->port()));
}

TEST_F(RedisSinkTest, CommitsFromAnotherThreadWhileAWriterGoesOn) {
  RedisServer& server = shared_redis_server();
  auto sink = make_sink(server);
  ASSERT_NE(sink, nullptr);
  auto writer = open(*sink);
  std::vector<std::string> committables;
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    expected.push_back(std::to_string(i));
    ASSERT_OK(writer->write(value(expected.back()), kNoEventTime));
    if (i % 30 == 29) committables.push_back(writer->pre_commit(static_cast<uint64_t>(i / 30 + 1)).value());
  }
  // The writer stages the next transaction while another thread commits the earlier ones.
  Status committed;
  std::thread committer([&] {
    for (const std::string& committable : committables) {
      Status status = sink->commit(committable);
      if (committed.is_ok()) committed = status;
    }
  });
  for (int i = 300; i < 400; ++i) {
    expected.push_back(std::to_string(i));
    EXPECT_OK(writer->write(value(expected.back()), kNoEventTime));  // no early return: join first
  }
  committer.join();
  ASSERT_OK(committed);
  ASSERT_OK(sink->commit(writer->pre_commit(100).value()));
  EXPECT_EQ(stream_values(server, stream_), expected);
}

TEST_F(RedisSinkTest, StagedEntriesLostWithTheServerFailTheCommitLoudly) {
  auto server = RedisServer::start();  // no persistence: a restart loses everything
  ASSERT_OK(server);
  auto sink = make_sink(**server);
  ASSERT_NE(sink, nullptr);
  auto writer = open(*sink);
  write_all(*writer, {"a", "b"});
  std::string committable = writer->pre_commit(1).value();
  write_all(*writer, {"c", "d"});  // a full batch: staged in the open transaction
  ASSERT_OK((*server)->restart());
  EXPECT_STATUS(sink->commit(committable), StatusCode::kDataLoss, "holds 0 of its 2 entries");
  // The writer notices at its next flush, instead of going on with a partial transaction.
  ASSERT_OK(writer->write(value("e"), kNoEventTime));
  EXPECT_STATUS(writer->write(value("f"), kNoEventTime), StatusCode::kDataLoss, "holds 0 entries, 2 were staged");
}

// kill -9 of a process writing through the sink: the child stages numbered entries, pre-commits
// every 100, stores the committable as a completed checkpoint (a file renamed into place) and
// commits it, until killed after a random number of checkpoints - while staging, in a
// pre-commit or around a commit script. Recovering a fresh sink with the last completed
// checkpoint's committable leaves the stream holding exactly the entries it covers.
[[noreturn]] void stage_until_killed(const RedisStreamSinkOptions& options, const std::filesystem::path& checkpoints,
                                     uint64_t first_entry, uint64_t first_checkpoint, uint32_t round, int ack_fd) {
  auto sink = redis_stream_entry_sink(options);
  if (!sink.is_ok()) ::_exit(10);
  auto writer = (*sink)->open_writer({"crash", 0, 1});
  if (!writer.is_ok()) ::_exit(11);
  uint64_t checkpoint = first_checkpoint;
  for (uint64_t n = first_entry;; ++n) {
    if (!(*writer)->write(value(std::to_string(n)), kNoEventTime).is_ok()) ::_exit(12);
    if ((n + 1 - first_entry) % 100 != 0) continue;
    Result<std::string> committable = (*writer)->pre_commit(checkpoint);
    if (!committable.is_ok()) ::_exit(13);
    const std::filesystem::path temporary = checkpoints / "tmp";
    {
      std::ofstream out(temporary, std::ios::trunc);
      out << (n + 1) << '\n' << *committable;
    }
    std::filesystem::rename(temporary, checkpoints / ("chk-" + std::to_string(checkpoint)));
    if (!testing::send_ack(ack_fd, {round, 0, checkpoint})) ::_exit(14);
    if (!(*sink)->commit(*committable).is_ok()) ::_exit(15);
    ++checkpoint;
  }
}

TEST_F(RedisSinkTest, StreamAfterSigkillAndRecoverHoldsExactlyTheLastCheckpoints) {
  RedisServer& server = shared_redis_server();
  testing::TempDir checkpoints;
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  uint64_t restored_id = 0;
  uint64_t restored_end = 0;
  std::string restored_committable;
  const int rounds = std::max(10, testing::kill_rounds());
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<testing::WriteAck> acks;
    ASSERT_OK(testing::run_until_killed(
        std::uniform_int_distribution<size_t>(1, 5)(random),
        [&](int ack_fd) {
          stage_until_killed(options(server), checkpoints.path(), restored_end, restored_id + 1,
                             static_cast<uint32_t>(round), ack_fd);
        },
        acks));
    for (const auto& entry : std::filesystem::directory_iterator(checkpoints.path())) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("chk-", 0) != 0 || std::stoull(name.substr(4)) <= restored_id) continue;
      restored_id = std::stoull(name.substr(4));
      std::ifstream in(entry.path());
      in >> restored_end;
      in.get();
      std::stringstream rest;
      rest << in.rdbuf();
      restored_committable = rest.str();
    }
    ASSERT_GE(restored_id, acks.back().n) << "an acknowledged checkpoint is missing";

    auto sink = make_sink(server);
    ASSERT_NE(sink, nullptr);
    ASSERT_OK(sink->recover({restored_committable}));
    std::vector<std::string> expected;
    for (uint64_t n = 0; n < restored_end; ++n) expected.push_back(std::to_string(n));
    ASSERT_EQ(stream_values(server, stream_), expected) << "after checkpoint " << restored_id;
    EXPECT_TRUE(staging_keys(server, stream_).empty());
  }
}

}  // namespace
}  // namespace streamstate
