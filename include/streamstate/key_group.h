// Key groups: the unit in which keyed state is partitioned, assigned to operator instances
// and, later, redistributed when the parallelism changes (as in Flink).
//
// A key belongs to key group  hash64(key) mod max_parallelism,  where hash64 is XXH3-64
// with seed 0 (stable across releases and machines). Operator instance i of p owns the
// contiguous range of key groups [ceil(i*m/p), ceil((i+1)*m/p)) for max parallelism m, so
// changing p moves whole key groups between instances and never splits one.
//
// Thread-safety: all functions are pure; KeyGroupRange is a value type.
#pragma once

#include <cstdint>
#include <string>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate {

// Default number of key groups. Default: 128.
inline constexpr uint32_t kDefaultMaxParallelism = 128;
// Upper bound on max_parallelism; key groups are stored in two bytes.
inline constexpr uint32_t kUpperBoundMaxParallelism = 32768;

// Checks 1 <= max_parallelism <= 32768; the error names the option and the bounds.
Status validate_max_parallelism(uint32_t max_parallelism);
// Checks the above and 1 <= parallelism <= max_parallelism.
Status validate_parallelism(uint32_t max_parallelism, uint32_t parallelism);

// The stable 64-bit hash of a key (XXH3-64, seed 0).
uint64_t hash_key(BytesView key);

// Key group of a key. Precondition: validate_max_parallelism(max_parallelism) is OK.
uint32_t key_group_for_key(BytesView key, uint32_t max_parallelism);

// Index of the operator instance (0-based, of `parallelism`) that owns a key group.
// Precondition: validate_parallelism(max_parallelism, parallelism) is OK and
// key_group < max_parallelism.
uint32_t operator_index_for_key_group(uint32_t max_parallelism, uint32_t parallelism,
                                      uint32_t key_group);

// A half-open range [begin, end) of key groups.
class KeyGroupRange {
 public:
  constexpr KeyGroupRange() = default;
  constexpr KeyGroupRange(uint32_t begin, uint32_t end) : begin_(begin), end_(end < begin ? begin : end) {}

  // All key groups: [0, max_parallelism).
  static KeyGroupRange all(uint32_t max_parallelism) { return {0, max_parallelism}; }
  // The range owned by operator instance `index` of `parallelism`.
  // Precondition: validate_parallelism(...) is OK and index < parallelism.
  static KeyGroupRange for_operator(uint32_t max_parallelism, uint32_t parallelism, uint32_t index);

  constexpr uint32_t begin() const { return begin_; }
  constexpr uint32_t end() const { return end_; }
  constexpr uint32_t size() const { return end_ - begin_; }
  constexpr bool empty() const { return begin_ == end_; }
  constexpr bool contains(uint32_t key_group) const { return key_group >= begin_ && key_group < end_; }
  // The key groups in both ranges (empty when they do not overlap).
  KeyGroupRange intersect(const KeyGroupRange& other) const;

  // "[3, 7)".
  std::string to_string() const;

  friend constexpr bool operator==(const KeyGroupRange&, const KeyGroupRange&) = default;

 private:
  uint32_t begin_ = 0;
  uint32_t end_ = 0;
};

}  // namespace streamstate
