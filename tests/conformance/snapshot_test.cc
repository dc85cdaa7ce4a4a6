// Conformance: snapshots are consistent, isolated point-in-time views, readable from any thread.
#include <algorithm>
#include <map>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "conformance/backend_conformance.h"
#include "streamstate/state_key.h"
#include "streamstate/write_batch.h"

namespace streamstate::testing {
namespace {

using Names = std::vector<std::string>;

// Point lookups in a snapshot (get, get_many) see the snapshot's moment, not later writes.
TEST_P(BackendConformanceTest, SnapshotPointLookupsSeeTheSnapshot) {
  auto c = open_column("points");
  ASSERT_NE(c, nullptr);
  ASSERT_OK(c->put("a", "old-a"));
  ASSERT_OK(c->put("b", "old-b"));
  ASSERT_OK(c->put("c", ""));
  CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<BackendSnapshot> snapshot, backend().snapshot());
  ASSERT_OK(c->put("a", "new-a"));
  ASSERT_OK(c->remove("b"));
  ASSERT_OK(c->put("d", "added"));
  const std::vector<std::string> keys = {"a", "b", "c", "d", "x"};
  std::map<size_t, std::string> found;
  ASSERT_OK(snapshot->get_many("points", keys, [&](size_t i, BytesView value) {
    EXPECT_TRUE(found.emplace(i, std::string(value)).second) << "key " << i << " reported twice";
  }));
  EXPECT_EQ(found, (std::map<size_t, std::string>{{0, "old-a"}, {1, "old-b"}, {2, ""}}));
  std::string value;
  CONFORMANCE_ASSIGN_OR_FAIL(bool present, snapshot->get("points", "b", &value));
  EXPECT_TRUE(present);
  EXPECT_EQ(value, "old-b");
  CONFORMANCE_ASSIGN_OR_FAIL(bool added, snapshot->get("points", "d", &value));
  EXPECT_FALSE(added);
  EXPECT_EQ(snapshot->get_many("no-such-column", keys, [](size_t, BytesView) {}).code(), StatusCode::kNotFound);
}

TEST_P(BackendConformanceTest, SnapshotIgnoresEverythingWrittenAfterIt) {
  auto a = open_column("a");
  auto b = open_column("b");
  auto empty = open_column("empty");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(empty, nullptr);
  ASSERT_OK(a->put("k1", "v1"));
  ASSERT_OK(a->put("k2", "v2"));
  ASSERT_OK(a->put(std::string("bin\0", 4), ""));
  ASSERT_OK(b->put("x", "1"));
  ASSERT_OK(b->put("y", "2"));
  const Entries a_before = sorted(scan_entries(*a));
  const Entries b_before = sorted(scan_entries(*b));

  CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<BackendSnapshot> snapshot, backend().snapshot());
  ASSERT_NE(snapshot, nullptr);

  ASSERT_OK(a->put("k1", "changed"));
  ASSERT_OK(a->put("k3", "added"));
  ASSERT_OK(a->remove("k2"));
  ASSERT_OK(
      a->update(std::string("bin\0", 4), [](std::optional<BytesView>) { return std::string("updated"); }));
  ASSERT_OK(b->clear());
  auto later = open_column("later");
  ASSERT_NE(later, nullptr);
  ASSERT_OK(later->put("k", "v"));
  WriteBatch batch;
  batch.put("a", "k4", "batched");
  batch.put("empty", "k", "batched");
  batch.remove("a", "k1");
  ASSERT_OK(backend().write(batch));

  EXPECT_EQ(snapshot->columns(), (Names{"a", "b", "empty"}));
  EXPECT_EQ(sorted(snapshot_entries(*snapshot, "a")), a_before);
  EXPECT_EQ(sorted(snapshot_entries(*snapshot, "b")), b_before);
  EXPECT_TRUE(snapshot_entries(*snapshot, "empty").empty());
  EXPECT_STATUS(snapshot->iterate("later"), StatusCode::kNotFound, "later");
  EXPECT_STATUS(snapshot->iterate("never"), StatusCode::kNotFound, "never");

  // The live state moved on.
  EXPECT_EQ(sorted(scan_entries(*a)),
            (Entries{{std::string("bin\0", 4), "updated"}, {"k3", "added"}, {"k4", "batched"}}));
  EXPECT_TRUE(scan_entries(*b).empty());

  // A second snapshot sees the new state; the first one still sees the old.
  CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<BackendSnapshot> second, backend().snapshot());
  EXPECT_EQ(second->columns(), (Names{"a", "b", "empty", "later"}));
  EXPECT_EQ(sorted(snapshot_entries(*second, "a")), sorted(scan_entries(*a)));
  EXPECT_EQ(sorted(snapshot_entries(*second, "empty")), (Entries{{"k", "batched"}}));
  EXPECT_EQ(sorted(snapshot_entries(*snapshot, "a")), a_before);
  second.reset();
  EXPECT_EQ(sorted(snapshot_entries(*snapshot, "b")), b_before) << "releasing one snapshot changed another";
}

