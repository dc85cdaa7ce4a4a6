// The exactly-once file sink: nothing visible before commit, commit publishes exactly the
// records before pre_commit, idempotent commit, recover after a simulated crash, rolling.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/sinks.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;

// Names of the files a reader of `directory` sees (hidden ones left out), sorted.
std::vector<std::string> visible_files(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    std::string name = entry.path().filename().string();
    if (name[0] != '.') names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Every visible file's content, in name order, concatenated.
std::string visible_content(const fs::path& directory) {
  std::string all;
  for (const std::string& name : visible_files(directory)) all += read_file(directory / name);
  return all;
}

size_t staged_files(const fs::path& staging) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(staging)) count += entry.is_regular_file() ? 1 : 0;
  return count;
}

class FileSinkTest : public ::testing::Test {
 protected:
  FileSinkOptions options() const {
    FileSinkOptions options;
    options.directory = (dir_.path() / "out").string();
    options.prefix = "clicks";
    options.suffix = ".jsonl";
    options.clock = clock_;
    return options;
  }
  fs::path out() const { return dir_.path() / "out"; }
  fs::path staging() const { return out() / ".clicks.in-progress"; }

  std::unique_ptr<Sink<std::string>> make_sink(const FileSinkOptions& options) {
    auto sink = file_sink<std::string>(options);
    EXPECT_OK(sink);
    return std::move(sink).value();
  }
  std::unique_ptr<SinkWriter<std::string>> open(Sink<std::string>& sink, uint32_t instance = 0) {
    auto writer = sink.open_writer({"counts", instance, 2});
    EXPECT_OK(writer);
    return std::move(writer).value();
  }
  static void write_all(SinkWriter<std::string>& writer, const std::vector<std::string>& lines) {
    for (const std::string& line : lines) ASSERT_OK(writer.write(line, kNoEventTime));
  }

  TempDir dir_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>(1000);
};

TEST_F(FileSinkTest, NothingIsVisibleBeforeCommitAndCommitPublishesWhatPreCommitCovered) {
  auto sink = make_sink(options());
  EXPECT_TRUE(sink->exactly_once());
  auto writer = open(*sink);
  write_all(*writer, {"{\"a\":1}", "{\"a\":2}"});
  EXPECT_TRUE(visible_files(out()).empty());
  auto committable = writer->pre_commit(1);
  ASSERT_OK(committable);
  EXPECT_TRUE(visible_files(out()).empty()) << "pre-committed but not committed";
  write_all(*writer, {"{\"a\":3}"});  // belongs to the next transaction

  ASSERT_OK(sink->commit(*committable));
  EXPECT_EQ(visible_files(out()), std::vector<std::string>{"clicks-0-00000001-0000.jsonl"});
  EXPECT_EQ(visible_content(out()), "{\"a\":1}\n{\"a\":2}\n");

  auto second = writer->pre_commit(2);
  ASSERT_OK(second);
  ASSERT_OK(sink->commit(*second));
  EXPECT_EQ(visible_files(out()), (std::vector<std::string>{"clicks-0-00000001-0000.jsonl", "clicks-0-00000002-0000.jsonl"}));
  EXPECT_EQ(read_file(out() / "clicks-0-00000002-0000.jsonl"), "{\"a\":3}\n");
  EXPECT_EQ(staged_files(staging()), 0u);
}

TEST_F(FileSinkTest, CommittingTwiceIsCommittingOnce) {
  auto sink = make_sink(options());
  auto writer = open(*sink);
  write_all(*writer, {"x", "y"});
  auto committable = writer->pre_commit(7);
  ASSERT_OK(committable);
  ASSERT_OK(sink->commit(*committable));
  ASSERT_OK(sink->commit(*committable));
  ASSERT_OK(sink->commit(*committable));
  EXPECT_EQ(visible_files(out()), std::vector<std::string>{"clicks-0-00000007-0000.jsonl"});
  EXPECT_EQ(visible_content(out()), "x\ny\n");
}

