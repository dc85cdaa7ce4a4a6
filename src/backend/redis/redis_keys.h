// The Redis key layout of one backend, version 2 (see docs/backends/redis.md), validation of
// RedisBackendOptions, and the small byte helpers the Redis backend's scans need.
//
// Layout, for key_prefix P, column C and the key group G of a stored key (its first
// kGroupBytes bytes, hex-encoded as H; a shorter key is its own group). No ':', '{' or '}'
// can occur in P, C or H, so names never collide and the hash tag {C:H} is the first one:
//   P:meta                 hash: "layout" -> "2" (written at first open)
//   P:registry             set of column names
//   P:groups:C             set of the H of every group column C has held entries in
//   P:e{C:H}<stored key>   string: one entry's value
//   P:i{C:H}               sorted set (all scores 0): the stored keys of group H, so a prefix
//                          scan is a ZRANGEBYLEX of one group
//   P:snap-seq             counter giving each snapshot a unique id across processes
//   P:snap{C:H}:<id>       hash: a snapshot's copy of one group (field = stored key)
// Every key of one (column, group) shares the hash tag {C:H}, so it lands in one Cluster slot.
//
// Thread-safety: a RedisKeys is immutable after construction; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/bytes.h"
#include "streamstate/redis.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// The layout version written to P:meta.
inline constexpr std::string_view kRedisLayoutVersion = "2";
// A stored keyed-state key starts with its key group, 2 bytes big-endian (streamstate/state_key.h).
inline constexpr size_t kGroupBytes = 2;

// The group of a stored key, hex-encoded ("" for the empty key).
std::string group_of(BytesView stored_key);
// Hex of bytes, and back (false on malformed text).
std::string to_hex(BytesView bytes);
bool from_hex(std::string_view hex, std::string& bytes);

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix);

  const std::string& prefix() const { return prefix_; }
  const std::string& meta() const { return meta_; }
  const std::string& registry() const { return registry_; }
  const std::string& snapshot_sequence() const { return snapshot_sequence_; }
  // The set that named the columns in layout 1; its presence means an old-layout database.
  const std::string& layout1_columns() const { return layout1_columns_; }

  // "P:groups:" + C.
  std::string groups(std::string_view column) const { return prefix_ + ":groups:" + std::string(column); }
  // "{C:H}".
  static std::string tag(std::string_view column, std::string_view group_hex);
  // "P:e{C:H}" + stored key.
  std::string entry(std::string_view column, BytesView stored_key) const;
  void append_entry(std::string& out, std::string_view column, std::string_view group_hex,
                    BytesView stored_key) const;
  // "P:i{C:H}".
  std::string index(std::string_view column, std::string_view group_hex) const;
  // "P:snap{C:H}:<id>".
  std::string snapshot_copy(uint64_t snapshot_id, std::string_view column, std::string_view group_hex) const;

 private:
  std::string prefix_;
  std::string meta_;
  std::string registry_;
  std::string snapshot_sequence_;
  std::string layout1_columns_;
};

// Checks every option; the error names the option and the fix.
Status validate_redis_options(const RedisBackendOptions& options);

// ZRANGEBYLEX bounds selecting exactly the members that start with `prefix`:
// "[prefix" .. "(successor", or "-" / "+" where the range is open.
struct LexRange {
  std::string min;
  std::string max;
};
LexRange lex_range_for_prefix(BytesView prefix);

// The groups (hex) of `all_groups` that can hold keys starting with `prefix`, sorted by their
// bytes, so that scanning them in order visits keys in byte order.
std::vector<std::string> groups_for_prefix(std::vector<std::string> all_groups, BytesView prefix);

// An HSCAN MATCH pattern selecting exactly the keys that start with `prefix`: the glob
// metacharacters * ? [ ] \ of the prefix are escaped, then '*' is appended.
std::string glob_pattern_for_prefix(BytesView prefix);

}  // namespace streamstate::internal
