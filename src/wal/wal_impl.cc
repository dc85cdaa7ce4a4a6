// Opening and recovery, appends, rotation, replay and segment removal.
#include "wal/wal_impl.h"

#include <system_error>
#include <utility>

#include "util/status_macros.h"
#include "wal/segment_format.h"

namespace streamstate {
namespace fs = std::filesystem;
using wal::CommitQueue;

namespace {

constexpr uint64_t kMinSegmentBytes = 4096;
constexpr uint32_t kMaxRecordBytesLimit = 1U << 30;

Status check_options(const WalOptions& options) {
  if (options.directory.empty()) {
    return Status::invalid_argument("WalOptions::directory is empty; set it to the log's directory");
  }
  if (options.segment_bytes < kMinSegmentBytes) {
    return Status::invalid_argument("WalOptions::segment_bytes " + std::to_string(options.segment_bytes) +
                                    " is below the minimum of " + std::to_string(kMinSegmentBytes));
  }
  if (options.max_record_bytes == 0 || options.max_record_bytes > kMaxRecordBytesLimit) {
    return Status::invalid_argument("WalOptions::max_record_bytes " + std::to_string(options.max_record_bytes) +
                                    " must be from 1 to " + std::to_string(kMaxRecordBytesLimit));
  }
  if (wal_sync_policy_name(options.sync) == "unknown") {
    return Status::invalid_argument("WalOptions::sync has no valid WalSyncPolicy value");
  }
  if (options.sync == WalSyncPolicy::kPeriodic && options.sync_interval.count() <= 0) {
    return Status::invalid_argument("WalOptions::sync_interval must be positive with the periodic sync policy");
  }
  return Status::ok();
}

Result<fs::path> prepare_directory(const WalOptions& options) {
  std::error_code error;
  fs::path directory = fs::absolute(options.directory, error).lexically_normal();
  if (error) return Status::io_error("cannot resolve WAL directory " + options.directory + ": " + error.message());
  if (!directory.has_filename() && directory.has_parent_path() && directory != directory.root_path()) {
    directory = directory.parent_path();
  }
  fs::file_status status = fs::status(directory, error);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      return Status::invalid_argument("WAL directory " + directory.string() + " exists but is not a directory");
    }
    return directory;
  }
  if (!options.create_if_missing) {
    return Status::not_found("WAL directory " + directory.string() +
                             " does not exist; create it or set WalOptions::create_if_missing");
  }
  fs::create_directories(directory, error);
  if (error) return Status::io_error("cannot create WAL directory " + directory.string() + ": " + error.message());
  STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(directory.parent_path()));
  return directory;
}

CommitQueue::Wait wait_of(WalSyncPolicy policy) {
  switch (policy) {
    case WalSyncPolicy::kEveryAppend:
      return CommitQueue::Wait::kOwnSync;
    case WalSyncPolicy::kGroupCommit:
      return CommitQueue::Wait::kDurable;
    case WalSyncPolicy::kPeriodic:
    case WalSyncPolicy::kNone:
      break;
  }
  return CommitQueue::Wait::kWritten;
}

}  // namespace

WalImpl::WalImpl(const WalOptions& options, fs::path directory, wal::DirectoryLock lock)
    : options_(options), directory_(std::move(directory)), directory_text_(directory_.string()),
      wait_(wait_of(options.sync)), lock_(std::move(lock)) {}

WalImpl::~WalImpl() { (void)close(); }

Result<std::unique_ptr<WalImpl>> WalImpl::open(const WalOptions& options) {
  STREAMSTATE_RETURN_IF_ERROR(check_options(options));
  STREAMSTATE_ASSIGN_OR_RETURN(fs::path directory, prepare_directory(options));
  STREAMSTATE_ASSIGN_OR_RETURN(wal::DirectoryLock lock, wal::DirectoryLock::acquire(directory));
  std::unique_ptr<WalImpl> impl(new WalImpl(options, std::move(directory), std::move(lock)));
  STREAMSTATE_ASSIGN_OR_RETURN(uint64_t next_sequence, impl->recover());
  WalImpl* self = impl.get();
  impl->queue_ = std::make_unique<CommitQueue>(
      next_sequence, [self](BytesView records, uint64_t first, uint64_t, bool sync) {
        return self->write_records(records, first, sync);
      });
  if (options.sync == WalSyncPolicy::kPeriodic) {
    impl->syncer_ = std::make_unique<wal::PeriodicSyncer>(
        options.sync_interval, [self] { (void)self->queue_->sync_written([self] { return self->sync_active_segment(); }); });
  }
  return impl;
}

