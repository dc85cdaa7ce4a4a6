// Deterministic key, value and order generation for the benchmark suites.
#include "dataset.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <utility>

namespace streamstate::bench {
namespace {

constexpr size_t kValuePoolBytes = size_t{1} << 20;
constexpr uint64_t kMissingKeyBit = uint64_t{1} << 63;

// The splitmix64 finaliser. Each step (xor-shift, multiply by an odd constant) is invertible,
// so the whole function is a bijection on 64-bit integers: distinct inputs, distinct outputs.
uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void store_little_endian(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
}

// Bytes 0..7 are unique per index (bijection); bytes 8..15 add more randomness.
void write_key(char* out, uint64_t index, uint64_t seed) {
  store_little_endian(out, mix64(index ^ seed));
  store_little_endian(out + 8, mix64(index + 0x9e3779b97f4a7c15ULL * (seed | 1)));
}

}  // namespace

uint64_t value_checksum(BytesView value) {
  uint64_t head = 0;
  for (size_t i = 0; i < value.size() && i < 8; ++i)
    head |= uint64_t{static_cast<uint8_t>(value[i])} << (8 * i);
  uint8_t tail = value.empty() ? 0 : static_cast<uint8_t>(value.back());
  return head + (uint64_t{tail} << 3) + value.size();
}

Dataset::Dataset(uint64_t key_count, uint64_t seed) : key_count_(key_count), seed_(seed) {
  keys_.resize(key_count * kKeyBytes);
  missing_keys_.resize(key_count * kKeyBytes);
  for (uint64_t i = 0; i < key_count; ++i) {
    write_key(keys_.data() + i * kKeyBytes, i, seed);
    write_key(missing_keys_.data() + i * kKeyBytes, i | kMissingKeyBit, seed);
  }

  std::mt19937_64 random(seed);
  value_pool_.resize(kValuePoolBytes + kValueBytes);
  for (size_t i = 0; i < value_pool_.size(); i += 8) {
    uint64_t word = random();
    std::memcpy(value_pool_.data() + i, &word, std::min<size_t>(8, value_pool_.size() - i));
  }
  value_offsets_.resize(key_count);
  for (uint64_t i = 0; i < key_count; ++i) {
    value_offsets_[i] = static_cast<uint32_t>(mix64(i ^ ~seed) % kValuePoolBytes);
    expected_get_checksum_ += value_checksum(value(i));
  }
}

std::vector<uint32_t> Dataset::random_order(uint64_t stream) const {
  std::vector<uint32_t> order(key_count_);
  for (uint64_t i = 0; i < key_count_; ++i) order[i] = static_cast<uint32_t>(i);
  // Fisher-Yates with our own index draw: std::shuffle's algorithm differs between standard
  // libraries, and the order must be the same everywhere for a given seed.
  std::mt19937_64 random(mix64(seed_ + stream));
  for (uint64_t i = key_count_; i > 1; --i) {
    uint64_t j = random() % i;
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

}  // namespace streamstate::bench
