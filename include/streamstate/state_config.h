// StateConfig: one value that says which backend keyed state lives in and how long it lives:
// time to live, how often expired entries are swept away, and how many entries the memory
// backend keeps. Four presets cover the usual cases; StateConfigBuilder makes custom ones and
// refuses nonsense. open_backend (backend_registry.h) turns a config into a StateBackend, and
// ttl_config() gives the matching per-state TTL for KeyedStateStore descriptors and StateAccess.
//
//   StateConfig config = StateConfig::session();                 // 30 min TTL, sweep every 5 min
//   config.backend = "rocksdb";
//   config.backend_options = {{"path", "/var/lib/app/state"}};
//   auto backend = open_backend(config);                          // backend_registry.h
//
//   Result<StateConfig> custom = StateConfig::builder()
//       .ttl(std::chrono::minutes(10)).cleanup_interval(std::chrono::minutes(1)).max_entries(5000)
//       .build();                                                 // errors say what to change
//
//   // RocksDB durability: fsync every write, fail (never drop) on a damaged log.
//   Result<StateConfig> durable = StateConfigBuilder(StateConfig::session())
//       .backend("rocksdb").backend_option("path", "/var/lib/app/state")
//       .sync(SyncPolicy::kEveryWrite).wal_recovery(WalRecovery::kFailOnCorruption).build();
//
// The full reference (fields, presets, rules, backend_options per backend) is
// docs/configuration.md.
//
// Thread-safety: StateConfig and StateConfigBuilder are plain values. BackendOptionReader is
// used by one thread (a backend factory) at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "streamstate/clock.h"
#include "streamstate/durability.h"
#include "streamstate/status.h"
#include "streamstate/ttl.h"

namespace streamstate {

class StateConfigBuilder;

struct StateConfig {
  // The registered backend kind that open_backend() opens: "memory", "rocksdb", "redis" (when
  // built; see streamstate/config.h), or a kind registered with register_backend().
  // Default: "memory".
  std::string backend = "memory";
  // Settings of that backend, as text (so a config can come from a file or the command line);
  // the accepted keys per backend are listed in docs/configuration.md, e.g. {"path": "/var/x"}
  // for rocksdb. Unknown keys and values that do not parse are errors. Default: empty.
  std::map<std::string, std::string> backend_options{};
  // Time to live of state after its last write; 0 = state never expires. Default: 0.
  std::chrono::milliseconds ttl{0};
  // How often expired entries are swept out of the backend; 0 = no sweeping. Needs a ttl and
  // must not exceed it. Default: 0.
  std::chrono::milliseconds cleanup_interval{0};
  // Most entries the memory backend keeps (least recently used are evicted beyond it);
  // 0 = no limit. Persistent backends (rocksdb, redis) are bounded by their storage and do not
  // evict. Default: 0.
  uint64_t max_entries = 0;
  // Source of time for the backend's TTL and its sweeping; set a ManualClock in tests.
  // Default: null = system_clock().
  std::shared_ptr<const Clock> clock{};

  // TTL 1 h, cleanup every 1 min, at most 10,000 entries.
  static StateConfig high_performance();
  // TTL 30 min, cleanup every 5 min, at most 1,000 entries.
  static StateConfig session();
  // TTL 5 min, cleanup every 30 s, at most 100 entries.
  static StateConfig short_lived();
  // TTL 7 days, cleanup every 1 h, at most 100,000 entries.
  static StateConfig long_lived();
  // An empty builder (memory backend, nothing set); see StateConfigBuilder.
  static StateConfigBuilder builder();

  // InvalidArgument saying what to change when: the backend name is empty or not of
  // [A-Za-z0-9_.-]; a duration is negative; cleanup_interval is set but ttl is 0; ttl is set
  // but cleanup_interval is 0 (expired entries would stay stored until read); cleanup_interval
  // is longer than ttl; for backend "rocksdb", a durability option in backend_options ("sync",
  // "wal_recovery", "enable_wal", "verify_checksums_on_open") whose value does not parse, or
  // sync every_write with enable_wal false; for "memory" and "redis", any of those keys (they
  // keep no write-ahead log of ours). A config without TTL (ttl = cleanup_interval = 0) is valid.
  Status validate() const;

