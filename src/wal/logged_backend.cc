#include "streamstate/logged_backend.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/change_tracking.h"
#include "streamstate/write_batch.h"
#include "wal/logged_change.h"

namespace streamstate {

using wal::LoggedChange;
using wal::LoggedChangeKind;
using wal::LoggedChangeWriter;

class LoggedBackend::Impl {
 public:
  Impl(std::shared_ptr<StateBackend> inner, std::shared_ptr<Wal> log, const LoggedBackendOptions& options)
      : inner_(std::move(inner)),
        wal_(std::move(log)),
        options_(options),
        stripes_(std::make_unique<std::mutex[]>(options.lock_stripes)) {}

  StateBackend& inner() { return *inner_; }
  Wal& wal() { return *wal_; }

  uint32_t stripe_of(std::string_view column, BytesView key) const {
    const size_t hash = std::hash<std::string_view>()(key) * 31 + std::hash<std::string_view>()(column);
    return static_cast<uint32_t>(hash % options_.lock_stripes);
  }
  // What a change of one or a few keys holds: every_ shared, then its stripes in index order.
  class KeyLocks {
   public:
    KeyLocks(Impl& impl, const std::vector<uint32_t>& sorted_stripes) : every_(impl.every_) {
      stripes_.reserve(sorted_stripes.size());
      for (uint32_t index : sorted_stripes) stripes_.emplace_back(impl.stripes_[index]);
    }

   private:
    std::shared_lock<std::shared_mutex> every_;
    std::vector<std::unique_lock<std::mutex>> stripes_;
  };
  KeyLocks lock_key(std::string_view column, BytesView key) { return KeyLocks(*this, {stripe_of(column, key)}); }
  KeyLocks lock_keys(const std::vector<uint32_t>& sorted_stripes) { return KeyLocks(*this, sorted_stripes); }
  // Excludes every change at once (clear, create and drop columns, snapshots).
  std::unique_lock<std::shared_mutex> lock_all() { return std::unique_lock<std::shared_mutex>(every_); }

  // Every logged change: with `locks` held, `change(changes)` applies the change to the inner
  // backend and describes it in `changes`, which then takes its place in the log's order; with
  // the locks released, returns once that record is durable (the WAL's policy). A change the
  // inner backend refused (an error from `change`) is not logged.
  template <typename Locks, typename Change>
  Status log_change(Locks locks, Change&& change) {
    Result<uint64_t> sequence = Status::internal("not logged");
    {
      const Locks held = std::move(locks);
      LoggedChangeWriter changes;
      if (Status status = change(changes); !status.is_ok()) return status;
      sequence = wal_->enqueue(options_.record_type, changes.bytes());
    }
    if (!sequence.is_ok()) return sequence.status();
    return wal_->wait_for(*sequence);
  }

  // Logs the creation of `name` the first time this process opens it (idempotent on replay).
  Status note_column(std::string_view name, bool values_carry_expiry) {
    {
      std::lock_guard<std::mutex> lock(columns_mutex_);
      if (logged_columns_.contains(name)) return Status::ok();
    }
    Status logged = log_change(lock_all(), [&](LoggedChangeWriter& changes) {
      changes.create_column(name, values_carry_expiry);
      return Status::ok();
    });
    if (logged.is_ok()) {
      std::lock_guard<std::mutex> lock(columns_mutex_);
      logged_columns_.emplace(name);
    }
    return logged;
  }
  void forget_column(std::string_view name) {
    std::lock_guard<std::mutex> lock(columns_mutex_);
    logged_columns_.erase(std::string(name));
  }

  Status apply(const LoggedChange& change, uint64_t sequence) {
    const std::string column(change.column);
    const std::string context = "replaying logged change record " + std::to_string(sequence);
    switch (change.kind) {
      case LoggedChangeKind::kCreateColumn: {
        Result<std::shared_ptr<StateColumn>> opened =
            inner_->column_with_options(column, ColumnOptions{.values_carry_expiry = change.values_carry_expiry});
        return opened.is_ok() ? Status::ok() : opened.status().with_context(context);
      }
      case LoggedChangeKind::kDropColumn: {
        Status status = inner_->drop_column(column);
        if (status.code() == StatusCode::kNotFound) return Status::ok();  // the checkpoint never had it
        return status.is_ok() ? status : status.with_context(context);
      }
      case LoggedChangeKind::kPut:
      case LoggedChangeKind::kRemove:
      case LoggedChangeKind::kClear:
        break;
    }
    Result<std::shared_ptr<StateColumn>> opened = inner_->column(column);
    if (!opened.is_ok()) return opened.status().with_context(context);
    StateColumn& target = *opened.value();
    Status status;
    if (change.kind == LoggedChangeKind::kPut) {
      status = target.put(change.key, change.value);
    } else if (change.kind == LoggedChangeKind::kRemove) {
      status = target.remove(change.key);
    } else {
      status = target.clear();
    }
    return status.is_ok() ? status : status.with_context(context);
  }

  const LoggedBackendOptions& options() const { return options_; }

