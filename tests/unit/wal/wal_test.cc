// Write-ahead log basics: round trips through close and reopen, sequence numbers, rotation,
// replay from a sequence number, batches, argument checks, the directory lock and close().
#include "streamstate/wal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/wal/wal_test_util.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;
using testing::payload_of;
using testing::replay_all;
using testing::ReplayedRecord;
using testing::type_of;
using testing::wal_options;

std::vector<ReplayedRecord> expected_records(uint64_t first, uint64_t last) {
  std::vector<ReplayedRecord> out;
  for (uint64_t i = first; i <= last; ++i) out.push_back({i, type_of(i), payload_of(i)});
  return out;
}

size_t segment_files(const std::string& directory) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(directory)) count += entry.path().extension() == ".wal";
  return count;
}

TEST(WalTest, RecordsSurviveCloseAndReopenWithTheirSequenceNumbers) {
  testing::TempDir directory;
  const std::string path = directory.file("nested/wal");
  {
    auto wal = Wal::open(wal_options(path));
    ASSERT_OK(wal);
    for (uint64_t i = 1; i <= 500; ++i) {
      auto sequence = (*wal)->append(type_of(i), payload_of(i));
      ASSERT_OK(sequence);
      ASSERT_EQ(*sequence, i);
    }
    EXPECT_EQ(replay_all(**wal).value(), expected_records(1, 500)) << "replay of the open log";
    ASSERT_OK((*wal)->close());
  }
  auto wal = Wal::open(wal_options(path));
  ASSERT_OK(wal);
  EXPECT_EQ(replay_all(**wal).value(), expected_records(1, 500));
  WalStatistics stats = (*wal)->statistics();
  EXPECT_EQ(stats.first_sequence, 1u);
  EXPECT_EQ(stats.last_sequence, 500u);
  EXPECT_EQ(stats.recovery_dropped_bytes, 0u);
  auto next = (*wal)->append(type_of(501), payload_of(501));
  ASSERT_OK(next);
  EXPECT_EQ(*next, 501u) << "numbering continues after a reopen";
}

TEST(WalTest, EmptyPayloadsAndEveryTypeRoundTrip) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal")));
  ASSERT_OK(wal);
  std::vector<ReplayedRecord> written;
  for (int type = 1; type <= 255; ++type) {
    std::string payload = type % 3 == 0 ? std::string() : std::string(static_cast<size_t>(type), '\0');
    auto sequence = (*wal)->append(static_cast<uint8_t>(type), payload);
    ASSERT_OK(sequence);
    written.push_back({*sequence, static_cast<uint8_t>(type), payload});
  }
  EXPECT_EQ(replay_all(**wal).value(), written);
}

TEST(WalTest, SegmentsRotateBySizeAndReplayCrossesThem) {
  testing::TempDir directory;
  const std::string path = directory.file("wal");
  const uint64_t segment_bytes = 4096;
  {
    auto wal = Wal::open(wal_options(path, WalSyncPolicy::kNone, segment_bytes));
    ASSERT_OK(wal);
    for (uint64_t i = 1; i <= 400; ++i) ASSERT_OK((*wal)->append(type_of(i), payload_of(i)));
    WalStatistics stats = (*wal)->statistics();
    EXPECT_GE(stats.segments, 10u);
    EXPECT_EQ(stats.segments, stats.segments_created);
    EXPECT_EQ(segment_files(path), stats.segments);
    ASSERT_OK((*wal)->close());
  }
  // No segment grew past the limit (each append is one write smaller than a segment).
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.path().extension() == ".wal") {
      EXPECT_LE(fs::file_size(entry.path()), segment_bytes) << entry.path();
    }
  }
  auto wal = Wal::open(wal_options(path, WalSyncPolicy::kNone, segment_bytes));
  ASSERT_OK(wal);
  EXPECT_EQ(replay_all(**wal).value(), expected_records(1, 400));
  for (uint64_t i = 401; i <= 450; ++i) ASSERT_EQ((*wal)->append(type_of(i), payload_of(i)).value(), i);
  EXPECT_EQ(replay_all(**wal).value(), expected_records(1, 450));
}

TEST(WalTest, ReplayStartsAtTheRequestedSequenceNumber) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal"), WalSyncPolicy::kNone, 4096));
  ASSERT_OK(wal);
  for (uint64_t i = 1; i <= 300; ++i) ASSERT_OK((*wal)->append(type_of(i), payload_of(i)));
  EXPECT_EQ(replay_all(**wal, 0).value(), expected_records(1, 300));
  EXPECT_EQ(replay_all(**wal, 1).value(), expected_records(1, 300));
  EXPECT_EQ(replay_all(**wal, 137).value(), expected_records(137, 300));
  EXPECT_EQ(replay_all(**wal, 300).value(), expected_records(300, 300));
  EXPECT_TRUE(replay_all(**wal, 301).value().empty());
}

TEST(WalTest, ReplayStopsAtTheFirstErrorOfTheCallback) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal")));
  ASSERT_OK(wal);
  for (uint64_t i = 1; i <= 10; ++i) ASSERT_OK((*wal)->append(type_of(i), payload_of(i)));
  uint64_t seen = 0;
  Status status = (*wal)->replay(0, [&](const WalRecordView& record) {
    ++seen;
    return record.sequence == 4 ? Status::invalid_argument("stop at 4") : Status::ok();
  });
  EXPECT_STATUS(status, StatusCode::kInvalidArgument, "stop at 4");
  EXPECT_EQ(seen, 4u);
}

