// CheckpointCoordinator: takes checkpoints of a backend (or of a KeyedStateStore's backend)
// periodically and on demand, one at a time, keeps the last N, and tells listeners which
// checkpoints completed and which were aborted.
//
//   CheckpointCoordinatorOptions options;
//   options.interval = std::chrono::seconds(10);
//   options.retain_last = 3;
//   options.on_completed = [](const CheckpointInfo& info) { /* commit sinks up to info */ };
//   auto coordinator = CheckpointCoordinator::start(backend, storage, options).value();
//   Result<CheckpointId> id = coordinator->trigger();   // one now, as well
//   ...
//   Result<CheckpointInfo> last = coordinator->shutdown();  // waits, takes a final checkpoint
//
// Scheduling: a checkpoint starts every `interval` (0 = only when triggered), never before
// `min_pause` has passed since the previous one ended, and never while another is in flight
// (a trigger then waits its turn). The synchronous part - taking the backend's snapshot - runs on
// the coordinator's thread; encoding, compression and upload run on the checkpoint's own
// background thread (start_checkpoint), and writers go on meanwhile.
//
// A checkpoint that fails, or that is still running `timeout` after it started, is aborted:
// the aborted listeners are called, and a timed-out checkpoint that finishes after all has its
// manifest and files removed again, so that it never becomes a checkpoint a restore could pick.
// After each completed checkpoint, collect_garbage keeps the newest `retain_last`.
//
// A LoggedBackend (streamstate/logged_backend.h) has its write-ahead log truncated after each
// completed checkpoint, to the log position of the oldest checkpoint retained: what a restore of
// any retained checkpoint replays stays, older segments go.
//
// Ids: one more than the largest "chk-<id>" found in the storage at start, then increasing by
// one per attempt (an aborted attempt's id is never reused).
//
// Thread-safety: all methods may be called from any thread. Listeners run on the coordinator's
// thread, one at a time; they must not call trigger_and_wait() or shutdown() (they would wait
// for themselves) and should not throw (an exception is caught and counted in
// statistics().listener_failures). The backend
// and the storage must outlive the coordinator.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "streamstate/backend.h"
#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/status.h"

namespace streamstate {

class KeyedStateStore;

struct CheckpointCoordinatorOptions {
  // Time between the starts of periodic checkpoints; 0 = only trigger() starts them.
  // Default: 0.
  std::chrono::milliseconds interval{0};
  // Least time between the end of one checkpoint and the start of the next (periodic and
  // triggered alike). Default: 0.
  std::chrono::milliseconds min_pause{0};
  // A checkpoint still running this long after it started is aborted. Must be positive.
  // Default: 10 minutes.
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  // Completed checkpoints kept (collect_garbage after each completion); at least 1. Default: 3.
  size_t retain_last = 3;
  // shutdown() takes one last checkpoint. Default: true.
  bool checkpoint_on_shutdown = true;
  // At start: remove the objects of checkpoints that never committed (a crash) - only when no
  // other process writes checkpoints into the same storage. Default: true.
  bool remove_orphans_at_start = true;
  // Settings of every checkpoint (compression, block size, key groups, metadata, clock); its
  // id is ignored (the coordinator assigns ids).
  CheckpointOptions checkpoint{};
  // Called for each completed checkpoint, after it is durable and before retention runs.
  std::function<void(const CheckpointInfo&)> on_completed{};
  // Called for each aborted checkpoint with the reason (its snapshot or upload failed, or it
  // timed out).
  std::function<void(CheckpointId, const Status&)> on_aborted{};
};

struct CheckpointCoordinatorStatistics {
  uint64_t started = 0;
  uint64_t completed = 0;
  uint64_t aborted = 0;         // failures and timeouts
  uint64_t timed_out = 0;       // of the aborted
  uint64_t full = 0;            // completed full checkpoints
  uint64_t incremental = 0;     // completed incremental checkpoints
  CheckpointId last_completed_id = 0;
  int64_t last_duration_micros = 0;       // start to manifest commit, last completed
  int64_t average_duration_micros = 0;    // over all completed
  int64_t last_sync_micros = 0;           // the synchronous part (the snapshot), last completed
  uint64_t last_bytes = 0;                // bytes written by the last completed checkpoint
  uint64_t total_bytes = 0;               // bytes written by all completed checkpoints
  uint64_t garbage_collections_failed = 0;
  uint64_t listener_failures = 0;  // listeners that threw (the coordinator goes on)
  uint64_t log_segments_removed = 0;    // LoggedBackend: write-ahead log segments truncated
  uint64_t log_truncations_failed = 0;
};

class CheckpointCoordinator {
 public:
  // Validates the options (InvalidArgument naming the option), finds the next id in `storage`
  // and starts the coordinator's thread.
  static Result<std::unique_ptr<CheckpointCoordinator>> start(StateBackend& backend, CheckpointStorage& storage,
                                                              CheckpointCoordinatorOptions options);
  // Checkpoints of a store: its backend, with the store's key-group range and max_parallelism.
  static Result<std::unique_ptr<CheckpointCoordinator>> start(KeyedStateStore& store, CheckpointStorage& storage,
                                                              CheckpointCoordinatorOptions options);

  // Stops without a final checkpoint and waits for one in flight (as shutdown() without
  // checkpoint_on_shutdown) when shutdown() was not called.
  ~CheckpointCoordinator();
  CheckpointCoordinator(const CheckpointCoordinator&) = delete;
  CheckpointCoordinator& operator=(const CheckpointCoordinator&) = delete;

  // Starts a checkpoint as soon as the rules allow and returns its id once its snapshot is
  // taken (the data is still being written). The snapshot's error, or kClosed after shutdown().
  Result<CheckpointId> trigger();
  // trigger(), then waits until that checkpoint completed or was aborted.
  Result<CheckpointInfo> trigger_and_wait();

  // Stops periodic checkpoints, waits for the one in flight, takes the final checkpoint when
  // checkpoint_on_shutdown, and stops the thread. Returns the final checkpoint (kNotFound when
  // none was asked for; its error when it failed). Later calls return kClosed.
  Result<CheckpointInfo> shutdown();

  CheckpointCoordinatorStatistics statistics() const;

  class Impl;

 private:
  explicit CheckpointCoordinator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamstate
