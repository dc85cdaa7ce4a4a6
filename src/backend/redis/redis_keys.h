// The Redis key layout of one backend (see docs/backends/redis.md), validation of
// RedisBackendOptions, and the small text helpers the Redis backend's messages and HSCAN
// patterns need.
//
// Layout, for key_prefix P (no ':' can occur in P or in a column name, so the names of two
// prefixes, or of a column and a snapshot copy, never collide):
//   P:columns              set of column names
//   P:col:<column>         hash of one column's entries
//   P:snap-seq             counter giving each snapshot a unique id across processes
//   P:snap:<id>:<column>   a snapshot's copy of one column's hash
//
// Thread-safety: a RedisKeys is immutable after construction; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "streamstate/bytes.h"
#include "streamstate/redis.h"
#include "streamstate/status.h"

namespace streamstate::internal {

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix);

  const std::string& prefix() const { return prefix_; }
  const std::string& columns_set() const { return columns_set_; }
  const std::string& snapshot_sequence() const { return snapshot_sequence_; }
  // "P:col:" and "P:snap:", the stems the snapshot script appends to.
  const std::string& column_stem() const { return column_stem_; }
  const std::string& snapshot_stem() const { return snapshot_stem_; }

  std::string column_hash(std::string_view column) const { return column_stem_ + std::string(column); }
  std::string snapshot_copy(uint64_t snapshot_id, std::string_view column) const;

 private:
  std::string prefix_;
  std::string columns_set_;
  std::string snapshot_sequence_;
  std::string column_stem_;
  std::string snapshot_stem_;
};

// Checks every option; the error names the option and the fix.
Status validate_redis_options(const RedisBackendOptions& options);

// An HSCAN MATCH pattern selecting exactly the keys that start with `prefix`: the glob
// metacharacters * ? [ ] \ of the prefix are escaped, then '*' is appended.
std::string glob_pattern_for_prefix(BytesView prefix);

}  // namespace streamstate::internal