 private:
  const std::shared_ptr<StateBackend> inner_;
  const std::shared_ptr<Wal> wal_;
  const LoggedBackendOptions options_;
  std::shared_mutex every_;
  std::unique_ptr<std::mutex[]> stripes_;
  std::mutex columns_mutex_;
  std::set<std::string, std::less<>> logged_columns_;  // guarded by columns_mutex_
};

namespace {

class LoggedColumn final : public StateColumn {
 public:
  LoggedColumn(std::shared_ptr<LoggedBackend::Impl> impl, std::shared_ptr<StateColumn> inner)
      : impl_(std::move(impl)), inner_(std::move(inner)) {}

  const std::string& name() const override { return inner_->name(); }
  Result<bool> get_into(BytesView key, std::string& value) override { return inner_->get_into(key, value); }
  Result<bool> contains(BytesView key) override { return inner_->contains(key); }
  Status scan(BytesView prefix, const ScanVisitor& visitor) override { return inner_->scan(prefix, visitor); }

  Status put(BytesView key, BytesView value) override {
    return impl_->log_change(impl_->lock_key(name(), key), [&](LoggedChangeWriter& changes) {
      Status status = inner_->put(key, value);
      if (status.is_ok()) changes.put(name(), key, value);
      return status;
    });
  }

  Status remove(BytesView key) override {
    return impl_->log_change(impl_->lock_key(name(), key), [&](LoggedChangeWriter& changes) {
      Status status = inner_->remove(key);
      if (status.is_ok()) changes.remove(name(), key);
      return status;
    });
  }

  Status update(BytesView key, const UpdateFunction& fn) override {
    return impl_->log_change(impl_->lock_key(name(), key), [&](LoggedChangeWriter& changes) {
      std::optional<std::string> result;
      Status status = inner_->update(key, [&](std::optional<BytesView> current) {
        result = fn(current);  // a backend may call it again after a conflict: the last one counts
        return result;
      });
      if (!status.is_ok()) return status;
      if (result.has_value()) {
        changes.put(name(), key, *result);
      } else {
        changes.remove(name(), key);
      }
      return status;
    });
  }

  Status clear() override {
    return impl_->log_change(impl_->lock_all(), [&](LoggedChangeWriter& changes) {
      Status status = inner_->clear();
      if (status.is_ok()) changes.clear(name());
      return status;
    });
  }

