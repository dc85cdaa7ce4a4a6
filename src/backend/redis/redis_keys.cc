#include "backend/redis/redis_keys.h"

#include "core/printable.h"

#include <cstdio>
#include <utility>

namespace streamstate::internal {
namespace {

constexpr size_t kMaxPrefixLength = 64;

bool is_name_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

}  // namespace

RedisKeys::RedisKeys(std::string prefix)
    : prefix_(std::move(prefix)),
      columns_set_(prefix_ + ":columns"),
      snapshot_sequence_(prefix_ + ":snap-seq"),
      column_stem_(prefix_ + ":col:"),
      snapshot_stem_(prefix_ + ":snap:") {}

std::string RedisKeys::snapshot_copy(uint64_t snapshot_id, std::string_view column) const {
  return snapshot_stem_ + std::to_string(snapshot_id) + ":" + std::string(column);
}

Status validate_redis_options(const RedisBackendOptions& options) {
  if (options.host.empty()) {
    return Status::invalid_argument("RedisBackendOptions::host is empty: set the Redis server's address");
  }
  if (options.port == 0) {
    return Status::invalid_argument(
        "RedisBackendOptions::port is 0: set the Redis server's port (usually 6379)");
  }
  if (options.database < 0) {
    return Status::invalid_argument("RedisBackendOptions::database is " + std::to_string(options.database) +
                                    ": use a database number of 0 or more");
  }
  bool prefix_ok = !options.key_prefix.empty() && options.key_prefix.size() <= kMaxPrefixLength;
  for (char c : options.key_prefix) prefix_ok = prefix_ok && is_name_character(c);
  if (!prefix_ok) {
    return Status::invalid_argument("RedisBackendOptions::key_prefix '" + escape_bytes(options.key_prefix) +
                                    "' is invalid: use 1 to 64 characters of [A-Za-z0-9_.-]");
  }
  if (options.connect_timeout.count() <= 0) {
    return Status::invalid_argument("RedisBackendOptions::connect_timeout must be positive, got " +
                                    std::to_string(options.connect_timeout.count()) + " ms");
  }
  if (options.command_timeout.count() <= 0) {
    return Status::invalid_argument("RedisBackendOptions::command_timeout must be positive, got " +
                                    std::to_string(options.command_timeout.count()) + " ms");
  }
  if (options.reconnect_attempts < 0) {
    return Status::invalid_argument("RedisBackendOptions::reconnect_attempts is " +
                                    std::to_string(options.reconnect_attempts) + ": use 0 or more");
  }
  if (options.pipeline_depth == 0) {
    return Status::invalid_argument("RedisBackendOptions::pipeline_depth is 0: use 1 or more (default 512)");
  }
  return Status::ok();
}

std::string glob_pattern_for_prefix(BytesView prefix) {
  std::string pattern;
  pattern.reserve(prefix.size() + 1);
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  pattern.push_back('*');
  return pattern;
}


}  // namespace streamstate::internal
