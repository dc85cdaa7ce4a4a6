// MemoryStorage's crash model: synced bytes of open writers survive as incomplete leftovers,
// unsynced bytes are lost, committed objects stay.
#include "storage/memory_storage.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testutil/status_matchers.h"

namespace streamstate::storage {
namespace {

TEST(MemoryStorageTest, CrashLosesUnsyncedBytesAndKeepsSyncedOnesAsIncomplete) {
  MemoryStorage storage;
  auto synced = storage.create("chk-2/synced");
  auto unsynced = storage.create("chk-2/unsynced");
  ASSERT_OK(synced);
  ASSERT_OK(unsynced);
  ASSERT_OK((*synced)->append("durable "));
  ASSERT_OK((*synced)->sync());
  ASSERT_OK((*synced)->append("lost"));
  ASSERT_OK((*unsynced)->append("all lost"));
  EXPECT_EQ(storage.unsynced_bytes(), 12u);

  storage.crash();
  EXPECT_EQ(storage.incomplete_contents(), (std::vector<std::string>{"durable "}));
  EXPECT_EQ(storage.unsynced_bytes(), 0u);
  EXPECT_STATUS((*synced)->append("more"), StatusCode::kIoError,
                "'chk-2/synced' was being written when memory storage crashed");
  EXPECT_STATUS((*synced)->commit(), StatusCode::kFailedPrecondition, "earlier failure");
  EXPECT_STATUS((*unsynced)->commit(), StatusCode::kIoError, "crashed");
  EXPECT_EQ(storage.exists("chk-2/synced").value(), false);
  EXPECT_TRUE(storage.list("").value().empty());

  ASSERT_OK(storage.remove_incomplete());
  EXPECT_TRUE(storage.incomplete_contents().empty());
}

TEST(MemoryStorageTest, CommittedObjectsSurviveACrashAndNewWritersWork) {
  MemoryStorage storage;
  auto writer = storage.create("chk-1/manifest.json");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("{}"));
  ASSERT_OK((*writer)->commit());
  storage.crash();
  EXPECT_TRUE(storage.incomplete_contents().empty()) << "a committed writer leaves no leftover";
  EXPECT_EQ(storage.read("chk-1/manifest.json").value(), "{}");
  auto after = storage.create("chk-2/manifest.json");
  ASSERT_OK(after);
  ASSERT_OK((*after)->append("[]"));
  ASSERT_OK((*after)->commit());
  EXPECT_EQ(storage.read("chk-2/manifest.json").value(), "[]");
}

TEST(MemoryStorageTest, CommitCountsAsSynced) {
  MemoryStorage storage;
  auto writer = storage.create("x");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("abc"));
  EXPECT_EQ(storage.unsynced_bytes(), 3u);
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(storage.unsynced_bytes(), 0u);
  EXPECT_EQ((*writer)->size(), 3u);
}

TEST(MemoryStorageTest, NameAndPrefixMayCoexist) {
  auto storage = open_memory_storage();
  for (const char* name : {"a", "a/b"}) {
    auto writer = storage->create(name);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->append(name));
    ASSERT_OK((*writer)->commit());
  }
  EXPECT_EQ(storage->list("a").value(), (std::vector<StoredObject>{{"a", 1}, {"a/b", 3}}));
  EXPECT_TRUE(storage->describe().starts_with("memory storage #")) << storage->describe();
  EXPECT_NE(storage->describe(), open_memory_storage()->describe());
}

}  // namespace
}  // namespace streamstate::storage