  // The per-state TTL matching this config: ttl with Flink's defaults (refreshed on create and
  // write, expired values never returned, every cleanup strategy on). Disabled when ttl is 0.
  StateTtlConfig ttl_config() const;
};

// Fluent construction of an expiring StateConfig. build() requires a ttl, a cleanup interval
// and a size limit, all positive, and the cleanup interval at most the ttl; each error names
// the field and what to change (for state that never expires, use StateConfig{} directly).
class StateConfigBuilder {
 public:
  // Starts from `base` (default: StateConfig{}, where ttl, cleanup_interval and max_entries
  // are 0 and so must be set), e.g. StateConfigBuilder(StateConfig::session()).max_entries(50).
  explicit StateConfigBuilder(StateConfig base = {}) : config_(std::move(base)) {}

  StateConfigBuilder& backend(std::string kind) {
    config_.backend = std::move(kind);
    return *this;
  }
  // Sets one backend option (replacing an earlier value of the same key).
  StateConfigBuilder& backend_option(std::string key, std::string value) {
    config_.backend_options[std::move(key)] = std::move(value);
    return *this;
  }
  StateConfigBuilder& ttl(std::chrono::milliseconds ttl) {
    config_.ttl = ttl;
    return *this;
  }
  StateConfigBuilder& cleanup_interval(std::chrono::milliseconds interval) {
    config_.cleanup_interval = interval;
    return *this;
  }
  StateConfigBuilder& max_entries(uint64_t max_entries) {
    config_.max_entries = max_entries;
    return *this;
  }
  StateConfigBuilder& clock(std::shared_ptr<const Clock> clock) {
    config_.clock = std::move(clock);
    return *this;
  }
  // Durability of a backend with a write-ahead log (rocksdb; see durability.h): set as the
  // backend_options "sync", "wal_recovery" and "verify_checksums_on_open". The defaults (when
  // not set) are none, fail_on_corruption and false.
  StateConfigBuilder& sync(SyncPolicy policy) {
    return backend_option("sync", std::string(sync_policy_name(policy)));
  }
  StateConfigBuilder& wal_recovery(WalRecovery recovery) {
    return backend_option("wal_recovery", std::string(wal_recovery_name(recovery)));
  }
  StateConfigBuilder& verify_checksums_on_open(bool verify) {
    return backend_option("verify_checksums_on_open", verify ? "true" : "false");
  }

  // The config, or InvalidArgument for ttl 0, cleanup_interval 0, cleanup_interval above ttl,
  // max_entries 0, or anything StateConfig::validate() rejects (e.g. a durability option on a
  // backend without a write-ahead log).
  Result<StateConfig> build() const;

 private:
  StateConfig config_;
};

// "1500 ms", "30 s", "5 min", "1 h", "7 d": the largest unit that divides the duration.
std::string format_duration(std::chrono::milliseconds duration);

// Reads typed values out of StateConfig::backend_options for a backend factory, and rejects
// keys the factory never asked for. Built-in factories use it; a custom backend's factory can
// too, so its users get the same errors:
//
//   BackendOptionReader options(config);
//   auto path = options.required_string("path");            // InvalidArgument when missing
//   auto cache = options.get_uint64("cache_bytes", 1 << 20, 1, UINT64_MAX);
//   if (Status unknown = options.finish(); !unknown.is_ok()) return unknown;
//
// Errors name the backend, the key, the value and what is expected; finish() lists every key
// the factory asked for.
class BackendOptionReader {
 public:
  explicit BackendOptionReader(const StateConfig& config)
      : kind_(config.backend), options_(config.backend_options) {}

  // The text value, or `fallback` when the key is absent.
  std::string get_string(std::string_view key, std::string fallback);
  // The text value; InvalidArgument naming the key (and what it is for) when absent or empty.
  Result<std::string> required_string(std::string_view key, std::string_view purpose);
  // A decimal integer in [min, max], or `fallback` when absent.
  Result<uint64_t> get_uint64(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max);
  // "true"/"false"/"1"/"0" (any case), or `fallback` when absent.
  Result<bool> get_bool(std::string_view key, bool fallback);
  // A name sync_policy_name() gives, or `fallback` when absent.
  Result<SyncPolicy> get_sync_policy(std::string_view key, SyncPolicy fallback);
  // A name wal_recovery_name() gives, or `fallback` when absent.
  Result<WalRecovery> get_wal_recovery(std::string_view key, WalRecovery fallback);

  // InvalidArgument listing the unknown keys and the accepted ones when backend_options holds
  // a key no getter asked for.
  Status finish() const;

 private:
  const std::string* find(std::string_view key);
  Status ill_typed(std::string_view key, const std::string& value, std::string_view expected) const;

  std::string kind_;
  const std::map<std::string, std::string>& options_;
  std::set<std::string, std::less<>> accepted_;
};

}  // namespace streamstate