TEST_P(BackendConformanceTest, SnapshotIterationByPrefixIsExact) {
  auto column = open_column("keyed");
  ASSERT_NE(column, nullptr);
  Entries all;
  for (uint32_t group : {0u, 1u, 255u, 256u, 257u}) {
    for (const char* user_key : {"a", "ab", "abc"}) {
      for (const char* name_space : {"", "n"}) {
        all.emplace_back(make_state_key(group, user_key, name_space),
                         std::to_string(group) + user_key + name_space);
      }
    }
  }
  all.emplace_back("\xff\xff", "ff");
  all.emplace_back("\xff\xff\xff", "fff");
  for (const auto& [key, value] : all) ASSERT_OK(column->put(key, value));
  CONFORMANCE_ASSIGN_OR_FAIL(auto snapshot, backend().snapshot());
  ASSERT_OK(column->put(make_state_key(256, "ab", "after"), "invisible"));

  auto expect_prefix = [&](const std::string& prefix) {
    SCOPED_TRACE("prefix " + printable(prefix));
    Entries expected;
    for (const auto& entry : all) {
      if (entry.first.compare(0, prefix.size(), prefix) == 0) expected.push_back(entry);
    }
    EXPECT_EQ(sorted(snapshot_entries(*snapshot, "keyed", prefix)), sorted(expected));
  };
  expect_prefix("");
  for (uint32_t group : {0u, 1u, 255u, 256u, 257u, 258u}) {
    expect_prefix(key_group_prefix(group));
    expect_prefix(user_key_prefix(group, "ab"));  // must not include "abc"
    expect_prefix(user_key_prefix(group, "abc"));
  }
  expect_prefix(std::string("\0", 1));
  expect_prefix("\x01");
  expect_prefix("\xff\xff");
}

TEST_P(BackendConformanceTest, SnapshotIterationIsOrderedWhenClaimed) {
  if (!capabilities().ordered_scan) GTEST_SKIP() << GetParam().name << " does not claim ordered_scan";
  auto column = open_column("ordered");
  ASSERT_NE(column, nullptr);
  std::vector<std::string> keys = {"\x80", "\x7f", "b", "a", "ab", std::string("a\0", 2), "\xff"};
  for (int i = 0; i < 500; ++i)
    keys.push_back(make_state_key(static_cast<uint32_t>((i * 97) % 300), std::to_string(i)));
  for (const std::string& key : keys) ASSERT_OK(column->put(key, "v"));
  std::sort(keys.begin(), keys.end());
  CONFORMANCE_ASSIGN_OR_FAIL(auto snapshot, backend().snapshot());
  EXPECT_EQ(keys_of(snapshot_entries(*snapshot, "ordered")), keys);
  std::vector<std::string> group_one;
  for (const std::string& key : keys) {
    if (key.compare(0, 2, key_group_prefix(1)) == 0) group_one.push_back(key);
  }
  ASSERT_FALSE(group_one.empty());
  EXPECT_EQ(keys_of(snapshot_entries(*snapshot, "ordered", key_group_prefix(1))), group_one);
}

// Checkpoints read a snapshot in the background while the job keeps writing.
TEST_P(BackendConformanceTest, SnapshotReadFromAnotherThreadWhileAWriterRuns) {
  auto column = open_column("live");
  ASSERT_NE(column, nullptr);
  constexpr int kKeys = 2000;
  Entries expected;
  for (int i = 0; i < kKeys; ++i) {
    expected.emplace_back("key-" + std::to_string(i), "original-" + std::to_string(i));
    ASSERT_OK(column->put(expected.back().first, expected.back().second));
  }
  expected = sorted(std::move(expected));
  CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<BackendSnapshot> snapshot, backend().snapshot());

  auto write_over_everything = [&] {
    for (int i = 0; i < kKeys; ++i) {
      const std::string key = "key-" + std::to_string(i);
      if (i % 3 == 0) {
        EXPECT_OK(column->remove(key));
      } else {
        EXPECT_OK(column->put(key, "rewritten"));
      }
      EXPECT_OK(column->put("new-" + std::to_string(i), "new"));
    }
    EXPECT_OK(column->clear());
  };
  // Each read in the other thread must give exactly the original entries.
  int reads = 0;
  auto read_snapshot = [&] {
    ++reads;
    const Entries read = sorted(snapshot_entries(*snapshot, "live"));
    if (read != expected) {
      ADD_FAILURE() << "a snapshot read saw " << read.size() << " entries (expected " << expected.size()
                    << ") or changed values: it saw writes made after it was taken";
    }
  };

  if (capabilities().thread_safe) {
    std::atomic<bool> writer_done{false};
    std::jthread reader([&] {
      // Keep reading while the writer runs (bounded, to stay fast on slow backends).
      do {
        read_snapshot();
      } while (!writer_done.load() && reads < 20);
    });
    write_over_everything();
    writer_done.store(true);
  } else {
    // Without thread safety there is no concurrent writer, but the read still happens on
    // another thread than the one that took the snapshot.
    write_over_everything();
    std::jthread reader(read_snapshot);
  }
  EXPECT_TRUE(scan_entries(*column).empty());
  // And it can be read again here, with the same result.
  EXPECT_TRUE(sorted(snapshot_entries(*snapshot, "live")) == expected);
}

}  // namespace
}  // namespace streamstate::testing
