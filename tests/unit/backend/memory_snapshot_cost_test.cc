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
