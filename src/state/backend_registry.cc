// The backend registry, the factories of the built-in kinds, and ExpirySweepingBackend.
#include "streamstate/backend_registry.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "core/expiring_value.h"
#include "streamstate/compression.h"
#include "streamstate/config.h"
#include "streamstate/memory.h"
#include "util/status_macros.h"

#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#endif
#if STREAMSTATE_HAS_REDIS
#include "streamstate/redis.h"
#endif

namespace streamstate {
namespace {

// Widens a factory's concrete backend to the registry's result type.
template <typename Backend>
Result<std::unique_ptr<StateBackend>> widen(Result<std::unique_ptr<Backend>> opened) {
  if (!opened.is_ok()) return opened.status();
  return std::unique_ptr<StateBackend>(std::move(opened).value());
}

Result<std::unique_ptr<StateBackend>> open_memory(const StateConfig& config) {
  BackendOptionReader reader(config);
  MemoryBackendOptions options;
  STREAMSTATE_ASSIGN_OR_RETURN(const uint64_t shards,
                               reader.get_uint64("shard_count", options.shard_count, 1, 4096));
  options.shard_count = static_cast<uint32_t>(shards);
  STREAMSTATE_ASSIGN_OR_RETURN(options.max_bytes, reader.get_uint64("max_bytes", 0, 0, UINT64_MAX));
  STREAMSTATE_ASSIGN_OR_RETURN(options.refresh_ttl_on_read, reader.get_bool("refresh_ttl_on_read", false));
  STREAMSTATE_RETURN_IF_ERROR(reader.finish());
  options.ttl = config.ttl;
  options.cleanup_interval = config.cleanup_interval;
  options.max_entries = config.max_entries;
  options.clock = config.clock;
  return widen(MemoryBackend::open(options));
}

#if STREAMSTATE_HAS_ROCKSDB
Result<CompressionType> read_compression(BackendOptionReader& reader, std::string_view key,
                                         CompressionType fallback, const StateConfig& config) {
  const std::string text = reader.get_string(key, std::string(compression_name(fallback)));
  Result<CompressionType> parsed = parse_compression(text);
  if (parsed.is_ok()) return parsed;
  return Status::invalid_argument("backend '" + config.backend + "': backend_options[\"" + std::string(key) +
                                  "\"] is \"" + text + "\"; expected none, lz4, snappy or zstd");
}

Result<std::unique_ptr<StateBackend>> open_rocksdb(const StateConfig& config) {
  BackendOptionReader reader(config);
  RocksDbBackendOptions options;
  STREAMSTATE_ASSIGN_OR_RETURN(options.path, reader.required_string("path", "the database directory"));
  STREAMSTATE_ASSIGN_OR_RETURN(
      options.block_cache_bytes,
      reader.get_uint64("block_cache_bytes", options.block_cache_bytes, 1, UINT64_MAX));
  STREAMSTATE_ASSIGN_OR_RETURN(
      options.write_buffer_bytes,
      reader.get_uint64("write_buffer_bytes", options.write_buffer_bytes, uint64_t{64} << 10, UINT64_MAX));
  STREAMSTATE_ASSIGN_OR_RETURN(options.compression,
                               read_compression(reader, "compression", options.compression, config));
  STREAMSTATE_ASSIGN_OR_RETURN(
      options.bottommost_compression,
      read_compression(reader, "bottommost_compression", options.bottommost_compression, config));
  STREAMSTATE_ASSIGN_OR_RETURN(options.enable_wal, reader.get_bool("enable_wal", options.enable_wal));
  STREAMSTATE_ASSIGN_OR_RETURN(options.sync, reader.get_sync_policy("sync", options.sync));
  STREAMSTATE_ASSIGN_OR_RETURN(options.wal_recovery, reader.get_wal_recovery("wal_recovery", options.wal_recovery));
  STREAMSTATE_ASSIGN_OR_RETURN(options.verify_checksums_on_open,
                               reader.get_bool("verify_checksums_on_open", options.verify_checksums_on_open));
  STREAMSTATE_ASSIGN_OR_RETURN(options.native_statistics,
                               reader.get_bool("native_statistics", options.native_statistics));
  STREAMSTATE_RETURN_IF_ERROR(reader.finish());
  // The compaction filter of expiring columns must judge expiry by the clock the state uses.
  options.clock = config.clock;
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StateBackend> backend, widen(RocksDbBackend::open(options)));
  return with_expiry_sweeper(std::move(backend), config.cleanup_interval, config.clock);
}
#endif

#if STREAMSTATE_HAS_REDIS
Result<std::unique_ptr<StateBackend>> open_redis(const StateConfig& config) {
  BackendOptionReader reader(config);
  RedisBackendOptions options;
  options.host = reader.get_string("host", options.host);
  STREAMSTATE_ASSIGN_OR_RETURN(const uint64_t port, reader.get_uint64("port", options.port, 1, 65535));
  options.port = static_cast<uint16_t>(port);
  options.password = reader.get_string("password", options.password);
  options.key_prefix = reader.get_string("key_prefix", options.key_prefix);
  STREAMSTATE_ASSIGN_OR_RETURN(const uint64_t database, reader.get_uint64("database", 0, 0, INT_MAX));
  options.database = static_cast<int>(database);
  STREAMSTATE_RETURN_IF_ERROR(reader.finish());
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StateBackend> backend, widen(RedisBackend::open(options)));
  return with_expiry_sweeper(std::move(backend), config.cleanup_interval, config.clock);
}
#endif

