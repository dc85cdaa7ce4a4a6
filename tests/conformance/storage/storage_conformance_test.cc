// The CheckpointStorage contract (streamstate/checkpoint_storage.h), run on every storage.
#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "conformance/storage/storage_conformance.h"
#include "testutil/status_matchers.h"

namespace streamstate::testing {

void StorageConformance::put(const std::string& name, const std::string& content) {
  auto writer = storage_->create(name);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append(content));
  ASSERT_OK((*writer)->commit());
}

namespace {

// Deterministic bytes that differ for every (seed, position), zero bytes included.
std::string pattern(uint64_t seed, size_t size) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

std::vector<std::string> names_of(const std::vector<StoredObject>& objects) {
  std::vector<std::string> names;
  for (const auto& object : objects) names.push_back(object.name);
  return names;
}

TEST_P(StorageConformance, ObjectIsInvisibleUntilCommit) {
  auto writer = storage_->create("chk-1/data.bin");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("hello "));
  ASSERT_OK((*writer)->sync());
  ASSERT_OK((*writer)->append("world"));
  EXPECT_EQ((*writer)->size(), 11u);
  EXPECT_EQ((*writer)->name(), "chk-1/data.bin");
  EXPECT_EQ(storage_->exists("chk-1/data.bin").value(), false);
  EXPECT_TRUE(storage_->list("").value().empty());
  EXPECT_STATUS(storage_->read("chk-1/data.bin"), StatusCode::kNotFound, "'chk-1/data.bin'");
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(storage_->exists("chk-1/data.bin").value(), true);
  EXPECT_EQ(storage_->read("chk-1/data.bin").value(), "hello world");
  EXPECT_EQ(storage_->list("").value(), (std::vector<StoredObject>{{"chk-1/data.bin", 11}}));
}

TEST_P(StorageConformance, WriterDestroyedWithoutCommitLeavesNothing) {
  {
    auto writer = storage_->create("chk-1/abandoned");
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->append(pattern(1, 10000)));
    ASSERT_OK((*writer)->sync());
  }
  EXPECT_EQ(storage_->exists("chk-1/abandoned").value(), false);
  EXPECT_TRUE(storage_->list("").value().empty());
  ASSERT_OK(storage_->remove_incomplete());
  EXPECT_TRUE(storage_->list("").value().empty());
}

TEST_P(StorageConformance, WriterRefusesCallsAfterCommit) {
  auto writer = storage_->create("once");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("a"));
  ASSERT_OK((*writer)->commit());
  EXPECT_STATUS((*writer)->append("b"), StatusCode::kFailedPrecondition, "already committed");
  EXPECT_STATUS((*writer)->commit(), StatusCode::kFailedPrecondition, "'once'");
  EXPECT_EQ(storage_->read("once").value(), "a");
}

TEST_P(StorageConformance, EmptyObject) {
  auto writer = storage_->create("empty");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(storage_->exists("empty").value(), true);
  EXPECT_EQ(storage_->read("empty").value(), "");
  EXPECT_EQ(storage_->read_range("empty", 0, 0).value(), "");
  EXPECT_EQ(storage_->list("").value(), (std::vector<StoredObject>{{"empty", 0}}));
}

TEST_P(StorageConformance, CommitReplacesAnExistingObject) {
  put("chk-1/manifest.json", "first version, long");
  auto writer = storage_->create("chk-1/manifest.json");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("second"));
  // Until the replacement commits, readers see the old object.
  EXPECT_EQ(storage_->read("chk-1/manifest.json").value(), "first version, long");
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(storage_->read("chk-1/manifest.json").value(), "second");
  EXPECT_EQ(storage_->list("").value(), (std::vector<StoredObject>{{"chk-1/manifest.json", 6}}));
}

TEST_P(StorageConformance, ReadersNeverSeeAPartialReplacement) {
  const std::string small = pattern(1, 1000);
  const std::string large = pattern(2, 300000);
  put("latest", small);
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto content = storage_->read("latest");
      if (!content.is_ok() || (*content != small && *content != large)) bad_reads.fetch_add(1);
    }
  });
  for (int i = 0; i < 40; ++i) put("latest", i % 2 == 0 ? large : small);
  done.store(true);
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
}

