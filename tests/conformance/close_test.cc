// Conformance: after close(), every operation on the backend, its columns and its snapshots fails
// with StatusCode::kClosed (and runs no user callback); close() is idempotent.
#include <algorithm>
#include <string>

#include "conformance/backend_conformance.h"
#include "streamstate/write_batch.h"

namespace streamstate::testing {
namespace {

TEST_P(BackendConformanceTest, EverythingFailsWithClosedAfterClose) {
  auto column = open_column("a");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("k", "v"));
  CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<BackendSnapshot> snapshot, backend().snapshot());

  ASSERT_OK(backend().close());

  // Backend operations.
  EXPECT_STATUS(backend().column("a"), StatusCode::kClosed, "");
  EXPECT_STATUS(backend().column("new-column"), StatusCode::kClosed, "");
  EXPECT_STATUS(backend().list_columns(), StatusCode::kClosed, "");
  EXPECT_STATUS(backend().drop_column("a"), StatusCode::kClosed, "");
  WriteBatch batch;
  batch.put("a", "k", "after close");
  EXPECT_STATUS(backend().write(batch), StatusCode::kClosed, "");
  EXPECT_STATUS(backend().write(WriteBatch()), StatusCode::kClosed, "");
  EXPECT_STATUS(backend().snapshot(), StatusCode::kClosed, "");
  EXPECT_STATUS(backend().flush(), StatusCode::kClosed, "");

  // Column operations through a handle taken before close().
  std::string value;
  EXPECT_STATUS(column->get("k"), StatusCode::kClosed, "");
  EXPECT_STATUS(column->get_into("k", value), StatusCode::kClosed, "");
  EXPECT_STATUS(column->contains("k"), StatusCode::kClosed, "");
  EXPECT_STATUS(column->put("k", "after close"), StatusCode::kClosed, "");
  EXPECT_STATUS(column->remove("k"), StatusCode::kClosed, "");
  EXPECT_STATUS(column->clear(), StatusCode::kClosed, "");
  bool update_called = false;
  EXPECT_STATUS(column->update("k",
                               [&](std::optional<BytesView>) {
                                 update_called = true;
                                 return std::string("after close");
                               }),
                StatusCode::kClosed, "");
  EXPECT_FALSE(update_called) << "update() ran the user's function on a closed backend";
  bool visited = false;
  EXPECT_STATUS(column->scan("",
                             [&](BytesView, BytesView) {
                               visited = true;
                               return true;
                             }),
                StatusCode::kClosed, "");
  EXPECT_FALSE(visited) << "scan() visited an entry of a closed backend";
  EXPECT_EQ(column->name(), "a") << "a handle's name stays readable after close";

  // Snapshot taken before close().
  EXPECT_STATUS(snapshot->iterate("a"), StatusCode::kClosed, "");
  EXPECT_STATUS(snapshot->iterate("a", "k"), StatusCode::kClosed, "");

  // Idempotent.
  EXPECT_OK(backend().close());
  EXPECT_OK(backend().close());
  EXPECT_STATUS(backend().list_columns(), StatusCode::kClosed, "");
}

// Handles, snapshots and iterators that outlive close() must be safe to use and to destroy (the
// sanitizer builds turn a use after free into a failure). An iterator opened before close() may
// go on returning the snapshot's data or stop with kClosed; it must not return anything else.
TEST_P(BackendConformanceTest, SnapshotIteratorOpenedBeforeCloseIsSafeAfterIt) {
  auto column = open_column("a");
  ASSERT_NE(column, nullptr);
  Entries expected;
  for (int i = 0; i < 100; ++i) {
    expected.emplace_back("k" + std::to_string(1000 + i), "v" + std::to_string(i));
    ASSERT_OK(column->put(expected.back().first, expected.back().second));
  }
  CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<BackendSnapshot> snapshot, backend().snapshot());
  CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<SnapshotIterator> iterator, snapshot->iterate("a"));
  ASSERT_TRUE(iterator->valid());
  Entries seen;
  seen.emplace_back(std::string(iterator->key()), std::string(iterator->value()));
  iterator->next();

  ASSERT_OK(backend().close());
  for (; iterator->valid(); iterator->next())
    seen.emplace_back(std::string(iterator->key()), std::string(iterator->value()));
  if (iterator->status().is_ok()) {
    EXPECT_EQ(sorted(seen), expected) << "an iterator that ended with OK must have returned every entry";
  } else {
    EXPECT_STATUS(iterator->status(), StatusCode::kClosed, "");
    for (const auto& entry : seen) {
      EXPECT_TRUE(std::find(expected.begin(), expected.end(), entry) != expected.end())
          << "an iterator returned an entry that was never written: " << printable(entry.first);
    }
  }
  // Destroy in the least convenient order: the snapshot before its iterator, after the backend.
  backend_.reset();
  snapshot.reset();
  iterator.reset();
  column.reset();
}

}  // namespace
}  // namespace streamstate::testing
