// The backend registry: turns a StateConfig into an open StateBackend, by the config's backend
// kind. The built-in kinds are "memory", and "rocksdb" and "redis" when this build has them
// (streamstate/config.h); a user registers their own kind with a factory, and from then on a
// config can name it like a built-in one:
//
//   register_backend("ordered_map", [](const StateConfig& config) -> Result<std::unique_ptr<StateBackend>> {
//     BackendOptionReader options(config);                    // state_config.h
//     if (Status unknown = options.finish(); !unknown.is_ok()) return unknown;
//     return my::open_ordered_map_backend();
//   });
//   StateConfig config = StateConfig::session();
//   config.backend = "ordered_map";
//   Result<std::unique_ptr<StateBackend>> backend = open_backend(config);
//
// How each built-in kind uses the config (backend_options keys, ttl, cleanup_interval,
// max_entries) is in docs/configuration.md. In short: memory applies ttl, cleanup_interval and
// max_entries itself; rocksdb and redis keep TTL per state (StateConfig::ttl_config()) and, when
// cleanup_interval is set, come wrapped in an ExpirySweepingBackend that removes expired
// entries of expiring columns at that interval. rocksdb takes its durability from
// backend_options too: "sync" (none | every_write), "wal_recovery" (fail_on_corruption |
// point_in_time), "enable_wal" and "verify_checksums_on_open" (StateConfigBuilder::sync() and
// friends set them; a typo is an InvalidArgument naming the valid values).
//
// Thread-safety: a BackendRegistry (and so the process-wide one behind the free functions) may
// be used from any thread; factories may run concurrently and must be thread-safe themselves.
// An ExpirySweepingBackend is as thread-safe as the backend it wraps.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/clock.h"
#include "streamstate/state_config.h"
#include "streamstate/status.h"

namespace streamstate {

// Opens a backend for a config whose `backend` names this factory's kind. The config has passed
// StateConfig::validate(). Reject unknown backend_options (BackendOptionReader::finish()).
using BackendFactory = std::function<Result<std::unique_ptr<StateBackend>>(const StateConfig& config)>;

class BackendRegistry {
 public:
  // A registry holding the built-in kinds.
  BackendRegistry();

  // The process-wide registry used by the free functions below.
  static BackendRegistry& global();

  // Adds a kind. InvalidArgument for a kind that is not 1..64 characters of [A-Za-z0-9_.-] or an
  // empty factory; AlreadyExists when the kind is registered (built-ins included).
  Status register_backend(std::string kind, BackendFactory factory);
  // Removes a kind registered with register_backend; NotFound when it is not registered.
  Status unregister_backend(std::string_view kind);
  // Registered kinds, sorted.
  std::vector<std::string> kinds() const;
  bool contains(std::string_view kind) const;

  // Validates `config` and opens a backend of its kind. InvalidArgument for an invalid config,
  // an unknown kind (listing the registered kinds) and unknown or ill-typed backend_options
  // (listing the accepted keys); otherwise the factory's errors.
  Result<std::unique_ptr<StateBackend>> open(const StateConfig& config) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, BackendFactory, std::less<>> factories_;
};

// BackendRegistry::global().register_backend(...).
Status register_backend(std::string kind, BackendFactory factory);
// BackendRegistry::global().open(config).
Result<std::unique_ptr<StateBackend>> open_backend(const StateConfig& config);
// BackendRegistry::global().kinds().
std::vector<std::string> registered_backend_kinds();

// Wraps a backend so that expired entries of its expiring columns (those opened through this
// wrapper with ColumnOptions::values_carry_expiry; values start with the expiry header, see
// docs/formats.md) are removed every `interval`, also when nobody reads them again. Used for
// rocksdb and redis by the registry; a custom backend's factory may use it too (through
// with_expiry_sweeper). Every other call is forwarded to the wrapped backend unchanged, and
// the column handles it returns are the wrapped backend's own, so reads and writes cost nothing
// extra. A removal re-checks the entry inside StateColumn::update, so a value rewritten
// meanwhile is never lost.
class ExpirySweepingBackend final : public StateBackend {
 public:
  // Wraps `backend` and starts the sweeping thread. InvalidArgument for a null backend or an
  // interval that is not positive; IoError when the thread cannot be started. `clock` decides
  // what has expired (use the clock the state's readers use); null = system_clock(). The
  // interval itself is real time.
  static Result<std::unique_ptr<ExpirySweepingBackend>> open(std::unique_ptr<StateBackend> backend,
                                                             std::chrono::milliseconds interval,
                                                             std::shared_ptr<const Clock> clock);
  // Stops the thread and closes the wrapped backend.
  ~ExpirySweepingBackend() override;
  ExpirySweepingBackend(const ExpirySweepingBackend&) = delete;
  ExpirySweepingBackend& operator=(const ExpirySweepingBackend&) = delete;

  // Sweeps every expiring column now; returns how many entries were removed.
  Result<uint64_t> sweep_expired();
  // The outcome of the last sweep (by the thread or sweep_expired()); OK before the first.
  // The thread keeps sweeping after a failure (e.g. a Redis server that is briefly away).
  Status last_sweep_status() const;
  // Names of the columns being swept, sorted.
  std::vector<std::string> expiring_columns() const;
  StateBackend& wrapped() { return *backend_; }

  std::string_view kind() const override { return backend_->kind(); }
  BackendCapabilities capabilities() const override { return backend_->capabilities(); }
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override {
    return backend_->column(name);
  }
  Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name,
                                                           const ColumnOptions& options) override;
  Result<std::vector<std::string>> list_columns() override { return backend_->list_columns(); }
  Status drop_column(std::string_view name) override;
  Status write(const WriteBatch& batch) override { return backend_->write(batch); }
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override { return backend_->snapshot(); }
  // The wrapped backend's figures, with `expirations` raised by the entries swept here.
  BackendStatistics statistics() const override;
  Status flush() override { return backend_->flush(); }
  // Stops the sweeping thread, then closes the wrapped backend. Idempotent.
  Status close() override;

 private:
  ExpirySweepingBackend(std::unique_ptr<StateBackend> backend, std::chrono::milliseconds interval,
                        std::shared_ptr<const Clock> clock);
  void run();
  void stop_thread();
  Result<uint64_t> sweep_column(const std::shared_ptr<StateColumn>& column);

  const std::unique_ptr<StateBackend> backend_;
  const std::chrono::milliseconds interval_;
  const std::shared_ptr<const Clock> clock_;

  mutable std::mutex mutex_;  // guards columns_, stopping_, last_status_
  std::map<std::string, std::shared_ptr<StateColumn>, std::less<>> columns_;
  bool stopping_ = false;
  Status last_status_;
  std::condition_variable wake_;
  std::mutex sweep_mutex_;  // one sweep at a time (thread or sweep_expired())
  std::atomic<uint64_t> swept_{0};
  std::thread thread_;
};

// `backend` wrapped in an ExpirySweepingBackend when `interval` is positive, unchanged when it
// is 0. InvalidArgument for a negative interval or a null backend.
Result<std::unique_ptr<StateBackend>> with_expiry_sweeper(std::unique_ptr<StateBackend> backend,
                                                          std::chrono::milliseconds interval,
                                                          std::shared_ptr<const Clock> clock);

}  // namespace streamstate
