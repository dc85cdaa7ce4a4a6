// The data every backend case works on: N distinct random 16-byte binary keys, N further keys
// guaranteed never to be among them (for misses), a 100-byte value per key, and reproducible
// random visiting orders. Everything derives from one fixed seed, so two runs, and ours and
// the baseline within a run, see identical bytes in identical order.
//
// Keys are unique by construction, not by luck: their first 8 bytes are a bijective mix of
// the key's index, and missing keys use indexes with the top bit set, which no present key
// has. Values are slices of a 1 MiB random pool, so they cost no memory per key and do not
// compress.
//
// Thread-safety: immutable after construction; share it freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "streamstate/bytes.h"

namespace streamstate::bench {

class Dataset {
 public:
  static constexpr size_t kKeyBytes = 16;
  static constexpr size_t kValueBytes = 100;
  static constexpr uint64_t kDefaultSeed = 0x5eed'57a7'e000'0001;

  explicit Dataset(uint64_t key_count, uint64_t seed = kDefaultSeed);

  uint64_t size() const { return key_count_; }
  // The i-th key (i < size()).
  BytesView key(uint64_t i) const { return BytesView(keys_.data() + i * kKeyBytes, kKeyBytes); }
  // The i-th key that is never inserted (i < size()).
  BytesView missing_key(uint64_t i) const {
    return BytesView(missing_keys_.data() + i * kKeyBytes, kKeyBytes);
  }
  // The value stored under key(i).
  BytesView value(uint64_t i) const { return BytesView(value_pool_.data() + value_offsets_[i], kValueBytes); }

  // A random permutation of 0..size()-1; each `stream` gives a different, fixed permutation.
  std::vector<uint32_t> random_order(uint64_t stream) const;

  // Sum of value_checksum() over all values: what one full pass of gets must add up to.
  uint64_t expected_get_checksum() const { return expected_get_checksum_; }

 private:
  uint64_t key_count_;
  uint64_t seed_;
  std::string keys_;
  std::string missing_keys_;
  std::string value_pool_;
  std::vector<uint32_t> value_offsets_;
  uint64_t expected_get_checksum_ = 0;
};

// What a case adds to its checksum for each value it read: it depends on the value's bytes,
// so a backend returning wrong data, or a compiler dropping the read, changes the total.
uint64_t value_checksum(BytesView value);

}  // namespace streamstate::bench
