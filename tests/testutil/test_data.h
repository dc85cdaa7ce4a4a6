// Deterministic test data: a seeded generator, random and compressible byte strings, and byte
// strings spelled out as values. The same seed gives the same bytes on every platform and
// standard library. Functions are pure; an Rng is not thread-safe (one per thread).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>

namespace streamstate::testing {

// splitmix64: a fast deterministic generator for test data.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Appends `size` bytes drawn from `rng` to `out`.
inline void append_random(std::string& out, size_t size, Rng& rng) {
  const size_t start = out.size();
  out.resize(start + size);
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = rng.next();
    std::memcpy(out.data() + start + i, &word, std::min<size_t>(8, size - i));
  }
}

// `size` random bytes, the same for the same seed.
inline std::string random_bytes(size_t size, uint64_t seed) {
  Rng rng(seed);
  std::string out;
  append_random(out, size, rng);
  return out;
}

// Text-like bytes that every codec shrinks a lot.
inline std::string compressible(size_t size) {
  static const std::string line = "2024-05-01T12:00:00Z user=alice action=click page=/index.html\n";
  std::string out;
  out.reserve(size);
  for (size_t i = 0; out.size() < size; ++i) {
    out += line;
    out += std::to_string(i % 1000);
  }
  out.resize(size);
  return out;
}

// Builds a byte string from the listed byte values.
inline std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int value : values) out.push_back(static_cast<char>(value));
  return out;
}

}  // namespace streamstate::testing
