// What a memory-backend snapshot costs writers: entry-level copy-on-write. Writers copy one
// entry per key they change while a snapshot lives (the first change only, per snapshot), so
// the work and memory grow with the entries written, never with the state or a shard; after
// the snapshot is gone writes copy nothing. The snapshot still shows its moment exactly.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "backend/memory/memory_backend_internal.h"
#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using internal::entries_copied_for_snapshots;
using Contents = std::map<std::string, std::string>;

Contents read_all(BackendSnapshot& snapshot, std::string_view column) {
  Contents contents;
  auto it = snapshot.iterate(column, {});
  EXPECT_OK(it);
  if (!it.is_ok()) return contents;
  for (; it.value()->valid(); it.value()->next()) contents.emplace(it.value()->key(), it.value()->value());
  EXPECT_OK(it.value()->status());
  return contents;
}

std::string key(int i) { return "key-" + std::to_string(i); }

TEST(MemorySnapshotCostTest, WritersCopyOnlyTheEntriesTheyChange) {
  MemoryBackendOptions options;
  options.shard_count = 4;  // 2,500 entries a shard: a whole-shard copy would show at once
  auto backend = MemoryBackend::open(options).value();
  auto column = backend->column("c").value();
  for (int i = 0; i < 10'000; ++i) ASSERT_OK(column->put(key(i), "v" + std::to_string(i)));
  EXPECT_EQ(entries_copied_for_snapshots(*backend), 0u);

  auto snapshot = backend->snapshot().value();
  const Contents before = read_all(*snapshot, "c");
  ASSERT_EQ(before.size(), 10'000u);
  EXPECT_EQ(entries_copied_for_snapshots(*backend), 0u);  // taking and reading copy nothing

  ASSERT_OK(column->put(key(1), "changed"));                     // 1
  ASSERT_OK(column->put(key(1), "changed again"));               // the same key: no copy
  ASSERT_OK(column->put("new", "x"));                            // 2 (absent at the snapshot)
  ASSERT_OK(column->remove(key(2)));                             // 3
  ASSERT_OK(column->remove("never-there"));                      // nothing changes
  ASSERT_OK(column->update(key(3), [](std::optional<BytesView>) { return std::optional<std::string>("u"); }));  // 4
  WriteBatch batch;
  batch.put("c", key(4), "batched");  // 5
  batch.remove("c", key(5));          // 6
  batch.put("c", key(1), "batched");  // copied already
  ASSERT_OK(backend->write(batch));
  EXPECT_EQ(entries_copied_for_snapshots(*backend), 6u);
  EXPECT_EQ(read_all(*snapshot, "c"), before);

  // A second snapshot gets its own copies; the first one's are not needed by it.
  auto second = backend->snapshot().value();
  const Contents at_second = read_all(*second, "c");
  ASSERT_OK(column->put(key(1), "third"));  // copied for the second (the first has it)
  ASSERT_OK(column->put(key(6), "x"));      // copied for both snapshots
  EXPECT_EQ(entries_copied_for_snapshots(*backend), 9u);
  EXPECT_EQ(read_all(*snapshot, "c"), before);
  EXPECT_EQ(read_all(*second, "c"), at_second);
  EXPECT_EQ(at_second.at(key(1)), "batched");

  snapshot.reset();
  second.reset();
  for (int i = 0; i < 100; ++i) ASSERT_OK(column->put(key(i), "after"));
  EXPECT_EQ(entries_copied_for_snapshots(*backend), 9u);  // no snapshot lives: no copies
}

// iterate_once: each shard's part of the column is released once the iterator copied it, so
// writers stop copying entries there; what the iterator returns is still the snapshot's moment,
// and the column cannot be read from that snapshot again.
TEST(MemorySnapshotCostTest, ReadingOnceStopsTheCopiesBehindTheIterator) {
  MemoryBackendOptions options;
  options.shard_count = 4;
  auto backend = MemoryBackend::open(options).value();
  auto column = backend->column("c").value();
  auto other = backend->column("d").value();
  for (int i = 0; i < 2'000; ++i) ASSERT_OK(column->put(key(i), "v" + std::to_string(i)));
  ASSERT_OK(other->put("x", "1"));
  auto reference = backend->snapshot().value();
  const Contents expected = read_all(*reference, "c");
  reference.reset();

  auto snapshot = backend->snapshot().value();
  auto it = snapshot->iterate_once("c");
  ASSERT_OK(it);
  Contents seen;
  // The iterator holds the first shard's copy; every later change in it costs nothing, while
  // changes in the shards ahead are still copied (once per key).
  for (int i = 0; i < 2'000; ++i) ASSERT_OK(column->put(key(i), "changed"));
  const uint64_t copied_ahead = entries_copied_for_snapshots(*backend);
  EXPECT_GT(copied_ahead, 0u);
  EXPECT_LT(copied_ahead, 2'000u);  // the first shard's keys were not copied
  for (; it.value()->valid(); it.value()->next()) seen.emplace(it.value()->key(), it.value()->value());
  ASSERT_OK(it.value()->status());
  EXPECT_EQ(seen, expected);
  // Every shard is released now: writes copy nothing more for this column, but still for others.
  for (int i = 0; i < 2'000; ++i) ASSERT_OK(column->put(key(i), "again"));
  EXPECT_EQ(entries_copied_for_snapshots(*backend), copied_ahead);
  ASSERT_OK(other->put("x", "2"));
  EXPECT_EQ(entries_copied_for_snapshots(*backend), copied_ahead + 1);
  EXPECT_EQ(read_all(*snapshot, "d"), (Contents{{"x", "1"}}));
  EXPECT_EQ(snapshot->iterate("c", {}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(snapshot->iterate_once("c").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(snapshot->get("c", key(1), nullptr).status().code(), StatusCode::kFailedPrecondition);
}

TEST(MemorySnapshotCostTest, ClearAndDropCopyTheEntriesTheyRemove) {
  MemoryBackendOptions options;
  options.shard_count = 2;
  auto backend = MemoryBackend::open(options).value();
  auto kept = backend->column("kept").value();
  auto cleared = backend->column("cleared").value();
  for (int i = 0; i < 1'000; ++i) ASSERT_OK(kept->put(key(i), "k"));
  for (int i = 0; i < 10; ++i) ASSERT_OK(cleared->put(key(i), "c"));
  auto snapshot = backend->snapshot().value();
  ASSERT_OK(cleared->clear());  // removes 10 entries: 10 copies, none of the other column
  EXPECT_EQ(entries_copied_for_snapshots(*backend), 10u);
  EXPECT_EQ(read_all(*snapshot, "cleared").size(), 10u);
  EXPECT_EQ(read_all(*snapshot, "kept").size(), 1'000u);
  ASSERT_OK(backend->drop_column("cleared"));  // already empty: nothing more to copy
  EXPECT_EQ(entries_copied_for_snapshots(*backend), 10u);
  EXPECT_EQ(read_all(*snapshot, "cleared").size(), 10u);
}

}  // namespace
}  // namespace streamstate
