// Change tracking of the memory backend (MemoryBackendOptions::track_changes, the
// ChangeTracker of streamstate/change_tracking.h): every kind of change is tracked, a delta
// built from the changes applied to the base reproduces the snapshot exactly (also with writers
// running on other threads), an unconfirmed checkpoint loses nothing, and confirm/reset behave
// as documented.
#include <gtest/gtest.h>

#include <algorithm>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/change_tracking.h"
#include "streamstate/clock.h"
#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using Contents = std::map<std::string, std::string>;         // key -> value
using State = std::map<std::string, Contents>;                 // column -> contents

Contents read_column(BackendSnapshot& snapshot, std::string_view column) {
  Contents contents;
  auto it = snapshot.iterate(column);
  if (!it.is_ok()) return contents;  // a column absent from the snapshot is empty
  for (; it.value()->valid(); it.value()->next()) contents.emplace(it.value()->key(), it.value()->value());
  EXPECT_OK(it.value()->status());
  return contents;
}

State read_state(BackendSnapshot& snapshot) {
  State state;
  for (const std::string& column : snapshot.columns()) {
    Contents contents = read_column(snapshot, column);
    if (!contents.empty()) state[column] = std::move(contents);
  }
  return state;
}

// What an incremental checkpoint does: for each changed key, the snapshot's value or a
// tombstone, applied on top of the base.
void apply_delta(State& base, const TrackedSnapshot& tracked) {
  for (const ChangedColumn& column : tracked.changes) {
    const Contents now = read_column(*tracked.snapshot, column.name);
    Contents& target = base[column.name];
    for (const std::string& key : column.keys) {
      auto it = now.find(key);
      if (it != now.end()) {
        target[key] = it->second;
      } else {
        target.erase(key);
      }
    }
    if (target.empty()) base.erase(column.name);
  }
}

std::vector<std::string> keys_of(const TrackedSnapshot& tracked, std::string_view column) {
  for (const ChangedColumn& changed : tracked.changes) {
    if (changed.name != column) continue;
    std::vector<std::string> keys = changed.keys;  // handed out in no particular order
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  return {};
}

std::unique_ptr<MemoryBackend> tracking_backend(MemoryBackendOptions options = {}) {
  options.track_changes = true;
  auto backend = MemoryBackend::open(options);
  EXPECT_OK(backend);
  return std::move(backend).value();
}

TEST(MemoryChangeTrackingTest, OffByDefault) {
  auto backend = MemoryBackend::open(MemoryBackendOptions{}).value();
  EXPECT_EQ(backend->change_tracker(), nullptr);
}

TEST(MemoryChangeTrackingTest, FirstSnapshotHasNoBaseThenDeltasAreRelativeToTheConfirmedOne) {
  auto backend = tracking_backend();
  ChangeTracker* tracker = backend->change_tracker();
  ASSERT_NE(tracker, nullptr);
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("a", "1"));
  ASSERT_OK(column->put("b", "2"));

  auto first = tracker->snapshot_with_changes();
  ASSERT_OK(first);
  EXPECT_FALSE(first->base_epoch.has_value());
  // No base: the checkpoint is full, so the keys are not handed out (they are tracked).
  EXPECT_TRUE(first->changes.empty());
  EXPECT_EQ(first->changed_keys, 0u);
  EXPECT_EQ(tracker->tracked_keys(), 2u);
  ASSERT_OK(tracker->confirm_changes(first->epoch));
  EXPECT_EQ(tracker->tracked_keys(), 0u);

  ASSERT_OK(column->put("c", "3"));
  ASSERT_OK(column->remove("a"));
  ASSERT_OK(column->update("b", [](std::optional<BytesView>) { return std::optional<std::string>("20"); }));
  auto second = tracker->snapshot_with_changes();
  ASSERT_OK(second);
  ASSERT_TRUE(second->base_epoch.has_value());
  EXPECT_EQ(*second->base_epoch, first->epoch);
  EXPECT_GT(second->epoch, first->epoch);
  EXPECT_EQ(keys_of(*second, "c"), (std::vector<std::string>{"a", "b", "c"}));

  State state = read_state(*first->snapshot);
  apply_delta(state, *second);
  EXPECT_EQ(state, read_state(*second->snapshot));
  EXPECT_EQ(state["c"], (Contents{{"b", "20"}, {"c", "3"}}));
}

TEST(MemoryChangeTrackingTest, AnUnconfirmedCheckpointLosesNoKey) {
  auto backend = tracking_backend();
  ChangeTracker* tracker = backend->change_tracker();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("base", "0"));
  auto base = tracker->snapshot_with_changes().value();
  ASSERT_OK(tracker->confirm_changes(base.epoch));

  ASSERT_OK(column->put("x", "1"));
  auto failed = tracker->snapshot_with_changes().value();  // its checkpoint never completes
  ASSERT_OK(column->put("y", "2"));
  auto next = tracker->snapshot_with_changes().value();
  EXPECT_EQ(*next.base_epoch, base.epoch);
  EXPECT_EQ(keys_of(next, "c"), (std::vector<std::string>{"x", "y"}));
  (void)failed;
}

