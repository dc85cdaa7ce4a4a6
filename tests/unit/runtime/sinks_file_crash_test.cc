// kill -9 of a process writing through the file sink: a child writes numbered records, pre-commits
// every 200, records the committable as a completed checkpoint (the runtime's manifest, here a
// file renamed into place) and then commits it, over and over; the test kills it with SIGKILL
// after a random number of checkpoints - during a write, a roll, a pre-commit or a commit -
// recovers the sink with the last completed checkpoint's committable in a fresh sink object, and
// checks that the visible output is exactly the records that checkpoint covers: nothing lost,
// nothing twice. The next child resumes after those records, as a restored pipeline replays.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "streamstate/sinks.h"
#include "testutil/kill_rounds.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kRecordsPerCheckpoint = 200;

std::string record(uint64_t n) {
  char text[32];
  std::snprintf(text, sizeof text, "record-%09llu", static_cast<unsigned long long>(n));
  return text;
}

FileSinkOptions sink_options(const fs::path& out) {
  FileSinkOptions options;
  options.directory = out.string();
  options.prefix = "crash";
  options.roll_bytes = 1024;  // about 3 parts per checkpoint, so kills land between renames too
  return options;
}

// A completed checkpoint: the records it covers ([0, end)) and the sink's committable.
struct CompletedCheckpoint {
  uint64_t id = 0;
  uint64_t end = 0;
  std::string committable;
};

void store_checkpoint(const fs::path& checkpoints, const CompletedCheckpoint& checkpoint) {
  const fs::path temporary = checkpoints / ("tmp-" + std::to_string(checkpoint.id));
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << checkpoint.end << '\n' << checkpoint.committable;
  }
  fs::rename(temporary, checkpoints / ("chk-" + std::to_string(checkpoint.id)));
}

CompletedCheckpoint latest_checkpoint(const fs::path& checkpoints) {
  CompletedCheckpoint latest;
  for (const auto& entry : fs::directory_iterator(checkpoints)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("chk-", 0) != 0) continue;
    const uint64_t id = std::stoull(name.substr(4));
    if (id <= latest.id) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    CompletedCheckpoint read;
    read.id = id;
    in >> read.end;
    in.get();
    std::stringstream rest;
    rest << in.rdbuf();
    read.committable = rest.str();
    latest = read;
  }
  return latest;
}

// The child: writes records from `first_record` on, checkpoint ids from `first_checkpoint` on,
// until killed. Exits with a code of its own on any error.
[[noreturn]] void write_until_killed(const fs::path& out, const fs::path& checkpoints, uint64_t first_record,
                                     uint64_t first_checkpoint, uint32_t round, int ack_fd) {
  auto sink = file_line_sink(sink_options(out));
  if (!sink.is_ok()) ::_exit(10);
  auto writer = (*sink)->open_writer({"crash", 0, 1});
  if (!writer.is_ok()) ::_exit(11);
  uint64_t checkpoint = first_checkpoint;
  for (uint64_t n = first_record;; ++n) {
    if (!(*writer)->write(record(n), kNoEventTime).is_ok()) ::_exit(12);
    if ((n + 1 - first_record) % kRecordsPerCheckpoint != 0) continue;
    Result<std::string> committable = (*writer)->pre_commit(checkpoint);
    if (!committable.is_ok()) ::_exit(13);
    store_checkpoint(checkpoints, {checkpoint, n + 1, *committable});
    if (!testing::send_ack(ack_fd, {round, 0, checkpoint})) ::_exit(14);
    if (!(*sink)->commit(*committable).is_ok()) ::_exit(15);
    ++checkpoint;
  }
}

std::string visible_output(const fs::path& out) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    if (name[0] != '.') names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  std::string all;
  for (const std::string& name : names) {
    std::ifstream in(out / name, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    all += text.str();
  }
  return all;
}

TEST(FileSinkCrashTest, OutputAfterSigkillAndRecoverIsExactlyTheLastCheckpoints) {
  testing::TempDir dir;
  const fs::path out = dir.path() / "out";
  const fs::path checkpoints = dir.path() / "checkpoints";
  fs::create_directories(checkpoints);
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  const int rounds = std::max(10, testing::kill_rounds());
  CompletedCheckpoint restored;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const size_t wanted = std::uniform_int_distribution<size_t>(1, 6)(random);
    std::vector<testing::WriteAck> acks;
    ASSERT_OK(testing::run_until_killed(
        wanted,
        [&](int ack_fd) {
          write_until_killed(out, checkpoints, restored.end, restored.id + 1, static_cast<uint32_t>(round), ack_fd);
        },
        acks));
    restored = latest_checkpoint(checkpoints);
    ASSERT_GE(restored.id, acks.back().n) << "an acknowledged checkpoint is missing";

    auto sink = file_line_sink(sink_options(out));
    ASSERT_OK(sink);
    ASSERT_OK((*sink)->recover({restored.committable}));
    std::string expected;
    for (uint64_t n = 0; n < restored.end; ++n) expected += record(n) + "\n";
    ASSERT_EQ(visible_output(out), expected) << "after checkpoint " << restored.id;
    EXPECT_TRUE(fs::is_empty(out / ".crash.in-progress"));
  }
}

}  // namespace
}  // namespace streamstate