TEST_F(FileSinkTest, AnEmptyTransactionHasAnEmptyCommittable) {
  auto sink = make_sink(options());
  auto writer = open(*sink);
  auto committable = writer->pre_commit(1);
  ASSERT_OK(committable);
  EXPECT_EQ(*committable, "");
  EXPECT_OK(sink->commit(""));
  EXPECT_TRUE(visible_files(out()).empty());
}

TEST_F(FileSinkTest, RecoverCommitsTheListedTransactionsAndDiscardsTheOthers) {
  std::string first;
  std::string second;
  {
    auto sink = make_sink(options());
    auto writer = open(*sink);
    write_all(*writer, {"a1", "a2"});
    first = writer->pre_commit(1).value();
    write_all(*writer, {"b1"});
    second = writer->pre_commit(2).value();
    write_all(*writer, {"c1"});  // never pre-committed
    // A crash: neither the committables nor the open transaction get further; no close().
  }
  EXPECT_EQ(staged_files(staging()), 3u);
  EXPECT_TRUE(visible_files(out()).empty());

  // The restored checkpoint is 1: its transaction is published, 2's and the open one vanish.
  auto sink = make_sink(options());
  ASSERT_OK(sink->recover({first}));
  EXPECT_EQ(visible_files(out()), std::vector<std::string>{"clicks-0-00000001-0000.jsonl"});
  EXPECT_EQ(visible_content(out()), "a1\na2\n");
  EXPECT_EQ(staged_files(staging()), 0u);
  // Checkpoint 2 never completed; its files are gone, so committing it now is a loud error.
  EXPECT_STATUS(sink->commit(second), StatusCode::kDataLoss, "clicks-0-00000002-0000.jsonl");

  // The replay writes the same records again and commits them under a new checkpoint.
  auto writer = open(*sink);
  write_all(*writer, {"b1", "c1"});
  ASSERT_OK(sink->commit(writer->pre_commit(3).value()));
  EXPECT_EQ(visible_content(out()), "a1\na2\nb1\nc1\n");
}

TEST_F(FileSinkTest, ATransactionCommittedBeforeTheCrashAndAgainOnRecoverAppearsOnce) {
  std::string committable;
  {
    auto sink = make_sink(options());
    auto writer = open(*sink);
    write_all(*writer, {"once"});
    committable = writer->pre_commit(4).value();
    ASSERT_OK(sink->commit(committable));
    write_all(*writer, {"later"});
  }
  auto sink = make_sink(options());
  ASSERT_OK(sink->recover({committable}));
  EXPECT_EQ(visible_files(out()), std::vector<std::string>{"clicks-0-00000004-0000.jsonl"});
  EXPECT_EQ(visible_content(out()), "once\n");
  EXPECT_EQ(staged_files(staging()), 0u);
}

TEST_F(FileSinkTest, RecoverWithNoCommittablesDiscardsEveryStagedFile) {
  {
    auto sink = make_sink(options());
    auto first = open(*sink, 0);
    auto second = open(*sink, 1);
    write_all(*first, {"p"});
    write_all(*second, {"q"});
    ASSERT_OK(first->pre_commit(1));
  }
  auto sink = make_sink(options());
  ASSERT_OK(sink->recover({}));
  EXPECT_EQ(staged_files(staging()), 0u);
  EXPECT_TRUE(visible_files(out()).empty());
}

TEST_F(FileSinkTest, ARecoverInterruptedHalfwayThroughATransactionFinishesIt) {
  FileSinkOptions small = options();
  small.roll_bytes = 3;  // one 2-byte line and its newline per part
  auto sink = make_sink(small);
  auto writer = open(*sink);
  write_all(*writer, {"aa", "bb", "cc"});
  std::string committable = writer->pre_commit(1).value();
  // A commit that died after renaming the first of the three parts.
  const nlohmann::json parts = nlohmann::json::parse(committable)["parts"];
  ASSERT_EQ(parts.size(), 3u);
  fs::rename(staging() / parts[0]["in_progress"].get<std::string>(), out() / parts[0]["final"].get<std::string>());
  EXPECT_EQ(staged_files(staging()), 2u);

  auto restarted = make_sink(small);
  ASSERT_OK(restarted->recover({committable}));
  EXPECT_EQ(visible_files(out()), (std::vector<std::string>{"clicks-0-00000001-0000.jsonl", "clicks-0-00000001-0001.jsonl",
                                                            "clicks-0-00000001-0002.jsonl"}));
  EXPECT_EQ(visible_content(out()), "aa\nbb\ncc\n");
  EXPECT_EQ(staged_files(staging()), 0u);
}

