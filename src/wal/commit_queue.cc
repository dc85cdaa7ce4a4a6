// Leader-based group commit: one writer at a time, everyone else waits for its result.
#include "wal/commit_queue.h"

#include "util/status_macros.h"

#include <algorithm>
#include <utility>

namespace streamstate::wal {
namespace {

// A writer's buffer above this is released after use rather than kept for the next one.
constexpr size_t kKeptBufferBytes = 8 << 20;

}  // namespace

Result<uint64_t> CommitQueue::submit(uint64_t count, const Encode& encode, Wait wait) {
  std::unique_lock lock(mutex_);
  if (wait == Wait::kOwnSync) changed_.wait(lock, [&] { return !writer_busy_; });
  if (closed_) return Status::closed("write-ahead log " + closed_what_ + " is closed");
  if (!failed_.is_ok()) return failed_;
  const uint64_t first = next_;
  encode(pending_, first);
  next_ += count;
  const uint64_t last = next_ - 1;
  if (wait != Wait::kQueued) {
    if (wait == Wait::kOwnSync) {
      writer_busy_ = true;
      write_pending(lock, true);
    }
    STREAMSTATE_RETURN_IF_ERROR(wait_locked(lock, last, wait));
  }
  records_ += count;
  ++calls_;
  return first;
}

Status CommitQueue::wait_locked(std::unique_lock<std::mutex>& lock, uint64_t sequence, Wait wait) {
  while (!reached(sequence, wait)) {
    if (!failed_.is_ok()) return failed_;
    if (!writer_busy_) {
      writer_busy_ = true;
      write_pending(lock, wait != Wait::kWritten);
      continue;
    }
    changed_.wait(lock);
  }
  return Status::ok();
}

Status CommitQueue::wait_for(uint64_t sequence, Wait wait) {
  std::unique_lock lock(mutex_);
  if (sequence >= next_) {
    return Status::invalid_argument("write-ahead log record " + std::to_string(sequence) +
                                    " was never appended (the next one is " + std::to_string(next_) + ")");
  }
  if (wait == Wait::kOwnSync || wait == Wait::kQueued) wait = Wait::kDurable;
  return wait_locked(lock, sequence, wait);
}

void CommitQueue::write_pending(std::unique_lock<std::mutex>& lock, bool sync) {
  std::swap(pending_, writing_);
  const uint64_t first = written_ + 1;
  const uint64_t last = next_ - 1;
  sync = sync && last > durable_;
  Status status;
  if (!writing_.empty() || sync) {
    lock.unlock();
    status = flush_(writing_, first, last, sync);
    lock.lock();
  }
  if (status.is_ok()) {
    bytes_ += writing_.size();
    written_ = last;
    if (sync) {
      durable_ = last;
      ++syncs_;
    }
  } else if (failed_.is_ok()) {
    failed_ = Status(status.code(), status.message() +
                                        " (the write-ahead log accepts no more appends; reopen it to recover)");
  }
  if (writing_.capacity() > kKeptBufferBytes) {
    std::string().swap(writing_);
  } else {
    writing_.clear();
  }
  writer_busy_ = false;
  changed_.notify_all();
}

Status CommitQueue::sync_all() {
  std::unique_lock lock(mutex_);
  if (closed_) return Status::closed("write-ahead log " + closed_what_ + " is closed");
  return write_and_sync(lock);
}

Status CommitQueue::write_and_sync(std::unique_lock<std::mutex>& lock) {
  changed_.wait(lock, [&] { return !writer_busy_; });
  if (!failed_.is_ok()) return failed_;
  writer_busy_ = true;
  write_pending(lock, true);
  return failed_;
}

Status CommitQueue::sync_written(const std::function<Status()>& sync) {
  uint64_t target = 0;
  {
    std::lock_guard lock(mutex_);
    if (!failed_.is_ok()) return failed_;
    target = written_;
    if (target <= durable_) return Status::ok();
  }
  Status status = sync();
  std::lock_guard lock(mutex_);
  if (status.is_ok()) {
    durable_ = std::max(durable_, target);
    ++syncs_;
  } else if (failed_.is_ok()) {
    failed_ = Status(status.code(), status.message() +
                                        " (the write-ahead log accepts no more appends; reopen it to recover)");
  }
  changed_.notify_all();
  return status;
}

Status CommitQueue::close(const std::string& what) {
  std::unique_lock lock(mutex_);
  if (closed_) return Status::ok();
  // No record is numbered after this; those numbered before are written and synced now.
  closed_ = true;
  closed_what_ = what;
  return write_and_sync(lock);
}

CommitQueue::Counters CommitQueue::counters() const {
  std::lock_guard lock(mutex_);
  return Counters{next_, written_, durable_, records_, calls_, bytes_, syncs_};
}

}  // namespace streamstate::wal
