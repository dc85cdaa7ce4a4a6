// StateConfig presets and validation, the builder's stricter rules, and BackendOptionReader.
#include "streamstate/state_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <system_error>

namespace streamstate {
namespace {

using std::chrono::milliseconds;

constexpr size_t kMaxBackendKindLength = 64;

StateConfig preset(milliseconds ttl, milliseconds cleanup_interval, uint64_t max_entries) {
  StateConfig config;
  config.ttl = ttl;
  config.cleanup_interval = cleanup_interval;
  config.max_entries = max_entries;
  return config;
}

bool valid_kind_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

Status validate_backend_kind(const std::string& kind) {
  if (kind.empty()) {
    return Status::invalid_argument(
        "StateConfig.backend is empty: name a registered backend kind such as "
        "\"memory\", \"rocksdb\" or \"redis\"");
  }
  if (kind.size() > kMaxBackendKindLength || !std::all_of(kind.begin(), kind.end(), valid_kind_character)) {
    return Status::invalid_argument("StateConfig.backend \"" + kind +
                                    "\" is not a backend kind: use 1..64 characters of [A-Za-z0-9_.-]");
  }
  return Status::ok();
}

// "true"/"false"/"1"/"0" in any case.
std::optional<bool> parse_bool(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  return std::nullopt;
}

// The backend_options keys of a backend with a write-ahead log (rocksdb).
constexpr std::string_view kDurabilityKeys[] = {"sync", "wal_recovery", "enable_wal", "verify_checksums_on_open"};

std::string option_text(std::string_view key, const std::string& value) {
  return "StateConfig.backend_options[\"" + std::string(key) + "\"] is \"" + value + "\"";
}

Status validate_rocksdb_durability(const std::map<std::string, std::string>& options) {
  bool every_write = false;
  bool without_wal = false;
  if (auto it = options.find("sync"); it != options.end()) {
    Result<SyncPolicy> policy = parse_sync_policy(it->second);
    if (!policy.is_ok()) return Status::invalid_argument(option_text("sync", it->second) + ": expected none or every_write");
    every_write = policy.value() == SyncPolicy::kEveryWrite;
  }
  if (auto it = options.find("wal_recovery"); it != options.end() && !parse_wal_recovery(it->second).is_ok()) {
    return Status::invalid_argument(option_text("wal_recovery", it->second) +
                                    ": expected fail_on_corruption or point_in_time");
  }
  for (std::string_view key : {std::string_view("enable_wal"), std::string_view("verify_checksums_on_open")}) {
    auto it = options.find(std::string(key));
    if (it == options.end()) continue;
    const std::optional<bool> flag = parse_bool(it->second);
    if (!flag.has_value()) return Status::invalid_argument(option_text(key, it->second) + ": expected true, false, 1 or 0");
    if (key == "enable_wal") without_wal = !*flag;
  }
  if (every_write && without_wal) {
    return Status::invalid_argument(
        "StateConfig.backend_options sync is every_write but enable_wal is false: syncing each write "
        "needs the write-ahead log; enable it or use sync none");
  }
  return Status::ok();
}

// The durability keys are rocksdb's; memory and redis would reject them at open, so say why now.
Status validate_durability(const std::string& backend, const std::map<std::string, std::string>& options) {
  if (backend == "rocksdb") return validate_rocksdb_durability(options);
  if (backend != "memory" && backend != "redis") return Status::ok();  // a custom kind decides itself
  for (std::string_view key : kDurabilityKeys) {
    if (!options.contains(std::string(key))) continue;
    const std::string why = backend == "memory"
                                ? "the memory backend keeps nothing on disk"
                                : "the redis backend's durability is the Redis server's appendonly/appendfsync "
                                  "setting (docs/backends/redis.md)";
    return Status::invalid_argument("StateConfig.backend_options[\"" + std::string(key) + "\"] is set for backend '" +
                                    backend + "', but " + why + "; " + std::string(key) +
                                    " applies to rocksdb only: remove it or use backend \"rocksdb\"");
  }
  return Status::ok();
}

std::string join(const std::set<std::string, std::less<>>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string format_duration(milliseconds duration) {
  struct Unit {
    int64_t millis;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "min"}, {1'000, "s"}};
  const int64_t count = duration.count();
  if (count != 0) {
    for (const Unit& unit : kUnits) {
      if (count % unit.millis == 0) return std::to_string(count / unit.millis) + " " + unit.name;
    }
  }
  return std::to_string(count) + " ms";
}

StateConfig StateConfig::high_performance() {
  return preset(std::chrono::hours(1), std::chrono::minutes(1), 10'000);
}

StateConfig StateConfig::session() {
  return preset(std::chrono::minutes(30), std::chrono::minutes(5), 1'000);
}

StateConfig StateConfig::short_lived() {
  return preset(std::chrono::minutes(5), std::chrono::seconds(30), 100);
}

StateConfig StateConfig::long_lived() { return preset(std::chrono::days(7), std::chrono::hours(1), 100'000); }

StateConfigBuilder StateConfig::builder() { return StateConfigBuilder(); }

Status StateConfig::validate() const {
  if (Status kind = validate_backend_kind(backend); !kind.is_ok()) return kind;
  if (ttl.count() < 0) {
    return Status::invalid_argument("ttl is negative (" + format_duration(ttl) +
                                    "): use a positive duration, or 0 for state that never expires");
  }
  if (cleanup_interval.count() < 0) {
    return Status::invalid_argument("cleanup_interval is negative (" + format_duration(cleanup_interval) +
                                    "): use a positive duration of at most the ttl");
  }
  if (cleanup_interval.count() > 0 && ttl.count() == 0) {
    return Status::invalid_argument("cleanup_interval " + format_duration(cleanup_interval) +
                                    " is set but ttl is 0, so nothing ever expires: set a ttl of at least " +
                                    format_duration(cleanup_interval) + " or set cleanup_interval to 0");
  }
  if (ttl.count() > 0 && cleanup_interval.count() == 0) {
    return Status::invalid_argument("ttl " + format_duration(ttl) +
                                    " is set but cleanup_interval is 0, so expired entries would stay stored "
                                    "until read: set cleanup_interval to a positive duration of at most " +
                                    format_duration(ttl));
  }
  if (cleanup_interval > ttl) {
    return Status::invalid_argument("cleanup_interval " + format_duration(cleanup_interval) +
                                    " is longer than ttl " + format_duration(ttl) +
                                    ": lower cleanup_interval or raise ttl");
  }
  return validate_durability(backend, backend_options);
}

StateTtlConfig StateConfig::ttl_config() const {
  StateTtlConfig config;
  config.ttl = ttl.count() > 0 ? ttl : milliseconds(0);
  return config;
}

Result<StateConfig> StateConfigBuilder::build() const {
  if (config_.ttl.count() == 0) {
    return Status::invalid_argument(
        "ttl is 0: call ttl() with a positive duration (e.g. std::chrono::minutes(30)); "
        "for state that never expires use StateConfig{} without the builder");
  }
  if (config_.cleanup_interval.count() == 0) {
    return Status::invalid_argument(
        "cleanup_interval is 0: call cleanup_interval() with a positive duration of "
        "at most the ttl (" +
        format_duration(config_.ttl) + ")");
  }
  if (config_.max_entries == 0) {
    return Status::invalid_argument(
        "max_entries is 0: call max_entries() with the most entries to keep "
        "(at least 1); for no limit use StateConfig{} without the builder");
  }
  if (Status status = config_.validate(); !status.is_ok()) return status;
  return config_;
}

// ---- BackendOptionReader

const std::string* BackendOptionReader::find(std::string_view key) {
  accepted_.emplace(key);
  auto it = options_.find(std::string(key));
  return it == options_.end() ? nullptr : &it->second;
}

Status BackendOptionReader::ill_typed(std::string_view key, const std::string& value,
                                      std::string_view expected) const {
  return Status::invalid_argument("backend '" + kind_ + "': backend_options[\"" + std::string(key) +
                                  "\"] is \"" + value + "\"; expected " + std::string(expected));
}

std::string BackendOptionReader::get_string(std::string_view key, std::string fallback) {
  const std::string* value = find(key);
  return value == nullptr ? std::move(fallback) : *value;
}

Result<std::string> BackendOptionReader::required_string(std::string_view key, std::string_view purpose) {
  const std::string* value = find(key);
  if (value == nullptr || value->empty()) {
    return Status::invalid_argument("backend '" + kind_ + "' needs backend_options[\"" + std::string(key) +
                                    "\"] (" + std::string(purpose) +
                                    "); add it to StateConfig.backend_options");
  }
  return *value;
}

Result<uint64_t> BackendOptionReader::get_uint64(std::string_view key, uint64_t fallback, uint64_t min,
                                                 uint64_t max) {
  const std::string* value = find(key);
  if (value == nullptr) return fallback;
  uint64_t parsed = 0;
  const char* end = value->data() + value->size();
  const auto [stop, error] = std::from_chars(value->data(), end, parsed);
  if (value->empty() || error != std::errc() || stop != end || parsed < min || parsed > max) {
    return ill_typed(key, *value, "a decimal integer in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return parsed;
}

Result<bool> BackendOptionReader::get_bool(std::string_view key, bool fallback) {
  const std::string* value = find(key);
  if (value == nullptr) return fallback;
  const std::optional<bool> parsed = parse_bool(*value);
  if (!parsed.has_value()) return ill_typed(key, *value, "true, false, 1 or 0");
  return *parsed;
}

Result<SyncPolicy> BackendOptionReader::get_sync_policy(std::string_view key, SyncPolicy fallback) {
  const std::string* value = find(key);
  if (value == nullptr) return fallback;
  Result<SyncPolicy> parsed = parse_sync_policy(*value);
  if (!parsed.is_ok()) return ill_typed(key, *value, "none or every_write");
  return parsed;
}

Result<WalRecovery> BackendOptionReader::get_wal_recovery(std::string_view key, WalRecovery fallback) {
  const std::string* value = find(key);
  if (value == nullptr) return fallback;
  Result<WalRecovery> parsed = parse_wal_recovery(*value);
  if (!parsed.is_ok()) return ill_typed(key, *value, "fail_on_corruption or point_in_time");
  return parsed;
}

Status BackendOptionReader::finish() const {
  std::set<std::string, std::less<>> unknown;
  for (const auto& entry : options_) {
    if (!accepted_.contains(entry.first)) unknown.insert(entry.first);
  }
  if (unknown.empty()) return Status::ok();
  return Status::invalid_argument("backend '" + kind_ + "' does not accept backend_options " + join(unknown) +
                                  "; accepted keys: " + join(accepted_));
}

}  // namespace streamstate