Result<uint64_t> WalImpl::recover() {
  STREAMSTATE_RETURN_IF_ERROR(wal::remove_temp_segments(directory_));
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, wal::list_segment_ids(directory_));
  if (ids.empty()) {
    STREAMSTATE_RETURN_IF_ERROR(start_segment(1));
    return uint64_t{1};
  }
  wal::LogScanOptions scan;
  scan.max_record_bytes = options_.max_record_bytes;
  scan.tolerate_damaged_tail = true;
  scan.point_in_time = options_.recovery == WalRecovery::kPointInTime;
  STREAMSTATE_ASSIGN_OR_RETURN(wal::LogScanResult result, wal::scan_log(directory_, ids, scan));
  STREAMSTATE_RETURN_IF_ERROR(drop_segments_after_damage(result));
  fs::path last = directory_ / wal::segment_file_name(result.segments.back().id);
  if (result.tail && result.tail->file == last) {
    // Cut the damage off (and sync the cut) before anything is appended after it.
    STREAMSTATE_RETURN_IF_ERROR(wal::truncate_and_sync(last, result.tail->offset));
  }
  const wal::SegmentEntry& entry = result.segments.back();
  STREAMSTATE_ASSIGN_OR_RETURN(
      std::unique_ptr<wal::SegmentWriter> active,
      wal::SegmentWriter::open_for_append(last, wal::SegmentHeader{entry.id, entry.first_sequence},
                                          result.last_segment_end));
  active_ = std::move(active);
  // After a process crash the recovered records may sit in the page cache only: make them
  // durable before anything is acknowledged after them.
  STREAMSTATE_RETURN_IF_ERROR(active_->sync());
  segments_ = std::move(result.segments);
  active_written_bytes_ = active_->size();
  return result.next_sequence;
}

Status WalImpl::drop_segments_after_damage(const wal::LogScanResult& result) {
  if (!result.tail) return Status::ok();
  recovered_tail_ = result.tail;
  // Newest first, so that a crash part way leaves the older segments without a hole.
  for (auto it = result.dropped_segments.rbegin(); it != result.dropped_segments.rend(); ++it) {
    fs::path path = directory_ / wal::segment_file_name(*it);
    std::error_code error;
    uint64_t size = fs::file_size(path, error);
    if (!error) recovered_tail_->bytes += size;
    if (!fs::remove(path, error) && error) {
      return Status::io_error("cannot remove WAL segment " + path.string() + " after the damage at " +
                              result.tail->file.string() + " offset " + std::to_string(result.tail->offset) + ": " +
                              error.message());
    }
    ++recovery_removed_segments_;
  }
  if (!result.dropped_segments.empty()) STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(directory_));
  return Status::ok();
}

Status WalImpl::start_segment(uint64_t first_sequence) {
  uint64_t id = active_ != nullptr ? active_->header().segment_id + 1 : 1;
  if (active_ != nullptr && active_unsynced_) {
    // A segment that is not the last is complete on disk, whatever the sync policy: recovery
    // treats damage in it as corruption.
    STREAMSTATE_RETURN_IF_ERROR(active_->sync());
    active_unsynced_ = false;
    std::lock_guard lock(segments_mutex_);
    ++rotation_syncs_;
  }
  STREAMSTATE_ASSIGN_OR_RETURN(auto segment,
                               wal::SegmentWriter::create(directory_, wal::SegmentHeader{id, first_sequence}));
  std::lock_guard lock(segments_mutex_);
  active_ = std::move(segment);
  segments_.push_back(wal::SegmentEntry{id, first_sequence});
  active_written_bytes_ = active_->size();
  ++segments_created_;
  return Status::ok();
}

Status WalImpl::sync_active_segment() {
  std::shared_ptr<wal::SegmentWriter> segment;
  {
    std::lock_guard lock(segments_mutex_);
    segment = active_;
  }
  // Records written before this call are in this segment or in finished ones, which the
  // writer synced before it replaced the active segment.
  return segment != nullptr ? segment->sync() : Status::ok();
}

Status WalImpl::write_records(BytesView records, uint64_t first_sequence, bool sync) {
  if (!records.empty()) {
    if (active_->size() > wal::kSegmentHeaderBytes && active_->size() + records.size() > options_.segment_bytes) {
      STREAMSTATE_RETURN_IF_ERROR(start_segment(first_sequence));
    }
    STREAMSTATE_RETURN_IF_ERROR(active_->write(records));
    active_unsynced_ = true;
    std::lock_guard lock(segments_mutex_);
    active_written_bytes_ = active_->size();
  }
  if (sync && active_unsynced_) {
    STREAMSTATE_RETURN_IF_ERROR(active_->sync());
    active_unsynced_ = false;
  }
  return Status::ok();
}

Status WalImpl::check_records(std::span<const WalRecordInput> records) const {
  if (records.empty()) return Status::invalid_argument("Wal::append_batch needs at least one record");
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].type == 0) {
      return Status::invalid_argument("WAL record " + std::to_string(i) +
                                      " has type 0, which is reserved; use a type from 1 to 255");
    }
    if (records[i].payload.size() > options_.max_record_bytes) {
      return Status::invalid_argument("WAL record " + std::to_string(i) + " has " +
                                      std::to_string(records[i].payload.size()) +
                                      " payload bytes, more than WalOptions::max_record_bytes (" +
                                      std::to_string(options_.max_record_bytes) + ")");
    }
  }
  return Status::ok();
}

