#include "streamstate/checkpoint_coordinator.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "checkpoint/checkpoint_writer.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/logged_backend.h"

namespace streamstate {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t micros_between(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
}

// The largest id of any "chk-<digits>" folder in the storage (committed or not), or 0.
Result<CheckpointId> largest_id_in(CheckpointStorage& storage) {
  Result<std::vector<StoredObject>> objects = storage.list("chk-");
  if (!objects.is_ok()) return objects.status();
  CheckpointId largest = 0;
  for (const StoredObject& object : objects.value()) {
    const std::string_view name = object.name;
    const size_t slash = name.find('/');
    const std::string_view digits = name.substr(4, slash == std::string_view::npos ? std::string_view::npos : slash - 4);
    if (digits.empty() || digits.size() > 19 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;  // not a checkpoint folder
    }
    largest = std::max<CheckpointId>(largest, std::stoull(std::string(digits)));
  }
  return largest;
}

Status validate(const CheckpointCoordinatorOptions& options) {
  if (options.interval.count() < 0) {
    return Status::invalid_argument("CheckpointCoordinatorOptions.interval is negative; use 0 for triggered "
                                    "checkpoints only, or a positive period");
  }
  if (options.min_pause.count() < 0) {
    return Status::invalid_argument("CheckpointCoordinatorOptions.min_pause is negative; use 0 or more");
  }
  if (options.timeout.count() <= 0) {
    return Status::invalid_argument("CheckpointCoordinatorOptions.timeout must be positive (default 10 minutes)");
  }
  if (options.retain_last < 1) {
    return Status::invalid_argument("CheckpointCoordinatorOptions.retain_last must be at least 1 (default 3)");
  }
  return internal::validate_checkpoint_options(options.checkpoint).with_context("CheckpointCoordinatorOptions.checkpoint");
}

}  // namespace

// One trigger() (or the final checkpoint of shutdown()) waiting for its checkpoint.
struct TriggerRequest {
  bool started = false;
  bool finished = false;
  Result<CheckpointId> id = Status::internal("not started");
  Result<CheckpointInfo> info = Status::internal("not finished");
};

class CheckpointCoordinator::Impl {
 public:
  Impl(StateBackend& backend, CheckpointStorage& storage, CheckpointCoordinatorOptions options, CheckpointId next_id)
      : backend_(backend), storage_(storage), options_(std::move(options)), next_id_(next_id) {
    last_start_ = SteadyClock::now();
    thread_ = std::thread([this] { run(); });
  }

  ~Impl() { (void)stop(/*final_checkpoint=*/false); }