TEST_F(FileSinkTest, PartsRollBySize) {
  FileSinkOptions small = options();
  small.roll_bytes = 10;
  auto sink = make_sink(small);
  auto writer = open(*sink);
  write_all(*writer, {"line1", "line2", "line3", "line4", "line5"});  // 6 bytes each
  ASSERT_OK(sink->commit(writer->pre_commit(3).value()));
  EXPECT_EQ(visible_files(out()), (std::vector<std::string>{"clicks-0-00000003-0000.jsonl", "clicks-0-00000003-0001.jsonl",
                                                            "clicks-0-00000003-0002.jsonl"}));
  EXPECT_EQ(read_file(out() / "clicks-0-00000003-0000.jsonl"), "line1\nline2\n");
  EXPECT_EQ(read_file(out() / "clicks-0-00000003-0001.jsonl"), "line3\nline4\n");
  EXPECT_EQ(read_file(out() / "clicks-0-00000003-0002.jsonl"), "line5\n");
}

TEST_F(FileSinkTest, PartsRollByAge) {
  FileSinkOptions aging = options();
  aging.roll_millis = 1000;
  auto sink = make_sink(aging);
  auto writer = open(*sink);
  write_all(*writer, {"t0"});
  clock_->advance_millis(999);
  write_all(*writer, {"t999"});
  clock_->advance_millis(1);
  write_all(*writer, {"t1000"});  // the first part is 1000 ms old: a new part
  clock_->advance_millis(5000);
  ASSERT_OK(sink->commit(writer->pre_commit(1).value()));
  EXPECT_EQ(visible_files(out()), (std::vector<std::string>{"clicks-0-00000001-0000.jsonl", "clicks-0-00000001-0001.jsonl"}));
  EXPECT_EQ(read_file(out() / "clicks-0-00000001-0000.jsonl"), "t0\nt999\n");
  EXPECT_EQ(read_file(out() / "clicks-0-00000001-0001.jsonl"), "t1000\n");
}

TEST_F(FileSinkTest, CloseDiscardsTheOpenTransactionButKeepsPreCommittedOnes) {
  auto sink = make_sink(options());
  auto writer = open(*sink);
  write_all(*writer, {"kept"});
  std::string committable = writer->pre_commit(1).value();
  write_all(*writer, {"dropped"});
  ASSERT_OK(writer->close());
  EXPECT_EQ(staged_files(staging()), 1u);
  ASSERT_OK(sink->commit(committable));
  EXPECT_EQ(visible_content(out()), "kept\n");
  EXPECT_STATUS(writer->write("x", kNoEventTime), StatusCode::kClosed, "closed");
}

TEST_F(FileSinkTest, InstancesWriteTheirOwnParts) {
  auto sink = make_sink(options());
  auto zero = open(*sink, 0);
  auto one = open(*sink, 1);
  write_all(*zero, {"from0"});
  write_all(*one, {"from1"});
  ASSERT_OK(sink->commit(zero->pre_commit(5).value()));
  ASSERT_OK(sink->commit(one->pre_commit(5).value()));
  EXPECT_EQ(visible_files(out()), (std::vector<std::string>{"clicks-0-00000005-0000.jsonl", "clicks-1-00000005-0000.jsonl"}));
  EXPECT_EQ(visible_content(out()), "from0\nfrom1\n");
}