TEST(MemoryChangeTrackingTest, ChangesAfterTheSnapshotSurviveItsConfirmation) {
  auto backend = tracking_backend();
  ChangeTracker* tracker = backend->change_tracker();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("before", "1"));
  auto tracked = tracker->snapshot_with_changes().value();
  ASSERT_OK(column->put("after", "2"));  // not in the snapshot
  ASSERT_OK(tracker->confirm_changes(tracked.epoch));
  EXPECT_EQ(tracker->tracked_keys(), 1u);
  auto next = tracker->snapshot_with_changes().value();
  EXPECT_EQ(keys_of(next, "c"), (std::vector<std::string>{"after"}));
}

// One shard: the keys changed after the snapshot share a shard (and its arena of key bytes)
// with the many forgotten at confirmation; they keep their bytes and are handed out again.
TEST(MemoryChangeTrackingTest, SurvivorsKeepTheirBytesWhenTheirShardForgetsTheRest) {
  MemoryBackendOptions options;
  options.shard_count = 1;
  auto backend = tracking_backend(options);
  ChangeTracker* tracker = backend->change_tracker();
  auto column = backend->column("c").value();
  auto long_key = [](int i) { return "a-key-long-enough-for-the-heap-" + std::to_string(i); };
  for (int i = 0; i < 1000; ++i) ASSERT_OK(column->put(long_key(i), "v"));
  auto tracked = tracker->snapshot_with_changes().value();
  std::vector<std::string> later;
  for (int i = 0; i < 1000; i += 100) {
    ASSERT_OK(column->put(long_key(i), "changed"));
    later.push_back(long_key(i));
  }
  ASSERT_OK(column->put("new-after-the-snapshot", "v"));
  later.push_back("new-after-the-snapshot");
  std::sort(later.begin(), later.end());
  ASSERT_OK(tracker->confirm_changes(tracked.epoch));
  EXPECT_EQ(tracker->tracked_keys(), later.size());
  ASSERT_OK(column->put(long_key(0), "again"));  // tracked already: no second copy
  auto next = tracker->snapshot_with_changes().value();
  EXPECT_EQ(keys_of(next, "c"), later);
  ASSERT_OK(tracker->confirm_changes(next.epoch));
  EXPECT_EQ(tracker->tracked_keys(), 0u);
}

TEST(MemoryChangeTrackingTest, BatchesClearsDropsEvictionsAndExpiryAreTracked) {
  auto clock = std::make_shared<ManualClock>(1'000'000);
  MemoryBackendOptions options;
  options.ttl = std::chrono::milliseconds(100);
  options.clock = clock;
  options.shard_count = 1;
  options.max_entries = 16;  // one shard: exact LRU
  auto backend = tracking_backend(options);
  ChangeTracker* tracker = backend->change_tracker();
  auto kept = backend->column("kept").value();
  auto cleared = backend->column("cleared").value();
  auto dropped = backend->column("dropped").value();
  ASSERT_OK(kept->put("k", "v"));
  ASSERT_OK(cleared->put("c1", "v"));
  ASSERT_OK(cleared->put("c2", "v"));
  ASSERT_OK(dropped->put("d1", "v"));
  auto base = tracker->snapshot_with_changes().value();
  ASSERT_OK(tracker->confirm_changes(base.epoch));
  State state = read_state(*base.snapshot);

  WriteBatch batch;
  batch.put("kept", "b1", "v");
  batch.remove("kept", "k");
  ASSERT_OK(backend->write(batch));
  ASSERT_OK(cleared->clear());
  ASSERT_OK(backend->drop_column("dropped"));
  auto delta = tracker->snapshot_with_changes().value();
  EXPECT_EQ(keys_of(delta, "kept"), (std::vector<std::string>{"b1", "k"}));
  EXPECT_EQ(keys_of(delta, "cleared"), (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(keys_of(delta, "dropped"), (std::vector<std::string>{"d1"}));
  apply_delta(state, delta);
  EXPECT_EQ(state, read_state(*delta.snapshot));
  ASSERT_OK(tracker->confirm_changes(delta.epoch));

  // Eviction: 20 puts into a 16-entry backend evict 5 (b1 and four of the new keys).
  for (int i = 0; i < 20; ++i) ASSERT_OK(kept->put("e" + std::to_string(i), "v"));
  // Expiry: every entry is past its ttl, and cleanup removes them all.
  clock->advance_millis(200);
  ASSERT_OK(backend->cleanup_expired());
  auto last = tracker->snapshot_with_changes().value();
  apply_delta(state, last);
  EXPECT_EQ(state, read_state(*last.snapshot));
  EXPECT_TRUE(state.empty());
  EXPECT_EQ(last.changed_keys, 21u);  // b1 and e0..e19
}

TEST(MemoryChangeTrackingTest, ConfirmRejectsUnknownEpochsAndIgnoresOldOnes) {
  auto backend = tracking_backend();
  ChangeTracker* tracker = backend->change_tracker();
  EXPECT_EQ(tracker->confirm_changes(1).code(), StatusCode::kInvalidArgument);
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("a", "1"));
  auto first = tracker->snapshot_with_changes().value();
  auto second = tracker->snapshot_with_changes().value();
  EXPECT_EQ(tracker->confirm_changes(second.epoch + 1).code(), StatusCode::kInvalidArgument);
  ASSERT_OK(tracker->confirm_changes(second.epoch));
  ASSERT_OK(column->put("b", "2"));
  ASSERT_OK(tracker->confirm_changes(first.epoch));  // older: a no-op, "b" stays tracked
  auto third = tracker->snapshot_with_changes().value();
  EXPECT_EQ(*third.base_epoch, second.epoch);
  EXPECT_EQ(keys_of(third, "c"), (std::vector<std::string>{"b"}));
}

TEST(MemoryChangeTrackingTest, ResetForgetsKeysAndTheBase) {
  auto backend = tracking_backend();
  ChangeTracker* tracker = backend->change_tracker();
  auto column = backend->column("c").value();
  ASSERT_OK(column->put("a", "1"));
  auto first = tracker->snapshot_with_changes().value();
  ASSERT_OK(tracker->confirm_changes(first.epoch));
  ASSERT_OK(column->put("b", "2"));
  EXPECT_EQ(tracker->tracked_keys(), 1u);
  ASSERT_OK(tracker->reset_changes());
  EXPECT_EQ(tracker->tracked_keys(), 0u);
  auto next = tracker->snapshot_with_changes().value();
  EXPECT_FALSE(next.base_epoch.has_value());
}

TEST(MemoryChangeTrackingTest, AFailedSnapshotAfterCloseIsAnError) {
  auto backend = tracking_backend();
  ASSERT_OK(backend->close());
  EXPECT_EQ(backend->change_tracker()->snapshot_with_changes().status().code(), StatusCode::kClosed);
}

// The property incremental checkpoints rely on, with writers running meanwhile: the base plus
// every delta equals each snapshot, for a chain of snapshots taken while four threads put,
// remove, update and batch over a small key space.
TEST(MemoryChangeTrackingTest, DeltaChainReproducesEverySnapshotWhileWritersRun) {
  MemoryBackendOptions options;
  options.shard_count = 8;
  auto backend = tracking_backend(options);
  ChangeTracker* tracker = backend->change_tracker();
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      auto a = backend->column("a").value();
      auto b = backend->column("b").value();
      uint64_t n = static_cast<uint64_t>(t) * 7919;
      while (!stop.load()) {
        ++n;
        const std::string key = "k" + std::to_string(n * 2654435761u % 500);
        const std::string value = std::to_string(n);
        switch (n % 5) {
          case 0: (void)a->put(key, value); break;
          case 1: (void)a->remove(key); break;
          case 2: (void)b->update(key, [&](std::optional<BytesView>) { return std::optional<std::string>(value); }); break;
          case 3: {
            WriteBatch batch;
            batch.put("a", key, value);
            batch.remove("b", key);
            (void)backend->write(batch);
            break;
          }
          default: (void)b->put(key, value); break;
        }
      }
    });
  }
  // The state of the last confirmed checkpoint; a failed one leaves it as it was.
  State confirmed;
  int deltas = 0;
  for (int round = 0; round < 30; ++round) {
    auto tracked = tracker->snapshot_with_changes();
    ASSERT_OK(tracked);
    State restored;
    if (!tracked->base_epoch.has_value()) {
      restored = read_state(*tracked->snapshot);  // a full checkpoint
    } else {
      restored = confirmed;
      apply_delta(restored, *tracked);
      ++deltas;
    }
    ASSERT_EQ(restored, read_state(*tracked->snapshot)) << "round " << round;
    // Every third checkpoint "fails": it is never confirmed, and the next delta, relative to
    // the last confirmed one, must still cover its keys.
    if (round % 3 != 2) {
      ASSERT_OK(tracker->confirm_changes(tracked->epoch));
      confirmed = std::move(restored);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& writer : writers) writer.join();
  EXPECT_GE(deltas, 25);
}

}  // namespace
}  // namespace streamstate
