// A write that the operating system refuses (here: the file-size limit, RLIMIT_FSIZE, standing in
// for a full disk) fails the append with kIoError naming the segment file; the log then refuses
// further appends until it is reopened, and the reopened log keeps every acknowledged record and
// cuts off whatever part of the failed write reached the file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <string>
#include <vector>

#include "streamstate/wal.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/wal/wal_test_util.h"

namespace streamstate {
namespace {

// Lowers the process's file-size limit (and ignores SIGXFSZ) while it lives.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limit = previous_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    ::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit previous_{};
  sighandler_t previous_handler_;
};

TEST(WalIoErrorTest, FailedWriteStopsTheLogAndReopeningRecovers) {
  testing::TempDir directory;
  const std::string path = directory.file("wal");
  std::vector<testing::ReplayedRecord> acknowledged;
  {
    auto wal = Wal::open(testing::wal_options(path, WalSyncPolicy::kGroupCommit));
    ASSERT_OK(wal);
    Status failure;
    {
      FileSizeLimit limit(4000);
      for (uint64_t i = 1; i <= 100 && failure.is_ok(); ++i) {
        std::string payload(150, static_cast<char>(i));
        auto sequence = (*wal)->append(1, payload);
        if (sequence.is_ok()) {
          acknowledged.push_back({*sequence, 1, payload});
        } else {
          failure = sequence.status();
        }
      }
      ASSERT_FALSE(failure.is_ok()) << "the file-size limit never stopped a write";
      EXPECT_STATUS(failure, StatusCode::kIoError, testing::segment_path(path, 1).string());
    }
    EXPECT_FALSE(acknowledged.empty());
    // The limit is gone, but the log does not know what the failed write left in the file.
    EXPECT_STATUS((*wal)->append(1, "later"), StatusCode::kIoError, "reopen it");
    EXPECT_STATUS((*wal)->sync(), StatusCode::kIoError, "reopen it");
    EXPECT_EQ((*wal)->statistics().last_sequence, acknowledged.size() + 1) << "the failed record was numbered";
  }
  auto wal = Wal::open(testing::wal_options(path, WalSyncPolicy::kGroupCommit));
  ASSERT_OK(wal);
  EXPECT_EQ(testing::replay_all(**wal).value(), acknowledged);
  // Linux writes up to the limit before refusing: the start of the failed record was cut off.
  EXPECT_EQ((*wal)->statistics().recovery_dropped_offset + (*wal)->statistics().recovery_dropped_bytes, 4000u);
  EXPECT_GT((*wal)->statistics().recovery_dropped_bytes, 0u);
  EXPECT_EQ((*wal)->append(1, "after").value(), acknowledged.size() + 1);
}

}  // namespace
}  // namespace streamstate