Status check_kind(const std::string& kind) {
  StateConfig probe;
  probe.backend = kind;
  return probe.validate();
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

// ---- BackendRegistry

BackendRegistry::BackendRegistry() {
  factories_.emplace("memory", open_memory);
#if STREAMSTATE_HAS_ROCKSDB
  factories_.emplace("rocksdb", open_rocksdb);
#endif
#if STREAMSTATE_HAS_REDIS
  factories_.emplace("redis", open_redis);
#endif
}

BackendRegistry& BackendRegistry::global() {
  static BackendRegistry registry;
  return registry;
}

Status BackendRegistry::register_backend(std::string kind, BackendFactory factory) {
  if (Status status = check_kind(kind); !status.is_ok()) return status.with_context("register_backend");
  if (!factory) return Status::invalid_argument("register_backend(\"" + kind + "\"): the factory is empty");
  std::lock_guard<std::mutex> lock(mutex_);
  if (factories_.contains(kind)) {
    return Status::already_exists(
        "backend kind '" + kind +
        "' is already registered; pick another name or unregister_backend it first");
  }
  factories_.emplace(std::move(kind), std::move(factory));
  return Status::ok();
}

Status BackendRegistry::unregister_backend(std::string_view kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = factories_.find(kind);
  if (it == factories_.end())
    return Status::not_found("backend kind '" + std::string(kind) + "' is not registered");
  factories_.erase(it);
  return Status::ok();
}

std::vector<std::string> BackendRegistry::kinds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> kinds;
  for (const auto& entry : factories_) kinds.push_back(entry.first);
  return kinds;
}

bool BackendRegistry::contains(std::string_view kind) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return factories_.find(kind) != factories_.end();
}

Result<std::unique_ptr<StateBackend>> BackendRegistry::open(const StateConfig& config) const {
  STREAMSTATE_RETURN_IF_ERROR(config.validate());
  BackendFactory factory;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = factories_.find(config.backend);
    if (it != factories_.end()) factory = it->second;
  }
  if (!factory) {
    return Status::invalid_argument("backend '" + config.backend + "' is not registered; registered kinds: " +
                                    join(kinds()) + " (register your own with register_backend)");
  }
  Result<std::unique_ptr<StateBackend>> opened = factory(config);
  if (opened.is_ok() && opened.value() == nullptr) {
    return Status::internal("the factory of backend '" + config.backend +
                            "' returned no backend and no error");
  }
  return opened;
}

Status register_backend(std::string kind, BackendFactory factory) {
  return BackendRegistry::global().register_backend(std::move(kind), std::move(factory));
}

Result<std::unique_ptr<StateBackend>> open_backend(const StateConfig& config) {
  return BackendRegistry::global().open(config);
}

std::vector<std::string> registered_backend_kinds() { return BackendRegistry::global().kinds(); }

// ---- ExpirySweepingBackend

ExpirySweepingBackend::ExpirySweepingBackend(std::unique_ptr<StateBackend> backend,
                                             std::chrono::milliseconds interval,
                                             std::shared_ptr<const Clock> clock)
    : backend_(std::move(backend)),
      interval_(interval),
      clock_(clock != nullptr ? std::move(clock) : system_clock()) {}

Result<std::unique_ptr<ExpirySweepingBackend>> ExpirySweepingBackend::open(
    std::unique_ptr<StateBackend> backend, std::chrono::milliseconds interval,
    std::shared_ptr<const Clock> clock) {
  if (backend == nullptr)
    return Status::invalid_argument("ExpirySweepingBackend: the backend to wrap is null");
  if (interval.count() <= 0) {
    return Status::invalid_argument("ExpirySweepingBackend: the sweep interval is " +
                                    format_duration(interval) + "; use a positive duration");
  }
  std::unique_ptr<ExpirySweepingBackend> sweeping(
      new ExpirySweepingBackend(std::move(backend), interval, std::move(clock)));
  try {
    sweeping->thread_ = std::thread([raw = sweeping.get()] { raw->run(); });
  } catch (const std::system_error& error) {
    return Status::io_error(std::string("could not start the expiry sweeping thread: ") + error.what() +
                            "; set cleanup_interval to 0");
  }
  return sweeping;
}

