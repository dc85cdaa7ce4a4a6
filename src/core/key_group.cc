#include "streamstate/key_group.h"

// Inlined: the key group is computed for every record (set_current_key).
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <string>

namespace streamstate {

Status validate_max_parallelism(uint32_t max_parallelism) {
  if (max_parallelism < 1 || max_parallelism > kUpperBoundMaxParallelism) {
    return Status::invalid_argument("max_parallelism " + std::to_string(max_parallelism) +
                                    " is outside 1..32768; the default is 128");
  }
  return Status::ok();
}

Status validate_parallelism(uint32_t max_parallelism, uint32_t parallelism) {
  Status status = validate_max_parallelism(max_parallelism);
  if (!status.is_ok()) return status;
  if (parallelism < 1 || parallelism > max_parallelism) {
    return Status::invalid_argument("parallelism " + std::to_string(parallelism) + " is outside 1..max_parallelism (" +
                                    std::to_string(max_parallelism) + "); raise max_parallelism or lower parallelism");
  }
  return Status::ok();
}

uint64_t hash_key(BytesView key) { return XXH3_64bits(key.data(), key.size()); }

uint32_t key_group_for_key(BytesView key, uint32_t max_parallelism) {
  return static_cast<uint32_t>(hash_key(key) % max_parallelism);
}

uint32_t operator_index_for_key_group(uint32_t max_parallelism, uint32_t parallelism, uint32_t key_group) {
  return static_cast<uint32_t>(uint64_t{key_group} * parallelism / max_parallelism);
}

KeyGroupRange KeyGroupRange::for_operator(uint32_t max_parallelism, uint32_t parallelism, uint32_t index) {
  // Instance i owns exactly the key groups g with floor(g * p / m) == i, which is
  // [ceil(i * m / p), ceil((i + 1) * m / p)).
  const uint64_t m = max_parallelism;
  const uint64_t p = parallelism;
  const auto begin = static_cast<uint32_t>((index * m + p - 1) / p);
  const auto end = static_cast<uint32_t>(((index + 1) * m + p - 1) / p);
  return {begin, end};
}

KeyGroupRange KeyGroupRange::intersect(const KeyGroupRange& other) const {
  const uint32_t begin = std::max(begin_, other.begin_);
  const uint32_t end = std::min(end_, other.end_);
  return begin < end ? KeyGroupRange(begin, end) : KeyGroupRange(begin, begin);
}

std::string KeyGroupRange::to_string() const {
  return "[" + std::to_string(begin_) + ", " + std::to_string(end_) + ")";
}

}  // namespace streamstate
