// CheckpointCoordinator: triggered and periodic checkpoints with increasing ids (continuing
// after a restart), retention of the last N, min_pause between checkpoints, aborted checkpoints
// (a failed write, a timeout - whose late completion is removed so no restore can pick it),
// listeners, statistics, shutdown with a final checkpoint, and a KeyedStateStore's range.
#include "streamstate/checkpoint_coordinator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "checkpoint_test_util.h"
#include "storage/fault_injecting_storage.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/value_state.h"

namespace streamstate {
namespace {

using testing::fill;
using testing::open_memory;
using testing::read_all;

std::vector<CheckpointId> valid_ids(CheckpointStorage& storage) {
  std::vector<CheckpointId> ids;
  auto listing = list_checkpoints(storage);
  EXPECT_OK(listing);
  if (!listing.is_ok()) return ids;
  for (const CheckpointManifest& manifest : listing->valid) ids.push_back(manifest.id);
  return ids;
}

// Waits (up to 20 s) until `done()` holds; false if it never did.
template <typename Predicate>
bool eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A storage whose writers block in append() while the gate is closed.
class GatedStorage final : public CheckpointStorage {
 public:
  explicit GatedStorage(std::unique_ptr<CheckpointStorage> inner) : inner_(std::move(inner)) {}

  void close_gate() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = false;
  }
  void open_gate() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }

  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override {
    auto writer = inner_->create(name);
    if (!writer.is_ok()) return writer.status();
    return std::unique_ptr<StorageWriter>(std::make_unique<Writer>(*this, std::move(writer).value()));
  }
  Result<std::string> read(std::string_view name) override { return inner_->read(name); }
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override {
    return inner_->read_range(name, offset, length);
  }
  Result<std::vector<StoredObject>> list(std::string_view prefix) override { return inner_->list(prefix); }
  Result<bool> exists(std::string_view name) override { return inner_->exists(name); }
  Status remove(std::string_view name) override { return inner_->remove(name); }
  Status remove_incomplete() override { return inner_->remove_incomplete(); }
  std::string describe() const override { return "gated " + inner_->describe(); }

 private:
  class Writer final : public StorageWriter {
   public:
    Writer(GatedStorage& owner, std::unique_ptr<StorageWriter> inner) : owner_(owner), inner_(std::move(inner)) {}
    Status append(BytesView data) override {
      {
        std::unique_lock<std::mutex> lock(owner_.mutex_);
        owner_.opened_.wait(lock, [&] { return owner_.open_; });
      }
      return inner_->append(data);
    }
    Status sync() override { return inner_->sync(); }
    Status commit() override { return inner_->commit(); }
    const std::string& name() const override { return inner_->name(); }
    uint64_t size() const override { return inner_->size(); }

   private:
    GatedStorage& owner_;
    std::unique_ptr<StorageWriter> inner_;
  };

  std::unique_ptr<CheckpointStorage> inner_;
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = true;
};

TEST(CheckpointCoordinatorTest, TriggeredCheckpointsGetIncreasingIdsThatContinueAfterARestart) {
  auto backend = open_memory();
  const auto expected = fill(*backend, 300);
  auto storage = open_memory_storage();
  CheckpointCoordinatorOptions options;
  options.checkpoint.clock = std::make_shared<ManualClock>(testing::kNow);  // fill()'s expiry times
  {
    auto coordinator = CheckpointCoordinator::start(*backend, *storage, options);
    ASSERT_OK(coordinator);
    auto first = (*coordinator)->trigger_and_wait();
    ASSERT_OK(first);
    EXPECT_EQ(first->manifest.id, 1u);
    auto second = (*coordinator)->trigger();
    ASSERT_OK(second);
    EXPECT_EQ(*second, 2u);
    auto last = (*coordinator)->shutdown();  // the final checkpoint
    ASSERT_OK(last);
    EXPECT_EQ(last->manifest.id, 3u);
    const auto statistics = (*coordinator)->statistics();
    EXPECT_EQ(statistics.started, 3u);
    EXPECT_EQ(statistics.completed, 3u);
    EXPECT_EQ(statistics.full, 3u);
    EXPECT_EQ(statistics.last_completed_id, 3u);
    EXPECT_GT(statistics.total_bytes, 0u);
    EXPECT_EQ(statistics.last_bytes, last->bytes_written);
    EXPECT_EQ((*coordinator)->trigger().status().code(), StatusCode::kClosed);
    EXPECT_EQ((*coordinator)->shutdown().status().code(), StatusCode::kClosed);
  }
  EXPECT_EQ(valid_ids(*storage), (std::vector<CheckpointId>{1, 2, 3}));

  // A new coordinator on the same storage goes on from the largest id.
  options.checkpoint_on_shutdown = false;
  auto again = CheckpointCoordinator::start(*backend, *storage, options);
  ASSERT_OK(again);
  auto next = (*again)->trigger_and_wait();
  ASSERT_OK(next);
  EXPECT_EQ(next->manifest.id, 4u);
  EXPECT_EQ((*again)->shutdown().status().code(), StatusCode::kNotFound);  // no final one asked for

  auto restored = open_memory();
  ASSERT_OK(restore_latest_checkpoint(*storage, *restored, {}));
  EXPECT_EQ(read_all(*restored), expected);
}

