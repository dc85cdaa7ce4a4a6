// Columns and lifecycle of the memory backend: handles of dropped columns, column ids that are
// never reused, all-or-nothing batches, and kClosed from every object after close().
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

TEST(MemoryLifecycleTest, HandleOfADroppedColumnFailsAndTheDataDoesNotReturn) {
  auto backend = MemoryBackend::open({}).value();
  auto old_handle = backend->column("c").value();
  ASSERT_OK(old_handle->put("k", "v"));
  ASSERT_OK(backend->drop_column("c"));
  EXPECT_STATUS(old_handle->get("k"), StatusCode::kNotFound, "column 'c' was dropped");
  EXPECT_STATUS(old_handle->put("k", "v"), StatusCode::kNotFound, "was dropped");
  EXPECT_STATUS(old_handle->scan("", [](BytesView, BytesView) { return true; }), StatusCode::kNotFound, "dropped");
  EXPECT_STATUS(backend->drop_column("c"), StatusCode::kNotFound, "'c'");

  auto new_handle = backend->column("c").value();
  EXPECT_FALSE(new_handle->contains("k").value());
  EXPECT_STATUS(old_handle->contains("k"), StatusCode::kNotFound, "dropped");
  EXPECT_EQ(backend->statistics().live_entries, 0u);
}

TEST(MemoryLifecycleTest, ColumnsAreListedSortedAndHandlesShareData) {
  auto backend = MemoryBackend::open({}).value();
  for (const char* name : {"zeta", "alpha", "mid.dle", "alpha"}) ASSERT_OK(backend->column(name));
  EXPECT_EQ(backend->list_columns().value(), (std::vector<std::string>{"alpha", "mid.dle", "zeta"}));
  ASSERT_OK(backend->column("alpha").value()->put("k", "v"));
  EXPECT_EQ(backend->column("alpha").value()->get("k").value(), std::optional<std::string>("v"));
  EXPECT_FALSE(backend->column("zeta").value()->contains("k").value());
  EXPECT_STATUS(backend->column("bad name"), StatusCode::kInvalidArgument, "bad name");
}

TEST(MemoryLifecycleTest, BatchWithAnUnknownColumnAppliesNothing) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("known").value();
  ASSERT_OK(column->put("stays", "old"));
  WriteBatch batch;
  batch.put("known", "new", "1");
  batch.put("known", "stays", "changed");
  batch.remove("unknown", "k");
  EXPECT_STATUS(backend->write(batch), StatusCode::kNotFound, "'unknown'");
  EXPECT_FALSE(column->contains("new").value());
  EXPECT_EQ(column->get("stays").value(), std::optional<std::string>("old"));
  EXPECT_EQ(backend->statistics().batches, 0u);
}

TEST(MemoryLifecycleTest, LaterOperationsInABatchWin) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  WriteBatch batch;
  batch.put("c", "k", "1");
  batch.remove("c", "k");
  batch.put("c", "k", "2");
  batch.put("c", "gone", "x");
  batch.remove("c", "gone");
  ASSERT_OK(backend->write(batch));
  EXPECT_EQ(column->get("k").value(), std::optional<std::string>("2"));
  EXPECT_FALSE(column->contains("gone").value());
}

TEST(MemoryLifecycleTest, EverythingFailsWithClosedAfterClose) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("k", "v"));
  ASSERT_OK(backend->close());
  ASSERT_OK(backend->close());  // idempotent

  const StatusCode closed = StatusCode::kClosed;
  EXPECT_STATUS(column->get("k"), closed, "closed");
  EXPECT_STATUS(column->contains("k"), closed, "closed");
  EXPECT_STATUS(column->put("k", "v"), closed, "closed");
  EXPECT_STATUS(column->remove("k"), closed, "closed");
  EXPECT_STATUS(column->update("k", [](std::optional<BytesView>) { return std::optional<std::string>("x"); }),
                closed, "closed");
  EXPECT_STATUS(column->scan("", [](BytesView, BytesView) { return true; }), closed, "closed");
  EXPECT_STATUS(column->clear(), closed, "closed");
  EXPECT_STATUS(backend->column("c"), closed, "closed");
  EXPECT_STATUS(backend->column("other"), closed, "closed");
  EXPECT_STATUS(backend->list_columns(), closed, "closed");
  EXPECT_STATUS(backend->drop_column("c"), closed, "closed");
  WriteBatch batch;
  batch.put("c", "k", "v");
  EXPECT_STATUS(backend->write(batch), closed, "closed");
  EXPECT_STATUS(backend->snapshot(), closed, "closed");
  EXPECT_STATUS(backend->flush(), closed, "closed");
  EXPECT_STATUS(backend->cleanup_expired(), closed, "closed");
}

TEST(MemoryLifecycleTest, ColumnHandleOutlivesTheBackend) {
  std::shared_ptr<StateColumn> column;
  {
    auto backend = MemoryBackend::open({}).value();
    column = backend->column("c").value();
    ASSERT_OK(column->put("k", "v"));
  }
  EXPECT_EQ(column->name(), "c");
  EXPECT_STATUS(column->get("k"), StatusCode::kClosed, "open a new backend");
}

TEST(MemoryLifecycleTest, ScanVisitorMayWriteToTheBackendAndStopEarly) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  auto copy = backend->column("copy").value();
  for (int i = 0; i < 200; ++i) ASSERT_OK(column->put("k" + std::to_string(i), std::to_string(i)));
  // The visitor runs with no lock held, so writing from it must not deadlock.
  ASSERT_OK(column->scan("", [&copy](BytesView key, BytesView value) { return copy->put(key, value).is_ok(); }));
  size_t copied = 0;
  ASSERT_OK(copy->scan("", [&copied](BytesView, BytesView) { return ++copied > 0; }));
  EXPECT_EQ(copied, 200u);
  size_t seen = 0;
  ASSERT_OK(column->scan("k1", [&seen](BytesView key, BytesView) {
    EXPECT_EQ(key.substr(0, 2), "k1");
    return ++seen < 5;
  }));
  EXPECT_EQ(seen, 5u);
}

}  // namespace
}  // namespace streamstate
