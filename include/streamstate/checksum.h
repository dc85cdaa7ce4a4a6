// The checksum used by every streamstate format: XXH3 64-bit (libxxhash), seed 0.
// XXH3's output is frozen by its specification since xxHash 0.8.0, so stored checksums stay
// valid across releases and platforms.
//
// Thread-safety: reentrant.
#pragma once

#include <cstdint>

#include "streamstate/bytes.h"

namespace streamstate {

uint64_t checksum64(BytesView data);

// Incremental form for data that arrives in pieces; equal to checksum64 of the concatenation.
class Checksum64Builder {
 public:
  Checksum64Builder();
  ~Checksum64Builder();
  Checksum64Builder(const Checksum64Builder&) = delete;
  Checksum64Builder& operator=(const Checksum64Builder&) = delete;

  void update(BytesView data);
  uint64_t digest() const;

 private:
  void* state_;  // XXH3_state_t, kept opaque so users need no xxhash header
};

}  // namespace streamstate
