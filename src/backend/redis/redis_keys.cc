#include "backend/redis/redis_keys.h"

#include "core/printable.h"

#include <algorithm>
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

std::string to_hex(BytesView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

bool from_hex(std::string_view hex, std::string& bytes) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  bytes.clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]);
    const int low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return false;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

std::string group_of(BytesView stored_key) { return to_hex(stored_key.substr(0, kGroupBytes)); }

RedisKeys::RedisKeys(std::string prefix)
    : prefix_(std::move(prefix)),
      meta_(prefix_ + ":meta"),
      registry_(prefix_ + ":registry"),
      snapshot_sequence_(prefix_ + ":snap-seq"),
      layout1_columns_(prefix_ + ":columns") {}

std::string RedisKeys::tag(std::string_view column, std::string_view group_hex) {
  std::string tag;
  tag.reserve(column.size() + group_hex.size() + 3);
  tag += '{';
  tag += column;
  tag += ':';
  tag += group_hex;
  tag += '}';
  return tag;
}

void RedisKeys::append_entry(std::string& out, std::string_view column, std::string_view group_hex,
                             BytesView stored_key) const {
  out.reserve(out.size() + prefix_.size() + column.size() + group_hex.size() + stored_key.size() + 5);
  out += prefix_;
  out += ":e{";
  out += column;
  out += ':';
  out += group_hex;
  out += '}';
  out += stored_key;
}

std::string RedisKeys::entry(std::string_view column, BytesView stored_key) const {
  std::string key;
  append_entry(key, column, group_of(stored_key), stored_key);
  return key;
}

std::string RedisKeys::index(std::string_view column, std::string_view group_hex) const {
  return prefix_ + ":i" + tag(column, group_hex);
}

std::string RedisKeys::snapshot_copy(uint64_t snapshot_id, std::string_view column,
                                     std::string_view group_hex) const {
  return prefix_ + ":snap" + tag(column, group_hex) + ":" + std::to_string(snapshot_id);
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

LexRange lex_range_for_prefix(BytesView prefix) {
  LexRange range;
  if (prefix.empty()) {
    range.min = "-";
    range.max = "+";
    return range;
  }
  range.min = "[" + std::string(prefix);
  // The successor: the shortest string greater than every string starting with `prefix`.
  std::string successor(prefix);
  while (!successor.empty() && static_cast<unsigned char>(successor.back()) == 0xff) successor.pop_back();
  if (successor.empty()) {
    range.max = "+";
  } else {
    successor.back() = static_cast<char>(static_cast<unsigned char>(successor.back()) + 1);
    range.max = "(" + successor;
  }
  return range;
}

std::vector<std::string> groups_for_prefix(std::vector<std::string> all_groups, BytesView prefix) {
  std::vector<std::pair<std::string, std::string>> matching;  // (bytes, hex)
  std::string bytes;
  for (std::string& hex : all_groups) {
    if (!from_hex(hex, bytes)) continue;  // not written by this layout
    // A group holds keys starting with `prefix` when one is a prefix of the other.
    const size_t common = std::min(bytes.size(), prefix.size());
    if (BytesView(bytes).substr(0, common) != prefix.substr(0, common)) continue;
    if (bytes.size() < kGroupBytes && prefix.size() > bytes.size()) continue;  // a short key is alone
    matching.emplace_back(bytes, std::move(hex));
  }
  std::sort(matching.begin(), matching.end());
  std::vector<std::string> groups;
  groups.reserve(matching.size());
  for (auto& [group_bytes, hex] : matching) groups.push_back(std::move(hex));
  return groups;
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
