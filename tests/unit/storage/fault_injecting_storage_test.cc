// Each fault of FaultInjectingStorage, over memory and over a directory.
#include "storage/fault_injecting_storage.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/memory_storage.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate::storage {
namespace {

using streamstate::testing::TempDir;

class FaultInjectingStorageTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      inner_ = std::move(open_directory_storage(DirectoryStorageOptions{.path = directory_.path().string()})).value();
    } else {
      inner_ = std::make_shared<MemoryStorage>();
    }
    storage_ = std::make_unique<FaultInjectingStorage>(inner_);
  }

  std::unique_ptr<StorageWriter> writer(const std::string& name) {
    auto created = storage_->create(name);
    EXPECT_OK(created);
    return created.is_ok() ? std::move(created).value() : nullptr;
  }
  void put(const std::string& name, const std::string& content) {
    auto w = writer(name);
    ASSERT_NE(w, nullptr);
    ASSERT_OK(w->append(content));
    ASSERT_OK(w->commit());
  }

  TempDir directory_;
  std::shared_ptr<CheckpointStorage> inner_;
  std::unique_ptr<FaultInjectingStorage> storage_;
};

TEST_P(FaultInjectingStorageTest, FailsTheNthAppendOnly) {
  auto w = writer("chk-1/data");
  ASSERT_OK(w->append("one "));
  storage_->fail_nth(StorageOperation::kAppend, 2);
  ASSERT_OK(w->append("two "));
  EXPECT_STATUS(w->append("three "), StatusCode::kIoError,
                "injected failure at append call #3 writing checkpoint object 'chk-1/data'");
  ASSERT_OK(w->append("four"));
  ASSERT_OK(w->commit());
  EXPECT_EQ(storage_->read("chk-1/data").value(), "one two four") << "the failed append wrote nothing";
  EXPECT_EQ(storage_->calls(StorageOperation::kAppend), 4u);
}

TEST_P(FaultInjectingStorageTest, CountsAppendsAcrossWriters) {
  auto a = writer("a");
  auto b = writer("b");
  storage_->fail_nth(StorageOperation::kAppend, 2);
  ASSERT_OK(a->append("x"));
  EXPECT_STATUS(b->append("y"), StatusCode::kIoError, "'b'");
  ASSERT_OK(a->append("x"));
}

TEST_P(FaultInjectingStorageTest, FailsTheNthSyncAndCommit) {
  auto w = writer("chk-1/manifest.json");
  ASSERT_OK(w->append("{}"));
  storage_->fail_nth(StorageOperation::kSync, 1);
  storage_->fail_nth(StorageOperation::kCommit, 1);
  EXPECT_STATUS(w->sync(), StatusCode::kIoError, "injected failure at sync");
  EXPECT_STATUS(w->commit(), StatusCode::kIoError, "injected failure at commit");
  EXPECT_EQ(storage_->exists("chk-1/manifest.json").value(), false) << "a failed commit publishes nothing";
  ASSERT_OK(w->sync());
  ASSERT_OK(w->commit());
  EXPECT_EQ(storage_->read("chk-1/manifest.json").value(), "{}");
}

TEST_P(FaultInjectingStorageTest, ShortWriteKeepsAPrefixAndACallerIgnoringItCommitsATornObject) {
  auto w = writer("chk-1/block");
  storage_->short_write_nth(1, 3);
  EXPECT_STATUS(w->append("abcdef"), StatusCode::kIoError, "injected short write");
  EXPECT_EQ(w->size(), 3u);
  ASSERT_OK(w->commit());
  EXPECT_EQ(storage_->read("chk-1/block").value(), "abc");
}