TEST_F(FileSinkTest, CommitsFromAnotherThreadWhileTheWritersGoOn) {
  FileSinkOptions small = options();
  small.roll_bytes = 64;
  auto sink = make_sink(small);
  auto zero = open(*sink, 0);
  auto one = open(*sink, 1);
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> pending;
  bool done = false;
  Status committed;
  // The runtime's coordinating thread: commits each transaction as its checkpoint completes.
  std::thread committer([&] {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      ready.wait(lock, [&] { return done || !pending.empty(); });
      if (pending.empty()) return;
      std::string committable = std::move(pending.front());
      pending.pop_front();
      lock.unlock();
      Status status = sink->commit(committable);
      lock.lock();
      if (committed.is_ok()) committed = status;
    }
  });
  std::string expected0;
  std::string expected1;
  Status written;  // the writers' first error; the loop stops there, and the thread is joined
  for (int i = 0; i < 2000 && written.is_ok(); ++i) {
    const std::string line = "record-" + std::to_string(i);
    written = zero->write(line + "-0", kNoEventTime);
    if (written.is_ok()) written = one->write(line + "-1", kNoEventTime);
    expected0 += line + "-0\n";
    expected1 += line + "-1\n";
    if (written.is_ok() && i % 100 == 99) {
      const uint64_t checkpoint = static_cast<uint64_t>(i / 100 + 1);
      Result<std::string> first = zero->pre_commit(checkpoint);
      Result<std::string> second = one->pre_commit(checkpoint);
      written = first.is_ok() ? second.status() : first.status();
      if (!written.is_ok()) break;
      std::lock_guard<std::mutex> lock(mutex);
      pending.push_back(*first);
      pending.push_back(*second);
      ready.notify_one();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    ready.notify_one();
  }
  committer.join();
  ASSERT_OK(written);
  ASSERT_OK(committed);
  std::string content0;
  std::string content1;
  for (const std::string& name : visible_files(out())) {
    (name.rfind("clicks-0-", 0) == 0 ? content0 : content1) += read_file(out() / name);
  }
  EXPECT_EQ(content0, expected0);
  EXPECT_EQ(content1, expected1);
  EXPECT_EQ(staged_files(staging()), 0u);
}

TEST_F(FileSinkTest, AReplacedPartIsReportedNotSilentlyAccepted) {
  auto sink = make_sink(options());
  auto writer = open(*sink);
  write_all(*writer, {"original"});
  std::string committable = writer->pre_commit(1).value();
  ASSERT_OK(sink->commit(committable));
  std::ofstream(out() / "clicks-0-00000001-0000.jsonl") << "something else entirely\n";
  EXPECT_STATUS(sink->commit(committable), StatusCode::kCorruption, "clicks-0-00000001-0000.jsonl");
}

TEST_F(FileSinkTest, AnotherSinksCommittablesAreRefused) {
  auto sink = make_sink(options());
  FileSinkOptions other = options();
  other.prefix = "other";
  auto other_sink = make_sink(other);
  auto writer = open(*other_sink);
  write_all(*writer, {"x"});
  std::string committable = writer->pre_commit(1).value();
  EXPECT_STATUS(sink->commit(committable), StatusCode::kInvalidArgument, "\"other\"");
  EXPECT_STATUS(sink->commit("{\"not\":\"ours\"}"), StatusCode::kCorruption, "another kind of sink");
  EXPECT_STATUS(sink->commit("garbage"), StatusCode::kCorruption, "not JSON");
}

TEST_F(FileSinkTest, CheckpointIdsMustIncrease) {
  auto sink = make_sink(options());
  auto writer = open(*sink);
  ASSERT_OK(writer->pre_commit(3));
  EXPECT_STATUS(writer->pre_commit(3), StatusCode::kFailedPrecondition, "must increase");
}

TEST_F(FileSinkTest, BadOptionsAreNamed) {
  FileSinkOptions bad = options();
  bad.directory = "";
  EXPECT_STATUS(file_line_sink(bad), StatusCode::kInvalidArgument, "FileSinkOptions::directory");
  bad = options();
  bad.prefix = "a/b";
  EXPECT_STATUS(file_line_sink(bad), StatusCode::kInvalidArgument, "FileSinkOptions::prefix");
  bad = options();
  bad.roll_bytes = 0;
  EXPECT_STATUS(file_line_sink(bad), StatusCode::kInvalidArgument, "FileSinkOptions::roll_bytes");
}

}  // namespace
}  // namespace streamstate
