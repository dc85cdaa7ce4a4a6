// A flush the inner backend refuses loses nothing: the error names what was being flushed, the
// entries stay cached and readable, and the next flush writes them.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/memory.h"
#include "streamstate/write_back_cache.h"
#include "streamstate/write_batch.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

// The memory backend, with write batches refused while `refuse_writes` is set.
class RefusingBackend final : public StateBackend {
 public:
  RefusingBackend() : inner_(MemoryBackend::open({}).value()) {}
  bool refuse_writes = false;
  int flushes = 0;

  std::string_view kind() const override { return "refusing"; }
  BackendCapabilities capabilities() const override { return inner_->capabilities(); }
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override { return inner_->column(name); }
  Result<std::vector<std::string>> list_columns() override { return inner_->list_columns(); }
  Status drop_column(std::string_view name) override { return inner_->drop_column(name); }
  Status write(const WriteBatch& batch) override {
    if (refuse_writes) return Status::io_error("disk full (injected)");
    return inner_->write(batch);
  }
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override { return inner_->snapshot(); }
  BackendStatistics statistics() const override { return inner_->statistics(); }
  Status flush() override {
    ++flushes;
    return inner_->flush();
  }
  Status close() override { return inner_->close(); }

 private:
  std::unique_ptr<StateBackend> inner_;
};

TEST(WriteBackCacheFlushFailure, RefusedFlushKeepsEveryEntryForTheNextOne) {
  auto inner = std::make_shared<RefusingBackend>();
  std::shared_ptr<WriteBackCache> cache = open_write_back_cache(inner, {.max_bytes = 4096}).value();
  auto column = cache->column("c").value();
  ASSERT_OK(column->put("a", "1"));
  ASSERT_OK(column->put("b", "2"));
  ASSERT_OK(column->remove("b"));

  inner->refuse_writes = true;
  EXPECT_STATUS(cache->flush(), StatusCode::kIoError, "flushing 2 dirty entries");
  EXPECT_STATUS(cache->snapshot(), StatusCode::kIoError, "disk full");
  // The bound is reached: the write is cached, and the failed automatic flush is reported.
  EXPECT_STATUS(column->put("big", std::string(5000, 'x')), StatusCode::kIoError, "they stay cached");
  EXPECT_STATUS(cache->close(), StatusCode::kIoError, "still open");
  EXPECT_EQ(column->get("a").value(), "1");
  EXPECT_EQ(column->get("big").value(), std::string(5000, 'x'));
  EXPECT_EQ(cache->cache_statistics().dirty_entries, 3u);
  EXPECT_EQ(cache->cache_statistics().flushes, 0u);

  inner->refuse_writes = false;
  ASSERT_OK(cache->flush());
  auto below = inner->column("c").value();
  EXPECT_EQ(below->get("a").value(), "1");
  EXPECT_EQ(below->get("b").value(), std::nullopt);
  EXPECT_EQ(below->get("big").value(), std::string(5000, 'x'));
  ASSERT_OK(cache->close());
}

TEST(WriteBackCacheFlushFailure, WriteBackHandsEntriesOverWithoutFlushingTheInnerBackend) {
  auto inner = std::make_shared<RefusingBackend>();
  std::shared_ptr<WriteBackCache> cache = open_write_back_cache(inner).value();
  ASSERT_OK(cache->column("c").value()->put("k", "v"));
  ASSERT_OK(cache->write_back());
  EXPECT_EQ(inner->column("c").value()->get("k").value(), "v");
  EXPECT_EQ(inner->flushes, 0) << "write_back() flushed the inner backend";
  ASSERT_OK(cache->flush());
  EXPECT_EQ(inner->flushes, 1) << "flush() must flush the inner backend too";
}

}  // namespace
}  // namespace streamstate