 private:
  std::shared_ptr<LoggedBackend::Impl> impl_;
  std::shared_ptr<StateColumn> inner_;
};

}  // namespace

Result<std::shared_ptr<LoggedBackend>> LoggedBackend::open(std::shared_ptr<StateBackend> inner,
                                                           std::shared_ptr<Wal> wal,
                                                           const LoggedBackendOptions& options) {
  if (inner == nullptr) return Status::invalid_argument("LoggedBackend::open: the inner backend is null");
  if (wal == nullptr) return Status::invalid_argument("LoggedBackend::open: the write-ahead log is null");
  if (options.lock_stripes < 1 || options.lock_stripes > 65536) {
    return Status::invalid_argument("LoggedBackendOptions.lock_stripes is " + std::to_string(options.lock_stripes) +
                                    "; use 1..65536 (default 256)");
  }
  if (options.record_type == 0) {
    return Status::invalid_argument("LoggedBackendOptions.record_type 0 is reserved by the log; use 1..255");
  }
  auto impl = std::make_shared<Impl>(std::move(inner), std::move(wal), options);
  return std::shared_ptr<LoggedBackend>(new LoggedBackend(std::move(impl)));
}

LoggedBackend::LoggedBackend(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {
  inner_ = &impl_->inner();
  wal_ = &impl_->wal();
}

LoggedBackend::~LoggedBackend() = default;

Result<uint64_t> LoggedBackend::replay(uint64_t from_sequence) {
  uint64_t applied = 0;
  Status status = wal_->replay(from_sequence, [&](const WalRecordView& record) -> Status {
    if (record.type != impl_->options().record_type) return Status::ok();  // another user's record
    ++applied;
    return wal::decode_logged_changes(record.payload, record.sequence,
                                      [&](const LoggedChange& change) { return impl_->apply(change, record.sequence); });
  });
  if (!status.is_ok()) return status;
  return applied;
}

Result<PositionedSnapshot> LoggedBackend::snapshot_at() {
  auto locks = impl_->lock_all();
  PositionedSnapshot positioned;
  positioned.log_position = wal_->statistics().last_sequence;
  Result<std::unique_ptr<BackendSnapshot>> snapshot = inner_->snapshot();
  if (!snapshot.is_ok()) return snapshot.status();
  positioned.snapshot = std::move(snapshot).value();
  return positioned;
}

namespace {

// The inner backend's snapshot, answering log_position().
class LoggedSnapshot final : public BackendSnapshot {
 public:
  LoggedSnapshot(std::unique_ptr<BackendSnapshot> inner, uint64_t position)
      : inner_(std::move(inner)), position_(position) {}
  const std::vector<std::string>& columns() const override { return inner_->columns(); }
  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override {
    return inner_->iterate(column, prefix);
  }
  Result<bool> get(std::string_view column, BytesView key, std::string* value) override {
    return inner_->get(column, key, value);
  }
  Status get_many(std::string_view column, std::span<const std::string> keys,
                  const std::function<void(size_t index, BytesView value)>& found) override {
    return inner_->get_many(column, keys, found);
  }
  Result<std::unique_ptr<SnapshotIterator>> iterate_once(std::string_view column) override {
    return inner_->iterate_once(column);
  }
  std::optional<uint64_t> log_position() const override { return position_; }

 private:
  std::unique_ptr<BackendSnapshot> inner_;
  uint64_t position_;
};

}  // namespace

Result<std::unique_ptr<BackendSnapshot>> LoggedBackend::snapshot() {
  Result<PositionedSnapshot> positioned = snapshot_at();
  if (!positioned.is_ok()) return positioned.status();
  return std::unique_ptr<BackendSnapshot>(
      std::make_unique<LoggedSnapshot>(std::move(positioned->snapshot), positioned->log_position));
}

namespace {

// The inner backend's tracker; its snapshots are taken under every stripe lock, like
// snapshot_at(), so that they answer log_position().
class LoggedChangeTracker final : public ChangeTracker {
 public:
  LoggedChangeTracker(ChangeTracker& inner, std::shared_ptr<LoggedBackend::Impl> impl)
      : inner_(inner), impl_(std::move(impl)) {}

  Result<TrackedSnapshot> snapshot_with_changes() override {
    TrackedSnapshot tracked;
    uint64_t position = 0;
    {
      auto locks = impl_->lock_all();
      position = impl_->wal().statistics().last_sequence;
      Result<TrackedSnapshot> inner = inner_.snapshot_with_changes();
      if (!inner.is_ok()) return inner.status();
      tracked = std::move(inner).value();
    }
    tracked.snapshot = std::make_unique<LoggedSnapshot>(std::move(tracked.snapshot), position);
    return tracked;
  }
  using ChangeTracker::confirm_changes;
  Status confirm_changes(uint64_t epoch, std::string base_label) override {
    return inner_.confirm_changes(epoch, std::move(base_label));
  }
  Status reset_changes() override { return inner_.reset_changes(); }
  uint64_t tracked_keys() const override { return inner_.tracked_keys(); }

 private:
  ChangeTracker& inner_;
  std::shared_ptr<LoggedBackend::Impl> impl_;
};

}  // namespace

ChangeTracker* LoggedBackend::change_tracker() {
  std::call_once(tracker_once_, [this] {
    if (ChangeTracker* inner = inner_->change_tracker()) tracker_ = std::make_unique<LoggedChangeTracker>(*inner, impl_);
  });
  return tracker_.get();
}

BackendCapabilities LoggedBackend::capabilities() const {
  BackendCapabilities capabilities = inner_->capabilities();
  capabilities.persistent = true;  // the log keeps every acknowledged change
  return capabilities;
}

Result<std::shared_ptr<StateColumn>> LoggedBackend::column(std::string_view name) {
  Result<std::shared_ptr<StateColumn>> inner = inner_->column(name);
  if (!inner.is_ok()) return inner.status();
  if (Status status = impl_->note_column(name, false); !status.is_ok()) return status;
  return std::shared_ptr<StateColumn>(std::make_shared<LoggedColumn>(impl_, std::move(inner).value()));
}

Result<std::shared_ptr<StateColumn>> LoggedBackend::column_with_options(std::string_view name,
                                                                        const ColumnOptions& options) {
  Result<std::shared_ptr<StateColumn>> inner = inner_->column_with_options(name, options);
  if (!inner.is_ok()) return inner.status();
  if (Status status = impl_->note_column(name, options.values_carry_expiry); !status.is_ok()) return status;
  return std::shared_ptr<StateColumn>(std::make_shared<LoggedColumn>(impl_, std::move(inner).value()));
}

Status LoggedBackend::drop_column(std::string_view name) {
  return impl_->log_change(impl_->lock_all(), [&](LoggedChangeWriter& changes) {
    Status status = inner_->drop_column(name);
    if (!status.is_ok()) return status;
    changes.drop_column(name);
    impl_->forget_column(name);
    return status;
  });
}

Status LoggedBackend::write(const WriteBatch& batch) {
  if (batch.empty()) return inner_->write(batch);
  std::vector<uint32_t> stripes;
  stripes.reserve(batch.size());
  for (const WriteBatch::Operation& operation : batch.operations()) {
    stripes.push_back(impl_->stripe_of(operation.column, operation.key));
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  return impl_->log_change(impl_->lock_keys(stripes), [&](LoggedChangeWriter& changes) {
    Status status = inner_->write(batch);
    if (!status.is_ok()) return status;
    for (const WriteBatch::Operation& operation : batch.operations()) {
      if (operation.type == WriteBatch::OperationType::kPut) {
        changes.put(operation.column, operation.key, operation.value);
      } else {
        changes.remove(operation.column, operation.key);
      }
    }
    return status;
  });
}

Status LoggedBackend::flush() {
  if (Status status = wal_->sync(); !status.is_ok()) return status;
  return inner_->flush();
}

}  // namespace streamstate