TEST(CheckpointCoordinatorTest, KeepsTheLastNCompletedCheckpoints) {
  auto backend = open_memory();
  fill(*backend, 100);
  auto storage = open_memory_storage();
  CheckpointCoordinatorOptions options;
  options.retain_last = 2;
  options.checkpoint_on_shutdown = false;
  auto coordinator = CheckpointCoordinator::start(*backend, *storage, options).value();
  for (int i = 0; i < 5; ++i) ASSERT_OK(coordinator->trigger_and_wait());
  EXPECT_EQ(valid_ids(*storage), (std::vector<CheckpointId>{4, 5}));
  auto objects = storage->list("chk-0000000001");
  ASSERT_OK(objects);
  EXPECT_TRUE(objects->empty()) << "the files of a retired checkpoint are deleted";
}

// Incremental checkpoints through the coordinator: chains of full_every, counted as full or
// incremental, retention keeping the files the retained delta's chain needs.
TEST(CheckpointCoordinatorTest, IncrementalCheckpointsFormChainsThatRetentionKeeps) {
  MemoryBackendOptions memory;
  memory.track_changes = true;
  auto backend = MemoryBackend::open(memory).value();
  fill(*backend, 300);
  auto storage = open_memory_storage();
  CheckpointCoordinatorOptions options;
  options.retain_last = 1;
  options.checkpoint_on_shutdown = false;
  options.checkpoint.clock = std::make_shared<ManualClock>(testing::kNow);
  options.checkpoint.incremental = {.enabled = true, .full_every = 3, .max_delta_share = 100.0};
  auto coordinator = CheckpointCoordinator::start(*backend, *storage, options).value();
  auto column = backend->column("counts").value();
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(column->put(make_state_key(static_cast<uint32_t>(i), "round"), std::to_string(i)));
    auto info = coordinator->trigger_and_wait();
    ASSERT_OK(info);
    EXPECT_EQ(info->manifest.kind, i % 3 == 0 ? CheckpointKind::kFull : CheckpointKind::kIncremental) << i;
  }
  EXPECT_EQ(coordinator->statistics().full, 2u);
  EXPECT_EQ(coordinator->statistics().incremental, 3u);
  EXPECT_EQ(valid_ids(*storage), (std::vector<CheckpointId>{5}));
  auto target = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 5, *target, {}));
  auto restored = read_all(*target);
  auto expected = read_all(*backend);
  EXPECT_EQ(restored["counts"], expected["counts"]);
  EXPECT_TRUE(storage->list("chk-0000000001")->empty()) << "the retired chain's files are deleted";
  EXPECT_FALSE(storage->list("chk-0000000004")->empty()) << "the retained delta's chain is kept";
}

TEST(CheckpointCoordinatorTest, PeriodicCheckpointsKeepTheMinimumPause) {
  auto backend = open_memory();
  fill(*backend, 50);
  auto storage = open_memory_storage();
  std::mutex mutex;
  std::vector<std::chrono::steady_clock::time_point> completions;
  CheckpointCoordinatorOptions options;
  options.interval = std::chrono::milliseconds(1);
  options.min_pause = std::chrono::milliseconds(60);
  options.retain_last = 10;
  options.checkpoint_on_shutdown = false;
  options.on_completed = [&](const CheckpointInfo&) {
    std::lock_guard<std::mutex> lock(mutex);
    completions.push_back(std::chrono::steady_clock::now());
  };
  auto coordinator = CheckpointCoordinator::start(*backend, *storage, options).value();
  ASSERT_TRUE(eventually([&] { return coordinator->statistics().completed >= 4; }));
  (void)coordinator->shutdown();
  std::lock_guard<std::mutex> lock(mutex);
  for (size_t i = 1; i < completions.size(); ++i) {
    // Each checkpoint started at least min_pause after the previous one ended.
    EXPECT_GE(completions[i] - completions[i - 1], std::chrono::milliseconds(60)) << i;
  }
}

TEST(CheckpointCoordinatorTest, AFailedCheckpointIsAbortedAndItsIdIsNotReused) {
  auto backend = open_memory();
  fill(*backend, 100);
  auto storage = std::make_shared<storage::FaultInjectingStorage>(open_memory_storage());
  std::vector<std::pair<CheckpointId, StatusCode>> aborted;
  CheckpointCoordinatorOptions options;
  options.checkpoint_on_shutdown = false;
  options.on_aborted = [&](CheckpointId id, const Status& reason) { aborted.emplace_back(id, reason.code()); };
  auto coordinator = CheckpointCoordinator::start(*backend, *storage, options).value();
  storage->fail_nth(storage::StorageOperation::kCommit, 1);
  auto failed = coordinator->trigger_and_wait();
  EXPECT_EQ(failed.status().code(), StatusCode::kIoError);
  auto next = coordinator->trigger_and_wait();
  ASSERT_OK(next);
  EXPECT_EQ(next->manifest.id, 2u);
  ASSERT_EQ(aborted.size(), 1u);
  EXPECT_EQ(aborted[0], std::make_pair(CheckpointId{1}, StatusCode::kIoError));
  const auto statistics = coordinator->statistics();
  EXPECT_EQ(statistics.aborted, 1u);
  EXPECT_EQ(statistics.completed, 1u);
  EXPECT_EQ(valid_ids(*storage), (std::vector<CheckpointId>{2}));
}

