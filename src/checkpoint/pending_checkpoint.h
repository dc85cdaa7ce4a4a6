// The background half of a checkpoint: one thread running the work that encodes, uploads and
// commits a checkpoint, and the result PendingCheckpoint::wait() returns. Internal; shared by
// every kind of checkpoint (full, incremental, RocksDB native).
//
// Thread-safety: start() once; wait(), done() and join() from any thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "streamstate/checkpoint.h"

namespace streamstate {

class PendingCheckpoint::Impl {
 public:
  ~Impl() { join(); }

  Status start(std::function<Result<CheckpointInfo>()> work) {
    try {
      thread_ = std::thread([this, work = std::move(work)] {
        Result<CheckpointInfo> result = work();
        std::lock_guard<std::mutex> lock(mutex_);
        result_.emplace(std::move(result));
        done_changed_.notify_all();
      });
    } catch (const std::system_error& error) {
      return Status::unavailable(std::string("cannot start the checkpoint's background thread: ") + error.what());
    }
    return Status::ok();
  }
  Result<CheckpointInfo> wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    done_changed_.wait(lock, [this] { return result_.has_value(); });
    return *result_;
  }
  bool done() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return result_.has_value();
  }
  void join() {
    std::lock_guard<std::mutex> lock(join_mutex_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable done_changed_;
  std::optional<Result<CheckpointInfo>> result_;  // guarded by mutex_
  std::mutex join_mutex_;
  std::thread thread_;
};

}  // namespace streamstate