  Result<CheckpointId> trigger(std::shared_ptr<TriggerRequest>* out) {
    auto request = std::make_shared<TriggerRequest>();
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopping_) return Status::closed("the checkpoint coordinator is shut down; no more checkpoints");
    requests_.push_back(request);
    wake_.notify_all();
    done_.wait(lock, [&] { return request->started; });
    if (out != nullptr) *out = request;
    return request->id;
  }

  Result<CheckpointInfo> wait(const std::shared_ptr<TriggerRequest>& request) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return request->finished; });
    return request->info;
  }

  Result<CheckpointInfo> stop(bool final_checkpoint) {
    std::shared_ptr<TriggerRequest> final_request;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) {
        if (!thread_.joinable()) return Status::closed("the checkpoint coordinator is shut down already");
      } else {
        stopping_ = true;
        if (final_checkpoint) {
          final_request = std::make_shared<TriggerRequest>();
          requests_.push_back(final_request);
        }
        wake_.notify_all();
      }
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
    if (final_request == nullptr) return Status::not_found("no final checkpoint was asked for");
    return final_request->info;
  }

  Result<CheckpointInfo> shutdown() { return stop(options_.checkpoint_on_shutdown); }

  CheckpointCoordinatorStatistics statistics() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return statistics_;
  }

 private:
  // The coordinator's thread: waits until a checkpoint is due or triggered, runs it, repeats.
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      const auto earliest = last_end_.has_value() ? *last_end_ + options_.min_pause : SteadyClock::time_point::min();
      const bool periodic = options_.interval.count() > 0;
      const auto due = std::max(earliest, last_start_ + options_.interval);
      if (stopping_) {
        if (requests_.empty()) break;
        // The final checkpoint (and triggers waiting with it) goes now, without the pause.
      } else if (requests_.empty()) {
        if (periodic) {
          wake_.wait_until(lock, due);
        } else {
          wake_.wait(lock);
        }
        if (stopping_ || requests_.empty()) {
          if (stopping_ || !periodic || SteadyClock::now() < due) continue;
        }
      } else if (SteadyClock::now() < earliest) {
        wake_.wait_until(lock, earliest);
        continue;
      }
      // Every trigger waiting now is served by this one checkpoint.
      std::vector<std::shared_ptr<TriggerRequest>> served(requests_.begin(), requests_.end());
      requests_.clear();
      lock.unlock();
      run_checkpoint(served);
      lock.lock();
    }
  }

  void finish(const std::vector<std::shared_ptr<TriggerRequest>>& served, const Result<CheckpointInfo>& info) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& request : served) {
      if (!request->started) {
        request->started = true;
        request->id = info.is_ok() ? Result<CheckpointId>(info->manifest.id) : Result<CheckpointId>(info.status());
      }
      request->finished = true;
      request->info = info;
    }
    last_end_ = SteadyClock::now();
    done_.notify_all();
  }

  void notify_aborted(CheckpointId id, const Status& reason) {
    if (!options_.on_aborted) return;
    try {
      options_.on_aborted(id, reason);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++statistics_.listener_failures;
    }
  }

  void run_checkpoint(const std::vector<std::shared_ptr<TriggerRequest>>& served) {
    CheckpointOptions checkpoint = options_.checkpoint;
    const auto started = SteadyClock::now();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      checkpoint.id = next_id_++;
      last_start_ = started;
      ++statistics_.started;
    }
    const CheckpointId id = checkpoint.id;
    Result<PendingCheckpoint> pending = start_checkpoint(backend_, storage_, checkpoint);
    if (!pending.is_ok()) {
      abort(id, pending.status(), false);
      finish(served, pending.status());
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& request : served) {
        request->started = true;
        request->id = id;
      }
      done_.notify_all();
    }
    const auto deadline = started + options_.timeout;
    bool timed_out = false;
    while (!pending->done()) {
      if (SteadyClock::now() >= deadline) {
        timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (timed_out) {
      const Status reason = Status::timeout("checkpoint " + std::to_string(id) + " did not complete within " +
                                            std::to_string(options_.timeout.count()) +
                                            " ms (CheckpointCoordinatorOptions.timeout); it was aborted");
      abort(id, reason, true);
      finish(served, reason);
      // Without a way to stop the upload, wait for it and make sure it never counts.
      Result<CheckpointInfo> late = pending->wait();
      if (late.is_ok()) remove_checkpoint(late->manifest);
      return;
    }
    Result<CheckpointInfo> info = pending->wait();
    if (!info.is_ok()) {
      abort(id, info.status(), false);
      finish(served, info);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      CheckpointCoordinatorStatistics& s = statistics_;
      ++s.completed;
      if (info->manifest.kind == CheckpointKind::kFull) {
        ++s.full;
      } else {
        ++s.incremental;
      }
      s.last_completed_id = id;
      s.last_duration_micros = micros_between(started, SteadyClock::now());
      total_duration_micros_ += s.last_duration_micros;
      s.average_duration_micros = total_duration_micros_ / static_cast<int64_t>(s.completed);
      s.last_sync_micros = info->sync_micros;
      s.last_bytes = info->bytes_written;
      s.total_bytes += info->bytes_written;
    }
    if (options_.on_completed) {
      try {
        options_.on_completed(*info);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++statistics_.listener_failures;
      }
    }
    GarbageCollectionOptions gc;
    gc.retain_last = options_.retain_last;
    Result<GarbageCollectionReport> report = collect_garbage(storage_, gc);
    if (!report.is_ok()) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++statistics_.garbage_collections_failed;
    } else {
      truncate_log(*report);
    }
    finish(served, info);
  }

  void abort(CheckpointId id, const Status& reason, bool timed_out) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++statistics_.aborted;
      if (timed_out) ++statistics_.timed_out;
    }
    notify_aborted(id, reason);
  }

  // A LoggedBackend's log keeps what the oldest retained checkpoint needs: records after its
  // log position (so a restore that falls back to it still finds them); older segments go.
  void truncate_log(const GarbageCollectionReport& report) {
    auto* logged = dynamic_cast<LoggedBackend*>(&backend_);
    if (logged == nullptr || report.retained.empty()) return;
    Result<CheckpointManifest> oldest = read_checkpoint(storage_, report.retained.front());
    if (!oldest.is_ok() || !oldest->log_position.has_value()) return;
    Result<uint64_t> removed = logged->wal().truncate_before(*oldest->log_position + 1);
    std::lock_guard<std::mutex> lock(mutex_);
    if (removed.is_ok()) {
      statistics_.log_segments_removed += *removed;
    } else {
      ++statistics_.log_truncations_failed;
    }
  }

  // A checkpoint that completed after it was declared aborted: its manifest goes first (then it
  // no longer exists for listing and restore), then the files it wrote itself.
  void remove_checkpoint(const CheckpointManifest& manifest) {
    if (!storage_.remove(checkpoint_manifest_name(manifest.id)).is_ok()) return;  // left for gc
    for (const CheckpointFile& file : manifest.files) {
      if (!file.shared) (void)storage_.remove(file.name);
    }
  }

  StateBackend& backend_;
  CheckpointStorage& storage_;
  const CheckpointCoordinatorOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the thread: a trigger or a stop arrived
  std::condition_variable done_;  // triggers: their checkpoint started or finished
  std::deque<std::shared_ptr<TriggerRequest>> requests_;
  bool stopping_ = false;
  CheckpointId next_id_;
  SteadyClock::time_point last_start_;
  std::optional<SteadyClock::time_point> last_end_;
  CheckpointCoordinatorStatistics statistics_;
  int64_t total_duration_micros_ = 0;
  std::thread thread_;  // last: starts after every other member is ready
};