TEST(CheckpointCoordinatorTest, ATimedOutCheckpointNeverBecomesRestorable) {
  auto backend = open_memory();
  fill(*backend, 300);
  auto storage = std::make_unique<GatedStorage>(open_memory_storage());
  GatedStorage& gated = *storage;
  std::atomic<int> timeouts{0};
  CheckpointCoordinatorOptions options;
  options.timeout = std::chrono::milliseconds(50);
  options.checkpoint_on_shutdown = false;
  options.on_aborted = [&](CheckpointId, const Status& reason) {
    if (reason.code() == StatusCode::kTimeout) ++timeouts;
  };
  auto coordinator = CheckpointCoordinator::start(*backend, gated, options).value();
  gated.close_gate();
  std::thread release([&] {
    // Opened once the coordinator gave up on the checkpoint.
    (void)eventually([&] { return timeouts.load() == 1; });
    gated.open_gate();
  });
  auto result = coordinator->trigger_and_wait();
  EXPECT_EQ(result.status().code(), StatusCode::kTimeout);
  release.join();
  (void)coordinator->shutdown();  // waits for the late upload and its removal
  EXPECT_EQ(coordinator->statistics().timed_out, 1u);
  EXPECT_TRUE(valid_ids(gated).empty()) << "the late checkpoint was removed";
  EXPECT_EQ(latest_checkpoint(gated).status().code(), StatusCode::kNotFound);
}

TEST(CheckpointCoordinatorTest, ListenerExceptionsAreCountedAndTheCoordinatorGoesOn) {
  auto backend = open_memory();
  fill(*backend, 20);
  auto storage = open_memory_storage();
  CheckpointCoordinatorOptions options;
  options.checkpoint_on_shutdown = false;
  options.on_completed = [](const CheckpointInfo&) { throw std::runtime_error("listener bug"); };
  auto coordinator = CheckpointCoordinator::start(*backend, *storage, options).value();
  ASSERT_OK(coordinator->trigger_and_wait());
  ASSERT_OK(coordinator->trigger_and_wait());
  EXPECT_EQ(coordinator->statistics().listener_failures, 2u);
  EXPECT_EQ(coordinator->statistics().completed, 2u);
}

TEST(CheckpointCoordinatorTest, AStoreIsCheckpointedWithItsKeyGroupRange) {
  auto backend = std::shared_ptr<StateBackend>(open_memory());
  KeyedStateStoreOptions store_options;
  store_options.max_parallelism = 128;
  store_options.key_groups = KeyGroupRange::for_operator(128, 2, 1);
  auto store = KeyedStateStore::open(backend, store_options).value();
  auto count = store->value_state(ValueStateDescriptor<int64_t>{.name = "count"}).value();
  int written = 0;
  for (int i = 0; written < 50; ++i) {
    const std::string key = "user-" + std::to_string(i);
    if (!store->key_groups().contains(key_group_for_key(key, 128))) continue;
    ASSERT_OK(store->set_current_key(key));
    ASSERT_OK(count.update(i));
    ++written;
  }
  auto storage = open_memory_storage();
  auto coordinator = CheckpointCoordinator::start(*store, *storage, {}).value();
  auto info = coordinator->trigger_and_wait();
  ASSERT_OK(info);
  EXPECT_EQ(info->manifest.key_groups, store->key_groups());
  EXPECT_EQ(info->manifest.max_parallelism, 128u);
}

TEST(CheckpointCoordinatorTest, BadOptionsNameTheOption) {
  auto backend = open_memory();
  auto storage = open_memory_storage();
  CheckpointCoordinatorOptions options;
  options.retain_last = 0;
  auto coordinator = CheckpointCoordinator::start(*backend, *storage, options);
  EXPECT_EQ(coordinator.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(coordinator.status().message().find("retain_last"), std::string::npos);
  options = {};
  options.timeout = std::chrono::milliseconds(0);
  EXPECT_NE(CheckpointCoordinator::start(*backend, *storage, options).status().message().find("timeout"),
            std::string::npos);
  // The checkpoints' own options are checked at start, not at the first checkpoint.
  options = {};
  options.checkpoint.incremental = {.enabled = true, .full_every = 0};
  auto refused = CheckpointCoordinator::start(*backend, *storage, options);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("full_every"), std::string::npos) << refused.status().message();
  options = {};
  options.checkpoint.block_bytes = 0;
  EXPECT_NE(CheckpointCoordinator::start(*backend, *storage, options).status().message().find("block_bytes"),
            std::string::npos);
}

}  // namespace
}  // namespace streamstate
