// What the directory storage does on disk: temporary files, their cleanup, errors naming paths.
#include "storage/directory_storage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate::storage {
namespace {

namespace fs = std::filesystem;
using streamstate::testing::TempDir;

// Every regular file below root, relative, sorted.
std::vector<std::string> files_on_disk(const fs::path& root) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.push_back(entry.path().lexically_relative(root).generic_string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class DirectoryStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = std::move(open_directory_storage(DirectoryStorageOptions{.path = directory_.path().string()})).value();
  }
  TempDir directory_;
  std::unique_ptr<CheckpointStorage> storage_;
};

TEST_F(DirectoryStorageTest, WritesToAHiddenTemporaryFileAndRenamesOnCommit) {
  auto writer = storage_->create("chk-1/data.bin");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("bytes"));
  ASSERT_OK((*writer)->sync());
  std::vector<std::string> during = files_on_disk(directory_.path());
  ASSERT_EQ(during.size(), 1u);
  EXPECT_TRUE(during[0].starts_with("chk-1/.incomplete.data.bin.")) << during[0];
  EXPECT_EQ(fs::file_size(directory_.path() / during[0]), 5u) << "sync wrote the buffered bytes";
  EXPECT_TRUE(storage_->list("").value().empty());
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(files_on_disk(directory_.path()), (std::vector<std::string>{"chk-1/data.bin"}));
}

TEST_F(DirectoryStorageTest, AbandonedWriterRemovesItsTemporaryFile) {
  {
    auto writer = storage_->create("chk-1/data.bin");
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->append("bytes"));
    ASSERT_OK((*writer)->sync());
  }
  EXPECT_TRUE(files_on_disk(directory_.path()).empty());
}

TEST_F(DirectoryStorageTest, RemoveIncompleteDeletesLeftoversOfDeadWriters) {
  fs::create_directories(directory_.path() / "chk-4");
  std::ofstream(directory_.path() / "chk-4" / ".incomplete.manifest.json.999.0") << "torn";
  std::ofstream(directory_.path() / ".incomplete.top.1.2") << "torn";
  auto live = storage_->create("chk-4/live");
  ASSERT_OK(live);
  ASSERT_OK((*live)->sync());
  EXPECT_TRUE(storage_->list("").value().empty()) << "leftovers are never listed";
  ASSERT_OK(storage_->remove_incomplete());
  std::vector<std::string> left = files_on_disk(directory_.path());
  ASSERT_EQ(left.size(), 1u) << "only the live writer's file stays";
  EXPECT_TRUE(left[0].starts_with("chk-4/.incomplete.live.")) << left[0];
  ASSERT_OK((*live)->commit());
  EXPECT_EQ(files_on_disk(directory_.path()), (std::vector<std::string>{"chk-4/live"}));
}

TEST_F(DirectoryStorageTest, ObjectsPersistAcrossOpens) {
  {
    auto writer = storage_->create("chk-1/manifest.json");
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->append("{\"id\":1}"));
    ASSERT_OK((*writer)->commit());
  }
  storage_.reset();
  auto reopened = open_directory_storage(DirectoryStorageOptions{.path = directory_.path().string() + "/",
                                                                 .create_if_missing = false});
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->read("chk-1/manifest.json").value(), "{\"id\":1}");
  EXPECT_EQ((*reopened)->describe(), "directory " + directory_.path().string());
}

TEST_F(DirectoryStorageTest, ErrorsNameTheDirectory) {
  EXPECT_STATUS(storage_->read("chk-7/manifest.json"), StatusCode::kNotFound,
                "checkpoint object 'chk-7/manifest.json' not found in directory " + directory_.path().string());
  auto writer = storage_->create("small");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("12345"));
  ASSERT_OK((*writer)->commit());
  EXPECT_STATUS(storage_->read_range("small", 3, 3), StatusCode::kOutOfRange,
                "'small' (5 bytes) in directory " + directory_.path().string());
  // An object cannot also be a folder on a file system.
  EXPECT_STATUS(storage_->create("small/inner"), StatusCode::kIoError, (directory_.path() / "small").string());
}

TEST(DirectoryStorageOpenTest, RejectsMissingOrWrongPaths) {
  TempDir directory;
  EXPECT_STATUS(open_directory_storage(DirectoryStorageOptions{}), StatusCode::kInvalidArgument, "path is empty");
  EXPECT_STATUS(
      open_directory_storage(DirectoryStorageOptions{.path = directory.file("absent"), .create_if_missing = false}),
      StatusCode::kNotFound, directory.file("absent"));
  std::ofstream(directory.file("a-file")) << "x";
  EXPECT_STATUS(open_directory_storage(DirectoryStorageOptions{.path = directory.file("a-file")}),
                StatusCode::kInvalidArgument, "is not a directory");
  auto created = open_directory_storage(DirectoryStorageOptions{.path = directory.file("new/nested")});
  ASSERT_OK(created);
  EXPECT_TRUE(fs::is_directory(directory.file("new/nested")));
}

}  // namespace
}  // namespace streamstate::storage
