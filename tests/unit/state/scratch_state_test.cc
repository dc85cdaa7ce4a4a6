// ScratchState on memory, RocksDB and Redis: typed get/put, wrong types, put_with_ttl with a
// ManualClock, remove, clear, and batches that apply all operations through one WriteBatch or
// nothing.
#include "streamstate/scratch_state.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/expiring_value.h"
#include "unit/state/state_test_backends.h"

namespace streamstate {
namespace {

using std::chrono::milliseconds;
using testing::kStartMillis;
using testing::StateBackendTest;

// Forwards everything to a backend but fails write(): shows that a batch goes through exactly
// one StateBackend::write and nothing else.
class FailingWriteBackend final : public StateBackend {
 public:
  explicit FailingWriteBackend(std::shared_ptr<StateBackend> inner) : inner_(std::move(inner)) {}
  std::string_view kind() const override { return inner_->kind(); }
  BackendCapabilities capabilities() const override { return inner_->capabilities(); }
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override { return inner_->column(name); }
  Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name,
                                                           const ColumnOptions& options) override {
    return inner_->column_with_options(name, options);
  }
  Result<std::vector<std::string>> list_columns() override { return inner_->list_columns(); }
  Status drop_column(std::string_view name) override { return inner_->drop_column(name); }
  Status write(const WriteBatch& batch) override {
    ++writes;
    last_batch_size = batch.size();
    return Status::io_error("injected write failure");
  }
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override { return inner_->snapshot(); }
  BackendStatistics statistics() const override { return inner_->statistics(); }
  Status flush() override { return inner_->flush(); }
  Status close() override { return Status::ok(); }

  int writes = 0;
  size_t last_batch_size = 0;

