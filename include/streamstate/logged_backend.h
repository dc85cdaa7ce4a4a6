// LoggedBackend: a StateBackend that writes every change to a write-ahead log (streamstate/wal.h)
// before acknowledging it, over any other backend - the memory backend above all, whose state
// then survives a crash: restore the latest checkpoint into a fresh backend, replay the log from
// the checkpoint's position, and no acknowledged write is lost (with the WAL's every_append or
// group_commit policy, even to kill -9 or a power loss).
//
//   auto wal = std::shared_ptr<Wal>(Wal::open({.directory = "/var/lib/app/wal"}).value());
//   auto memory = std::shared_ptr<StateBackend>(MemoryBackend::open({}).value());
//   // after a restart: restore the latest checkpoint into `memory` first, then
//   auto logged = LoggedBackend::open(memory, wal).value();
//   (void)logged->replay(position_of_that_checkpoint + 1);
//   ... use `logged` as the backend (KeyedStateStore::open(logged), ...)
//
// Ordering: a change is applied to the inner backend and put into the log while a lock stripe
// of its key is held (batches lock the stripes of their keys; clear, create and drop columns
// and snapshots exclude every change), and acknowledged after the log says it is durable,
// outside the lock. So the
// log holds every change in the order it was applied to each key, and one fsync covers the
// changes of many threads (the WAL's group commit).
//
// Snapshots: snapshot_at() takes the inner snapshot while every stripe is held and returns it
// with the log position it covers: every change logged at or before it is in the snapshot,
// none after it. A checkpoint of that snapshot lets the log be truncated before position + 1.
//
// What is not exact on replay: entries the inner backend drops by itself - a backend-level TTL
// (MemoryBackendOptions::ttl, which restarts when the entry is replayed) and size-limit
// evictions - are not logged. Keyed-state TTL is exact (values carry their expiry time).
//
// Errors: a change that the inner backend refused is not logged. A log that fails after the
// inner backend applied the change returns the log's error: that change is not acknowledged
// and recovery does not have it (readers of this process may have seen it); the log then
// refuses every later change until it is reopened.
//
// Thread-safety: all methods may be called from any thread, as the inner backend allows.
// Every change must go through the LoggedBackend (a write straight to the inner backend is not
// logged).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/status.h"
#include "streamstate/wal.h"

namespace streamstate {

struct LoggedBackendOptions {
  // Locks that order changes of different keys independently (a key's stripe is picked by
  // hashing its column and key). More stripes, less contention. 1..65536. Default: 256.
  uint32_t lock_stripes = 256;
  // The WAL record type of the changes (1..255), so that other records may share the log.
  // Default: 1.
  uint8_t record_type = 1;
};

// A snapshot with the last log position it includes.
struct PositionedSnapshot {
  std::unique_ptr<BackendSnapshot> snapshot;
  uint64_t log_position = 0;
};

class LoggedBackend final : public StateBackend {
 public:
  // InvalidArgument for null arguments or bad options.
  static Result<std::shared_ptr<LoggedBackend>> open(std::shared_ptr<StateBackend> inner, std::shared_ptr<Wal> wal,
                                                      const LoggedBackendOptions& options = {});
  ~LoggedBackend() override;

  // Applies to the inner backend every logged change with a sequence number at or after
  // `from_sequence` (0: from the oldest kept), without logging them again; returns how many
  // records were applied. Call it once, at start, before any other write. kCorruption from the
  // log or from a record (naming its sequence number).
  Result<uint64_t> replay(uint64_t from_sequence);

  // A consistent snapshot and the log position it covers (see the file comment).
  Result<PositionedSnapshot> snapshot_at();

  StateBackend& inner() { return *inner_; }
  Wal& wal() { return *wal_; }

  // ---- StateBackend ----
  std::string_view kind() const override { return inner_->kind(); }
  BackendCapabilities capabilities() const override;
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override;
  Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name,
                                                           const ColumnOptions& options) override;
  Result<std::vector<std::string>> list_columns() override { return inner_->list_columns(); }
  Status drop_column(std::string_view name) override;
  Status write(const WriteBatch& batch) override;
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override;
  // The inner backend's change tracker (null when it has none), whose snapshots carry their
  // log position like snapshot()'s: incremental checkpoints of memory state with a log.
  ChangeTracker* change_tracker() override;
  BackendStatistics statistics() const override { return inner_->statistics(); }
  // Syncs the log, then flushes the inner backend.
  Status flush() override;
  // Closes the inner backend (not the log, which the caller owns and may share).
  Status close() override { return inner_->close(); }

  class Impl;

 private:
  explicit LoggedBackend(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;  // shared with the column handles, which may outlive this
  std::once_flag tracker_once_;
  std::unique_ptr<ChangeTracker> tracker_;  // over the inner backend's, when it has one
  StateBackend* inner_ = nullptr;
  Wal* wal_ = nullptr;
};

}  // namespace streamstate