TEST_P(StorageConformance, ListIsSortedAndFiltersByPlainPrefix) {
  for (const char* name : {"b/2", "a/10", "a/2", "ab", "a/1", "a1", "a/3/x"}) put(name, name);
  EXPECT_EQ(names_of(storage_->list("").value()),
            (std::vector<std::string>{"a/1", "a/10", "a/2", "a/3/x", "a1", "ab", "b/2"}))
      << "byte order: '/' (0x2f) sorts before '1' (0x31)";
  EXPECT_EQ(names_of(storage_->list("a/").value()), (std::vector<std::string>{"a/1", "a/10", "a/2", "a/3/x"}));
  EXPECT_EQ(names_of(storage_->list("a/1").value()), (std::vector<std::string>{"a/1", "a/10"}));
  EXPECT_EQ(names_of(storage_->list("a").value()),
            (std::vector<std::string>{"a/1", "a/10", "a/2", "a/3/x", "a1", "ab"}));
  EXPECT_EQ(names_of(storage_->list("a/3").value()), (std::vector<std::string>{"a/3/x"}));
  EXPECT_EQ(names_of(storage_->list("a/3/").value()), (std::vector<std::string>{"a/3/x"}));
  EXPECT_EQ(names_of(storage_->list("b/2").value()), (std::vector<std::string>{"b/2"}));
  EXPECT_TRUE(storage_->list("c").value().empty());
  EXPECT_TRUE(storage_->list("b/2/").value().empty());
  EXPECT_TRUE(storage_->list("../").value().empty());
  EXPECT_EQ(storage_->list("a/10").value(), (std::vector<StoredObject>{{"a/10", 4}}));
}

TEST_P(StorageConformance, RangedReads) {
  const std::string content = pattern(3, 1000);
  put("chk-2/state.sst", content);
  EXPECT_EQ(storage_->read_range("chk-2/state.sst", 0, 10).value(), content.substr(0, 10));
  EXPECT_EQ(storage_->read_range("chk-2/state.sst", 990, 10).value(), content.substr(990));
  EXPECT_EQ(storage_->read_range("chk-2/state.sst", 123, 456).value(), content.substr(123, 456));
  EXPECT_EQ(storage_->read_range("chk-2/state.sst", 1000, 0).value(), "");
  EXPECT_STATUS(storage_->read_range("chk-2/state.sst", 995, 10), StatusCode::kOutOfRange, "(1000 bytes)");
  EXPECT_STATUS(storage_->read_range("chk-2/state.sst", 1001, 0), StatusCode::kOutOfRange, "'chk-2/state.sst'");
  EXPECT_STATUS(storage_->read_range("chk-2/state.sst", 10, std::numeric_limits<uint64_t>::max()),
                StatusCode::kOutOfRange, "past the end");
  EXPECT_STATUS(storage_->read_range("chk-2/state.sst", std::numeric_limits<uint64_t>::max(), 2),
                StatusCode::kOutOfRange, "past the end");
  EXPECT_STATUS(storage_->read_range("chk-2/missing", 0, 1), StatusCode::kNotFound, "'chk-2/missing'");
}

TEST_P(StorageConformance, MissingObjectErrorsNameTheObjectAndTheStorage) {
  auto missing = storage_->read("chk-7/manifest.json");
  const std::string expected = "checkpoint object 'chk-7/manifest.json' not found in ";
  EXPECT_STATUS(missing, StatusCode::kNotFound, expected);
  // A wrapper describes itself around the storage it wraps, which is where the object is.
  const std::string where = missing.status().message().substr(expected.size());
  EXPECT_FALSE(where.empty());
  EXPECT_NE(storage_->describe().find(where), std::string::npos) << storage_->describe() << " vs " << where;
  EXPECT_EQ(storage_->exists("chk-7/manifest.json").value(), false);
}

TEST_P(StorageConformance, RemoveDeletesAndAbsentIsOk) {
  put("chk-1/a", "1");
  put("chk-1/b", "2");
  ASSERT_OK(storage_->remove("chk-1/a"));
  EXPECT_EQ(storage_->exists("chk-1/a").value(), false);
  EXPECT_STATUS(storage_->read("chk-1/a"), StatusCode::kNotFound, "'chk-1/a'");
  EXPECT_EQ(names_of(storage_->list("chk-1/").value()), (std::vector<std::string>{"chk-1/b"}));
  EXPECT_OK(storage_->remove("chk-1/a"));
  EXPECT_OK(storage_->remove("never/written"));
  put("chk-1/a", "again");
  EXPECT_EQ(storage_->read("chk-1/a").value(), "again");
}

TEST_P(StorageConformance, InvalidNamesAreRejectedEverywhere) {
  const std::vector<std::string> bad = {"", "/abs", "trailing/", "a//b", "a/../b", "..", "./a",
                                        std::string("nul\0byte", 8), ".incomplete.x", "a/.incomplete.b",
                                        std::string(1025, 'n'), "a/" + std::string(201, 's')};
  for (const std::string& name : bad) {
    SCOPED_TRACE(name);
    EXPECT_STATUS(storage_->create(name), StatusCode::kInvalidArgument, "checkpoint object name");
    EXPECT_STATUS(storage_->read(name), StatusCode::kInvalidArgument, "checkpoint object name");
    EXPECT_STATUS(storage_->read_range(name, 0, 0), StatusCode::kInvalidArgument, "checkpoint object name");
    EXPECT_STATUS(storage_->exists(name), StatusCode::kInvalidArgument, "checkpoint object name");
    EXPECT_STATUS(storage_->remove(name), StatusCode::kInvalidArgument, "checkpoint object name");
  }
  EXPECT_STATUS(storage_->list("/chk"), StatusCode::kInvalidArgument, "starts with '/'");
  EXPECT_STATUS(storage_->list(std::string("a\0", 2)), StatusCode::kInvalidArgument, "NUL");
  // Names that look odd but are valid.
  std::string longest = std::string(200, 'n');
  while (longest.size() + 201 <= 1024) longest += "/" + std::string(200, 'n');
  longest += "/" + std::string(1024 - longest.size() - 1, 'n');
  ASSERT_EQ(longest.size(), 1024u);
  for (const std::string& name : std::vector<std::string>{"..a", "a..", "chk-1/.hidden", "x y/z=1,2", longest}) {
    SCOPED_TRACE(name);
    put(name, "ok");
    EXPECT_EQ(storage_->read(name).value(), "ok");
  }
}

TEST_P(StorageConformance, DeepNames) {
  put("a/b/c/d/e/f", "deep");
  EXPECT_EQ(storage_->read("a/b/c/d/e/f").value(), "deep");
  EXPECT_EQ(names_of(storage_->list("a/b/c/").value()), (std::vector<std::string>{"a/b/c/d/e/f"}));
}

TEST_P(StorageConformance, LargeObjectInUnevenPieces) {
  const std::string content = pattern(4, 5 * 1024 * 1024 + 17);
  auto writer = storage_->create("chk-3/large.sst");
  ASSERT_OK(writer);
  size_t offset = 0;
  size_t piece = 1;
  while (offset < content.size()) {
    size_t count = std::min(piece, content.size() - offset);
    ASSERT_OK((*writer)->append(std::string_view(content).substr(offset, count)));
    offset += count;
    piece = piece * 3 + 7;  // 1 byte up to pieces of megabytes
    if (piece > 3'000'000) piece = 4099;
  }
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(storage_->list("chk-3/").value(),
            (std::vector<StoredObject>{{"chk-3/large.sst", content.size()}}));
  EXPECT_TRUE(storage_->read("chk-3/large.sst").value() == content);
  EXPECT_TRUE(storage_->read_range("chk-3/large.sst", 3'000'001, 1'500'000).value() ==
              content.substr(3'000'001, 1'500'000));
}

TEST_P(StorageConformance, ConcurrentWritersOfDifferentNames) {
  constexpr int kThreads = 6;
  constexpr int kObjectsPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kObjectsPerThread; ++i) {
        const std::string name = "chk-" + std::to_string(i % 3) + "/t" + std::to_string(t) + "-" + std::to_string(i);
        const std::string content = pattern(static_cast<uint64_t>(t * 1000 + i), static_cast<size_t>(100 + 997 * i));
        auto writer = storage_->create(name);
        if (!writer.is_ok() || !(*writer)->append(content.substr(0, 50)).is_ok() ||
            !(*writer)->append(content.substr(50)).is_ok() || !(*writer)->commit().is_ok()) {
          failures.fetch_add(1);
        }
        auto listed = storage_->list("chk-");
        if (!listed.is_ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  auto all = storage_->list("").value();
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kObjectsPerThread));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kObjectsPerThread; ++i) {
      const std::string name = "chk-" + std::to_string(i % 3) + "/t" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_TRUE(storage_->read(name).value() ==
                  pattern(static_cast<uint64_t>(t * 1000 + i), static_cast<size_t>(100 + 997 * i)))
          << name;
    }
  }
}

TEST_P(StorageConformance, RemoveIncompleteSparesWritersStillOpen) {
  auto writer = storage_->create("chk-1/open");
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->append("part one "));
  ASSERT_OK((*writer)->sync());
  ASSERT_OK(storage_->remove_incomplete());
  ASSERT_OK((*writer)->append("part two"));
  ASSERT_OK((*writer)->commit());
  EXPECT_EQ(storage_->read("chk-1/open").value(), "part one part two");
}

}  // namespace
}  // namespace streamstate::testing
