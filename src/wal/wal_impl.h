// The write-ahead log behind streamstate::Wal: recovery on open, appends through the
// CommitQueue, segment rotation, replay and removal of old segments. See
// include/streamstate/wal.h for the contract.
//
// Locking: the CommitQueue's writer role is the only one to write to the active segment
// (`active_`, `active_unsynced_`); `segments_mutex_` guards the list of segments, the counters
// beside it and the replacement of `active_` (which the periodic syncer reads under it);
// `maintenance_mutex_` keeps truncate_before() (exclusive) from deleting files a replay()
// (shared) is reading. Order: maintenance, then segments; the writer role takes only segments.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <vector>

#include "streamstate/wal.h"
#include "wal/commit_queue.h"
#include "wal/file_io.h"
#include "wal/log_scanner.h"
#include "wal/periodic_syncer.h"
#include "wal/segment_writer.h"

namespace streamstate {

class WalImpl {
 public:
  static Result<std::unique_ptr<WalImpl>> open(const WalOptions& options);
  ~WalImpl();
  WalImpl(const WalImpl&) = delete;
  WalImpl& operator=(const WalImpl&) = delete;

  Result<uint64_t> append_batch(std::span<const WalRecordInput> records);
  Result<uint64_t> enqueue_batch(std::span<const WalRecordInput> records);
  Status wait_for(uint64_t sequence);
  Status sync();
  Status replay(uint64_t from_sequence, const std::function<Status(const WalRecordView&)>& visit);
  Result<uint64_t> truncate_before(uint64_t sequence);
  WalStatistics statistics() const;
  Status close();
  const std::string& directory() const { return directory_text_; }

 private:
  WalImpl(const WalOptions& options, std::filesystem::path directory, wal::DirectoryLock lock);
  // Opening: recovers the segments on disk or starts a new log; returns the next sequence.
  Result<uint64_t> recover();
  // The CommitQueue's flush: runs with the writer role.
  Status write_records(BytesView records, uint64_t first_sequence, bool sync);
  // Point-in-time recovery: deletes the segments after the damage and records what went.
  Status drop_segments_after_damage(const wal::LogScanResult& result);
  Status start_segment(uint64_t first_sequence);
  // The periodic syncer's tick: fdatasync of the active segment beside the writer.
  Status sync_active_segment();
  Status check_records(std::span<const WalRecordInput> records) const;
  Result<uint64_t> submit(std::span<const WalRecordInput> records, wal::CommitQueue::Wait wait);

  const WalOptions options_;
  const std::filesystem::path directory_;
  const std::string directory_text_;
  const wal::CommitQueue::Wait wait_;
  std::optional<wal::DirectoryLock> lock_;

  // Replaced by the writer role under segments_mutex_; the periodic syncer takes a reference
  // under segments_mutex_ and syncs it while the writer goes on.
  std::shared_ptr<wal::SegmentWriter> active_;
  bool active_unsynced_ = false;                // writer role

  mutable std::mutex segments_mutex_;
  std::vector<wal::SegmentEntry> segments_;  // oldest first; the last is the active one
  uint64_t active_written_bytes_ = 0;         // bytes of the active segment written so far
  uint64_t segments_created_ = 0;
  uint64_t segments_removed_ = 0;
  uint64_t rotation_syncs_ = 0;
  bool closed_ = false;
  std::optional<wal::TailDamage> recovered_tail_;  // bytes: all bytes recovery dropped
  uint64_t recovery_removed_segments_ = 0;

  std::shared_mutex maintenance_mutex_;
  std::mutex close_mutex_;
  std::unique_ptr<wal::CommitQueue> queue_;
  std::unique_ptr<wal::PeriodicSyncer> syncer_;
};

}  // namespace streamstate