Result<uint64_t> WalImpl::append_batch(std::span<const WalRecordInput> records) { return submit(records, wait_); }

Result<uint64_t> WalImpl::enqueue_batch(std::span<const WalRecordInput> records) {
  return submit(records, CommitQueue::Wait::kQueued);
}

Status WalImpl::wait_for(uint64_t sequence) { return queue_->wait_for(sequence, wait_); }

Result<uint64_t> WalImpl::submit(std::span<const WalRecordInput> records, CommitQueue::Wait wait) {
  STREAMSTATE_RETURN_IF_ERROR(check_records(records));
  return queue_->submit(
      records.size(),
      [records](std::string& out, uint64_t first) {
        size_t bytes = 0;
        for (const WalRecordInput& record : records) bytes += wal::kRecordOverheadBytes + record.payload.size();
        out.reserve(out.size() + bytes);
        for (const WalRecordInput& record : records) wal::append_record(out, record.type, first++, record.payload);
      },
      wait);
}

Status WalImpl::sync() { return queue_->sync_all(); }

Status WalImpl::replay(uint64_t from_sequence, const std::function<Status(const WalRecordView&)>& visit) {
  std::shared_lock maintenance(maintenance_mutex_);
  std::vector<uint64_t> ids;
  wal::LogScanOptions scan;
  {
    std::lock_guard lock(segments_mutex_);
    if (closed_) return Status::closed("write-ahead log " + directory_text_ + " is closed");
    if (from_sequence != 0 && from_sequence < segments_.front().first_sequence) {
      return Status::out_of_range("cannot replay write-ahead log " + directory_text_ + " from sequence number " +
                                  std::to_string(from_sequence) + ": the oldest record kept is " +
                                  std::to_string(segments_.front().first_sequence) +
                                  " (truncate_before() removed the others)");
    }
    for (const wal::SegmentEntry& entry : segments_) ids.push_back(entry.id);
    scan.last_segment_limit = active_written_bytes_;
  }
  scan.max_record_bytes = options_.max_record_bytes;
  scan.from_sequence = from_sequence;
  scan.visit = visit;
  return wal::scan_log(directory_, ids, scan).status();
}

Result<uint64_t> WalImpl::truncate_before(uint64_t sequence) {
  std::unique_lock maintenance(maintenance_mutex_);
  std::vector<uint64_t> victims;
  {
    std::lock_guard lock(segments_mutex_);
    if (closed_) return Status::closed("write-ahead log " + directory_text_ + " is closed");
    for (size_t i = 0; i + 1 < segments_.size() && segments_[i + 1].first_sequence <= sequence; ++i) {
      victims.push_back(segments_[i].id);
    }
  }
  // Oldest first, so that a crash part way leaves the newer segments without a hole.
  Status status;
  size_t removed = 0;
  for (uint64_t id : victims) {
    fs::path path = directory_ / wal::segment_file_name(id);
    std::error_code error;
    if (!fs::remove(path, error) && error) {
      status = Status::io_error("cannot remove WAL segment " + path.string() + ": " + error.message());
      break;
    }
    ++removed;
  }
  if (removed > 0) {
    Status synced = wal::sync_directory(directory_);
    if (status.is_ok()) status = synced;
    std::lock_guard lock(segments_mutex_);
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(removed));
    segments_removed_ += removed;
  }
  if (!status.is_ok()) return status;
  return static_cast<uint64_t>(removed);
}

WalStatistics WalImpl::statistics() const {
  CommitQueue::Counters counters = queue_->counters();
  WalStatistics stats;
  stats.appends = counters.records;
  stats.append_calls = counters.calls;
  stats.bytes = counters.bytes;
  stats.last_sequence = counters.next_sequence - 1;
  stats.durable_sequence = counters.durable_sequence;
  std::lock_guard lock(segments_mutex_);
  stats.syncs = counters.syncs + rotation_syncs_;
  stats.segments = segments_.size();
  stats.segments_created = segments_created_;
  stats.segments_removed = segments_removed_;
  stats.first_sequence = segments_.empty() ? counters.next_sequence : segments_.front().first_sequence;
  if (recovered_tail_) {
    stats.recovery_dropped_bytes = recovered_tail_->bytes;
    stats.recovery_dropped_file = recovered_tail_->file.string();
    stats.recovery_dropped_offset = recovered_tail_->offset;
    stats.recovery_dropped_reason = recovered_tail_->why;
    stats.recovery_removed_segments = recovery_removed_segments_;
  }
  return stats;
}

Status WalImpl::close() {
  std::lock_guard close_lock(close_mutex_);
  if (queue_ == nullptr) return Status::ok();
  {
    std::lock_guard lock(segments_mutex_);
    if (closed_) return Status::ok();
  }
  if (syncer_ != nullptr) syncer_->stop();
  Status status = queue_->close(directory_text_);
  std::unique_lock maintenance(maintenance_mutex_);
  std::lock_guard lock(segments_mutex_);
  closed_ = true;
  active_.reset();
  lock_.reset();
  return status;
}

}  // namespace streamstate