TEST(WalTest, BatchesAreNumberedConsecutivelyAndWrittenWithOneSync) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal"), WalSyncPolicy::kEveryAppend));
  ASSERT_OK(wal);
  ASSERT_EQ((*wal)->append(type_of(1), payload_of(1)).value(), 1u);
  std::vector<std::string> payloads;
  std::vector<WalRecordInput> batch;
  for (uint64_t i = 2; i <= 101; ++i) payloads.push_back(payload_of(i));
  for (uint64_t i = 2; i <= 101; ++i) batch.push_back({type_of(i), payloads[i - 2]});
  auto first = (*wal)->append_batch(batch);
  ASSERT_OK(first);
  EXPECT_EQ(*first, 2u);
  ASSERT_EQ((*wal)->append(type_of(102), payload_of(102)).value(), 102u);
  WalStatistics stats = (*wal)->statistics();
  EXPECT_EQ(stats.appends, 102u);
  EXPECT_EQ(stats.append_calls, 3u);
  EXPECT_EQ(stats.syncs, 3u) << "one fdatasync per call, the batch included";
  EXPECT_EQ(replay_all(**wal).value(), expected_records(1, 102));
}

TEST(WalTest, AppendRejectsBadRecordsAndNamesTheProblem) {
  testing::TempDir directory;
  WalOptions options = wal_options(directory.file("wal"));
  options.max_record_bytes = 1000;
  auto wal = Wal::open(options);
  ASSERT_OK(wal);
  EXPECT_STATUS((*wal)->append(0, "x"), StatusCode::kInvalidArgument, "type 0");
  EXPECT_STATUS((*wal)->append(1, std::string(1001, 'x')), StatusCode::kInvalidArgument, "max_record_bytes");
  EXPECT_STATUS((*wal)->append_batch({}), StatusCode::kInvalidArgument, "at least one record");
  EXPECT_OK((*wal)->append(1, std::string(1000, 'x')));
  EXPECT_EQ((*wal)->statistics().last_sequence, 1u) << "rejected records take no sequence number";
}

TEST(WalTest, OpenChecksItsOptions) {
  testing::TempDir directory;
  EXPECT_STATUS(Wal::open(WalOptions{}), StatusCode::kInvalidArgument, "directory");
  EXPECT_STATUS(Wal::open(wal_options(directory.file("a"), WalSyncPolicy::kNone, 100)),
                StatusCode::kInvalidArgument, "segment_bytes");
  WalOptions zero_record = wal_options(directory.file("b"));
  zero_record.max_record_bytes = 0;
  EXPECT_STATUS(Wal::open(zero_record), StatusCode::kInvalidArgument, "max_record_bytes");
  WalOptions no_interval = wal_options(directory.file("c"), WalSyncPolicy::kPeriodic);
  no_interval.sync_interval = std::chrono::milliseconds(0);
  EXPECT_STATUS(Wal::open(no_interval), StatusCode::kInvalidArgument, "sync_interval");
  WalOptions missing = wal_options(directory.file("missing"));
  missing.create_if_missing = false;
  EXPECT_STATUS(Wal::open(missing), StatusCode::kNotFound, directory.file("missing"));
  testing::write_file(directory.file("file"), "x");
  EXPECT_STATUS(Wal::open(wal_options(directory.file("file"))), StatusCode::kInvalidArgument, "not a directory");
}

TEST(WalTest, OneWalAtATimeMayOpenADirectory) {
  testing::TempDir directory;
  auto first = Wal::open(wal_options(directory.file("wal")));
  ASSERT_OK(first);
  EXPECT_STATUS(Wal::open(wal_options(directory.file("wal"))), StatusCode::kFailedPrecondition, "already open");
  ASSERT_OK((*first)->close());
  EXPECT_OK(Wal::open(wal_options(directory.file("wal"))));
}

TEST(WalTest, ClosedLogRefusesWork) {
  testing::TempDir directory;
  auto wal = Wal::open(wal_options(directory.file("wal")));
  ASSERT_OK(wal);
  ASSERT_OK((*wal)->append(1, "a"));
  ASSERT_OK((*wal)->close());
  EXPECT_OK((*wal)->close());
  EXPECT_STATUS((*wal)->append(1, "b"), StatusCode::kClosed, "closed");
  EXPECT_STATUS((*wal)->sync(), StatusCode::kClosed, "closed");
  EXPECT_STATUS((*wal)->replay(0, [](const WalRecordView&) { return Status::ok(); }), StatusCode::kClosed, "closed");
  EXPECT_STATUS((*wal)->truncate_before(1), StatusCode::kClosed, "closed");
}

TEST(WalTest, SyncPolicyNamesRoundTrip) {
  for (WalSyncPolicy policy : {WalSyncPolicy::kEveryAppend, WalSyncPolicy::kGroupCommit, WalSyncPolicy::kPeriodic,
                               WalSyncPolicy::kNone}) {
    EXPECT_EQ(parse_wal_sync_policy(wal_sync_policy_name(policy)).value(), policy);
  }
  EXPECT_STATUS(parse_wal_sync_policy("always"), StatusCode::kInvalidArgument, "group_commit");
}

}  // namespace
}  // namespace streamstate