ExpirySweepingBackend::~ExpirySweepingBackend() { stop_thread(); }

void ExpirySweepingBackend::stop_thread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ExpirySweepingBackend::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    // The outcome is kept in last_sweep_status(); a failed pass is retried at the next interval.
    (void)sweep_expired();
    lock.lock();
  }
}

Result<std::shared_ptr<StateColumn>> ExpirySweepingBackend::column_with_options(
    std::string_view name, const ColumnOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column,
                               backend_->column_with_options(name, options));
  if (options.values_carry_expiry) {
    std::lock_guard<std::mutex> lock(mutex_);
    columns_.emplace(std::string(name), column);
  }
  return column;
}

Status ExpirySweepingBackend::drop_column(std::string_view name) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = columns_.find(name);
    if (it != columns_.end()) columns_.erase(it);
  }
  return backend_->drop_column(name);
}

BackendStatistics ExpirySweepingBackend::statistics() const {
  BackendStatistics statistics = backend_->statistics();
  statistics.expirations += swept_.load(std::memory_order_relaxed);
  return statistics;
}

Status ExpirySweepingBackend::close() {
  stop_thread();
  return backend_->close();
}

std::vector<std::string> ExpirySweepingBackend::expiring_columns() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  for (const auto& entry : columns_) names.push_back(entry.first);
  return names;
}

Status ExpirySweepingBackend::last_sweep_status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_status_;
}

Result<uint64_t> ExpirySweepingBackend::sweep_expired() {
  std::lock_guard<std::mutex> sweep_lock(sweep_mutex_);
  std::vector<std::shared_ptr<StateColumn>> columns;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& entry : columns_) columns.push_back(entry.second);
  }
  uint64_t removed = 0;
  Status status;
  for (const std::shared_ptr<StateColumn>& column : columns) {
    Result<uint64_t> swept = sweep_column(column);
    if (!swept.is_ok()) {
      status = swept.status().with_context("sweeping expired entries of column '" + column->name() + "'");
      break;
    }
    removed += *swept;
  }
  swept_.fetch_add(removed, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last_status_ = status;
  }
  if (!status.is_ok()) return status;
  return removed;
}

Result<uint64_t> ExpirySweepingBackend::sweep_column(const std::shared_ptr<StateColumn>& column) {
  const int64_t now = clock_->now_millis();
  uint64_t removed = 0;
  Status failure;
  // The visitor runs without backend locks held (StateColumn::scan), so it may update.
  Status scanned = column->scan("", [&](BytesView key, BytesView value) {
    const std::optional<int64_t> expiry = internal::read_expiry(value);
    // A value too short for its header is corrupt: left for the reader to report, not deleted.
    if (!expiry.has_value() || !internal::is_expired_at(*expiry, now)) return true;
    bool dropped = false;
    failure = column->update(key, [&](std::optional<BytesView> current) -> std::optional<std::string> {
      dropped = false;  // Redis may run the function again after a conflict
      if (!current.has_value()) return std::nullopt;
      const std::optional<int64_t> current_expiry = internal::read_expiry(*current);
      if (current_expiry.has_value() && internal::is_expired_at(*current_expiry, now)) {
        dropped = true;
        return std::nullopt;
      }
      return std::string(*current);  // rewritten since the scan saw it: keep it as it is
    });
    if (dropped && failure.is_ok()) ++removed;
    return failure.is_ok();
  });
  STREAMSTATE_RETURN_IF_ERROR(scanned);
  STREAMSTATE_RETURN_IF_ERROR(failure);
  return removed;
}

Result<std::unique_ptr<StateBackend>> with_expiry_sweeper(std::unique_ptr<StateBackend> backend,
                                                          std::chrono::milliseconds interval,
                                                          std::shared_ptr<const Clock> clock) {
  if (backend == nullptr) return Status::invalid_argument("with_expiry_sweeper: the backend is null");
  if (interval.count() < 0) {
    return Status::invalid_argument("with_expiry_sweeper: the interval is negative (" +
                                    format_duration(interval) +
                                    "); use 0 for no sweeping or a positive duration");
  }
  if (interval.count() == 0) return backend;
  return widen(ExpirySweepingBackend::open(std::move(backend), interval, std::move(clock)));
}

}  // namespace streamstate