Result<std::unique_ptr<CheckpointCoordinator>> CheckpointCoordinator::start(StateBackend& backend,
                                                                           CheckpointStorage& storage,
                                                                           CheckpointCoordinatorOptions options) {
  if (Status status = validate(options); !status.is_ok()) return status;
  if (options.remove_orphans_at_start) {
    GarbageCollectionOptions gc;
    gc.retain_last = options.retain_last;
    gc.remove_orphans = true;
    Result<GarbageCollectionReport> report = collect_garbage(storage, gc);
    if (!report.is_ok()) return report.status().with_context("checkpoint coordinator start");
  }
  Result<CheckpointId> largest = largest_id_in(storage);
  if (!largest.is_ok()) return largest.status().with_context("checkpoint coordinator start");
  auto impl = std::make_unique<Impl>(backend, storage, std::move(options), largest.value() + 1);
  return std::unique_ptr<CheckpointCoordinator>(new CheckpointCoordinator(std::move(impl)));
}

Result<std::unique_ptr<CheckpointCoordinator>> CheckpointCoordinator::start(KeyedStateStore& store,
                                                                           CheckpointStorage& storage,
                                                                           CheckpointCoordinatorOptions options) {
  if (store.backend() == nullptr) {
    return Status::failed_precondition("checkpoint coordinator: the KeyedStateStore has no backend (closed?)");
  }
  options.checkpoint.key_groups = store.key_groups();
  options.checkpoint.max_parallelism = store.max_parallelism();
  return start(*store.backend(), storage, std::move(options));
}

CheckpointCoordinator::CheckpointCoordinator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CheckpointCoordinator::~CheckpointCoordinator() = default;

Result<CheckpointId> CheckpointCoordinator::trigger() { return impl_->trigger(nullptr); }

Result<CheckpointInfo> CheckpointCoordinator::trigger_and_wait() {
  std::shared_ptr<TriggerRequest> request;
  Result<CheckpointId> id = impl_->trigger(&request);
  if (!id.is_ok() && request == nullptr) return id.status();
  return impl_->wait(request);
}

Result<CheckpointInfo> CheckpointCoordinator::shutdown() { return impl_->shutdown(); }

CheckpointCoordinatorStatistics CheckpointCoordinator::statistics() const { return impl_->statistics(); }

}  // namespace streamstate