TEST_P(FaultInjectingStorageTest, CrashKeepsCommittedObjectsAndDropsOpenWriters) {
  put("chk-1/manifest.json", "previous");
  auto open = writer("chk-2/data");
  ASSERT_OK(open->append("synced"));
  ASSERT_OK(open->sync());
  auto crashing = writer("chk-2/manifest.json");
  storage_->crash_at(StorageOperation::kAppend, 2);
  ASSERT_OK(crashing->append("first"));
  EXPECT_STATUS(crashing->append("second"), StatusCode::kIoError, "injected crash at append");
  EXPECT_TRUE(storage_->crashed());
  EXPECT_STATUS(open->append("more"), StatusCode::kIoError, "'chk-2/data' was being written when fault-injecting");
  EXPECT_STATUS(open->commit(), StatusCode::kIoError, "crashed");
  EXPECT_STATUS(storage_->create("chk-3/x"), StatusCode::kIoError, "call restart()");
  EXPECT_STATUS(storage_->list(""), StatusCode::kIoError, "crashed");

  storage_->restart();
  EXPECT_STATUS(crashing->commit(), StatusCode::kIoError, "crashed");  // writers cut off stay dead
  EXPECT_EQ(storage_->list("").value(), (std::vector<StoredObject>{{"chk-1/manifest.json", 8}}));
  EXPECT_EQ(storage_->read("chk-1/manifest.json").value(), "previous");
  ASSERT_OK(storage_->remove_incomplete());
  put("chk-3/manifest.json", "next");
  EXPECT_EQ(storage_->read("chk-3/manifest.json").value(), "next");
}

TEST_P(FaultInjectingStorageTest, CrashAtCommitPublishesNothing) {
  auto w = writer("chk-1/manifest.json");
  ASSERT_OK(w->append("{}"));
  storage_->crash_at(StorageOperation::kCommit, 1);
  EXPECT_STATUS(w->commit(), StatusCode::kIoError, "injected crash at commit");
  storage_->restart();
  EXPECT_EQ(storage_->exists("chk-1/manifest.json").value(), false);
}

TEST_P(FaultInjectingStorageTest, TruncatesAndFlipsCommittedObjects) {
  put("chk-1/block", "0123456789");
  ASSERT_OK(storage_->flip_byte("chk-1/block", 4, 0x01));
  EXPECT_EQ(storage_->read("chk-1/block").value(), "0123556789");
  ASSERT_OK(storage_->truncate_object("chk-1/block", 6));
  EXPECT_EQ(storage_->read("chk-1/block").value(), "012355");
  EXPECT_STATUS(storage_->flip_byte("chk-1/block", 6), StatusCode::kOutOfRange, "(6 bytes)");
  EXPECT_STATUS(storage_->truncate_object("chk-1/block", 7), StatusCode::kOutOfRange, "'chk-1/block'");
  EXPECT_STATUS(storage_->flip_byte("chk-1/missing", 0), StatusCode::kNotFound, "'chk-1/missing'");
}

TEST_P(FaultInjectingStorageTest, DisarmForgetsFaults) {
  storage_->fail_nth(StorageOperation::kAppend, 1);
  storage_->disarm();
  put("x", "fine");
  EXPECT_EQ(storage_->read("x").value(), "fine");
}

INSTANTIATE_TEST_SUITE_P(Inner, FaultInjectingStorageTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "directory" : "memory";
                         });

TEST(FaultInjectingStorageOverMemoryTest, CrashOfTheInnerMemoryKeepsSyncedLeftovers) {
  auto memory = std::make_shared<MemoryStorage>();
  FaultInjectingStorage storage(memory);
  auto w = storage.create("chk-1/data");
  ASSERT_OK(w);
  ASSERT_OK((*w)->append("synced"));
  ASSERT_OK((*w)->sync());
  ASSERT_OK((*w)->append(" unsynced"));
  memory->crash();
  EXPECT_EQ(memory->incomplete_contents(), (std::vector<std::string>{"synced"}));
  EXPECT_STATUS((*w)->commit(), StatusCode::kIoError, "crashed");
}

}  // namespace
}  // namespace streamstate::storage