 private:
  std::shared_ptr<StateBackend> inner_;
};

class ScratchStateTest : public StateBackendTest {
 protected:
  ScratchState open_scratch(const std::string& column = "scratch") {
    Result<ScratchState> opened = ScratchState::open(backend_, column, clock_);
    EXPECT_OK(opened);
    return std::move(opened).value();
  }
};

TEST_P(ScratchStateTest, PutAndGetTyped) {
  ScratchState scratch = open_scratch();
  EXPECT_EQ(scratch.column_name(), "scratch");
  EXPECT_EQ(scratch.get_typed<int64_t>("user_count").value(), std::nullopt);
  ASSERT_OK(scratch.put_typed<int64_t>("user_count", 42));
  ASSERT_OK(scratch.put_typed("greeting", std::string("hello")));
  ASSERT_OK(scratch.put_typed("ids", std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(scratch.get_typed<int64_t>("user_count").value(), std::optional<int64_t>(42));
  EXPECT_EQ(scratch.get_typed<std::string>("greeting").value(), std::optional<std::string>("hello"));
  EXPECT_EQ(scratch.get_typed<std::vector<int32_t>>("ids").value(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_TRUE(scratch.contains("greeting").value());
  EXPECT_FALSE(scratch.contains("nothing").value());
  ASSERT_OK(scratch.put_typed<int64_t>("user_count", 43));
  EXPECT_EQ(scratch.get_typed<int64_t>("user_count").value(), std::optional<int64_t>(43));
}

TEST_P(ScratchStateTest, StoredLayout) {
  ScratchState scratch = open_scratch();
  ASSERT_OK(scratch.put_typed<int64_t>("n", 5));
  auto stored = backend_->column("scratch").value()->get("n").value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(internal::read_expiry(*stored), std::optional<int64_t>(internal::kNeverExpiresMillis));
  std::string body;
  put_length_prefixed(body, "i64");
  body += encode_value(int64_t{5});
  EXPECT_EQ(internal::expiring_payload(*stored), body);
}

TEST_P(ScratchStateTest, WrongTypeNamesTheEntryAndBothTypes) {
  ScratchState scratch = open_scratch();
  ASSERT_OK(scratch.put_typed("user_count", std::string("many")));
  EXPECT_STATUS(scratch.get_typed<int64_t>("user_count"), StatusCode::kFailedPrecondition,
                "scratch entry 'user_count' in column 'scratch' holds a value of type 'string', not 'i64'");
  // Same size, other type: refused too, not misread.
  ASSERT_OK(scratch.put_typed<uint64_t>("u", 7));
  EXPECT_STATUS(scratch.get_typed<int64_t>("u"), StatusCode::kFailedPrecondition, "type 'u64', not 'i64'");
}

TEST_P(ScratchStateTest, CorruptBytes) {
  ScratchState scratch = open_scratch();
  auto column = backend_->column("scratch").value();
  ASSERT_OK(column->put("short", "abc"));
  EXPECT_STATUS(scratch.get_typed<int64_t>("short"), StatusCode::kCorruption,
                "scratch entry 'short' in column 'scratch': stored value of 3 bytes is too short");
  std::string bad;
  internal::append_expiring_value(bad, internal::kNeverExpiresMillis, "");
  put_length_prefixed(bad, "i64");
  bad += "xy";  // 2 bytes where an i64 needs 8
  ASSERT_OK(column->put("truncated", bad));
  EXPECT_STATUS(scratch.get_typed<int64_t>("truncated"), StatusCode::kCorruption,
                "scratch entry 'truncated' in column 'scratch': stored bytes cannot be decoded");
}

TEST_P(ScratchStateTest, PutWithTtlExpires) {
  ScratchState scratch = open_scratch();
  ASSERT_OK(scratch.put_with_ttl("token", std::string("abc"), milliseconds(500)));
  ASSERT_OK(scratch.put_typed<int64_t>("forever", 1));
  clock_->advance_millis(499);
  EXPECT_EQ(scratch.get_typed<std::string>("token").value(), std::optional<std::string>("abc"));
  EXPECT_TRUE(scratch.contains("token").value());
  clock_->advance_millis(1);
  EXPECT_EQ(scratch.get_typed<std::string>("token").value(), std::nullopt);
  EXPECT_FALSE(scratch.contains("token").value());
  EXPECT_EQ(raw_entry_count("scratch"), 1u);  // the read removed it
  clock_->advance_millis(1'000'000'000);
  EXPECT_EQ(scratch.get_typed<int64_t>("forever").value(), std::optional<int64_t>(1));
}

TEST_P(ScratchStateTest, PutTypedClearsAnEarlierTtl) {
  ScratchState scratch = open_scratch();
  ASSERT_OK(scratch.put_with_ttl<int64_t>("k", 1, milliseconds(100)));
  ASSERT_OK(scratch.put_typed<int64_t>("k", 2));
  clock_->advance_millis(200);
  EXPECT_EQ(scratch.get_typed<int64_t>("k").value(), std::optional<int64_t>(2));
  ASSERT_OK(scratch.put_with_ttl<int64_t>("k", 3, milliseconds(100)));  // and put_with_ttl sets one
  clock_->advance_millis(100);
  EXPECT_EQ(scratch.get_typed<int64_t>("k").value(), std::nullopt);
}

TEST_P(ScratchStateTest, BadNamesAndTtls) {
  ScratchState scratch = open_scratch();
  EXPECT_STATUS(scratch.put_typed<int64_t>("", 1), StatusCode::kInvalidArgument,
                "scratch entry name is empty");
  EXPECT_STATUS(scratch.get_typed<int64_t>(""), StatusCode::kInvalidArgument, "name is empty");
  EXPECT_STATUS(scratch.put_with_ttl<int64_t>("k", 1, milliseconds(0)), StatusCode::kInvalidArgument,
                "put_with_ttl of scratch entry 'k': ttl is 0 ms; use a positive ttl");
  EXPECT_STATUS(scratch.put_with_ttl<int64_t>("k", 1, milliseconds(-5)), StatusCode::kInvalidArgument,
                "-5 ms");
  EXPECT_FALSE(scratch.contains("k").value());
  EXPECT_STATUS(ScratchState::open(backend_, "_ss.scratch"), StatusCode::kInvalidArgument, "reserved");
  EXPECT_STATUS(ScratchState::open(backend_, "bad/name"), StatusCode::kInvalidArgument, "bad/name");
}

TEST_P(ScratchStateTest, RemoveAndClear) {
  ScratchState scratch = open_scratch();
  ScratchState other = open_scratch("other_scratch");
  for (int i = 0; i < 5; ++i) ASSERT_OK(scratch.put_typed<int64_t>("k" + std::to_string(i), i));
  ASSERT_OK(other.put_typed<int64_t>("k0", 100));
  ASSERT_OK(scratch.remove("k0"));
  EXPECT_OK(scratch.remove("k0"));
  EXPECT_EQ(scratch.get_typed<int64_t>("k0").value(), std::nullopt);
  EXPECT_EQ(raw_entry_count("scratch"), 4u);
  ASSERT_OK(scratch.clear());
  EXPECT_EQ(raw_entry_count("scratch"), 0u);
  EXPECT_EQ(scratch.get_typed<int64_t>("k1").value(), std::nullopt);
  EXPECT_EQ(other.get_typed<int64_t>("k0").value(), std::optional<int64_t>(100));  // another column
}

TEST_P(ScratchStateTest, BatchCommitsEverythingInOneWrite) {
  ScratchState scratch = open_scratch();
  ASSERT_OK(scratch.put_typed<int64_t>("gone", 1));
  const uint64_t batches_before = backend_->statistics().batches;
  ScratchState::Batch batch = scratch.batch();
  batch.put_typed<int64_t>("a", 1).put_typed("b", std::string("two")).remove("gone");
  batch.put_with_ttl<int64_t>("c", 3, milliseconds(100));
  EXPECT_EQ(batch.size(), 4u);
  clock_->advance_millis(50);  // TTLs count from the commit
  ASSERT_OK(batch.commit());
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(backend_->statistics().batches, batches_before + 1);
  EXPECT_EQ(scratch.get_typed<int64_t>("a").value(), std::optional<int64_t>(1));
  EXPECT_EQ(scratch.get_typed<std::string>("b").value(), std::optional<std::string>("two"));
  EXPECT_EQ(scratch.get_typed<int64_t>("gone").value(), std::nullopt);
  clock_->advance_millis(99);
  EXPECT_EQ(scratch.get_typed<int64_t>("c").value(), std::optional<int64_t>(3));
  clock_->advance_millis(1);
  EXPECT_EQ(scratch.get_typed<int64_t>("c").value(), std::nullopt);
  EXPECT_OK(scratch.batch().commit());  // empty
}

TEST_P(ScratchStateTest, ABatchWithABadOperationAppliesNothing) {
  ScratchState scratch = open_scratch();
  ASSERT_OK(scratch.put_typed<int64_t>("kept", 1));
  ScratchState::Batch batch = scratch.batch();
  batch.put_typed<int64_t>("a", 1)
      .remove("kept")
      .put_with_ttl<int64_t>("b", 2, milliseconds(0))
      .put_typed<int64_t>("c", 3);
  EXPECT_STATUS(batch.commit(), StatusCode::kInvalidArgument,
                "batch not applied (nothing was written): put_with_ttl of scratch entry 'b': ttl is 0 ms");
  EXPECT_EQ(scratch.get_typed<int64_t>("a").value(), std::nullopt);
  EXPECT_EQ(scratch.get_typed<int64_t>("c").value(), std::nullopt);
  EXPECT_EQ(scratch.get_typed<int64_t>("kept").value(), std::optional<int64_t>(1));
  EXPECT_EQ(raw_entry_count("scratch"), 1u);
  // The failed batch was emptied and may be reused.
  batch.put_typed<int64_t>("a", 5);
  ASSERT_OK(batch.commit());
  EXPECT_EQ(scratch.get_typed<int64_t>("a").value(), std::optional<int64_t>(5));
}

TEST_P(ScratchStateTest, ABatchTheBackendRejectsAppliesNothing) {
  auto failing = std::make_shared<FailingWriteBackend>(backend_);
  Result<ScratchState> opened = ScratchState::open(failing, "scratch", clock_);
  ASSERT_OK(opened);
  ScratchState scratch = opened.value();
  ASSERT_OK(scratch.put_typed<int64_t>("kept", 1));  // single puts do not use write()
  ScratchState::Batch batch = scratch.batch();
  batch.put_typed<int64_t>("a", 1).put_typed<int64_t>("b", 2).remove("kept");
  EXPECT_STATUS(batch.commit(), StatusCode::kIoError,
                "ScratchState 'scratch': batch of 3 operations: injected write failure");
  EXPECT_EQ(failing->writes, 1);
  EXPECT_EQ(failing->last_batch_size, 3u);
  EXPECT_EQ(scratch.get_typed<int64_t>("a").value(), std::nullopt);
  EXPECT_EQ(scratch.get_typed<int64_t>("b").value(), std::nullopt);
  EXPECT_EQ(scratch.get_typed<int64_t>("kept").value(), std::optional<int64_t>(1));
}

TEST_P(ScratchStateTest, ConcurrentWritersAndReaders) {
  ScratchState scratch = open_scratch();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([scratch, t] {
      for (int i = 0; i < 100; ++i) {
        const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_OK(scratch.put_typed<int64_t>(name, i));
        EXPECT_EQ(scratch.get_typed<int64_t>(name).value(), std::optional<int64_t>(i));
        if (i % 10 == 0) {
          ScratchState::Batch batch = scratch.batch();
          batch.put_typed<int64_t>(name + "-batch", i).remove(name);
          EXPECT_OK(batch.commit());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(raw_entry_count("scratch"), 400u);
  EXPECT_EQ(scratch.get_typed<int64_t>("t2-30-batch").value(), std::optional<int64_t>(30));
  EXPECT_EQ(scratch.get_typed<int64_t>("t2-30").value(), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(backends, ScratchStateTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate
