#include "streamstate/checksum.h"

#include <xxhash.h>

#include <new>

namespace streamstate {

uint64_t checksum64(BytesView data) { return XXH3_64bits(data.data(), data.size()); }

Checksum64Builder::Checksum64Builder() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}

Checksum64Builder::~Checksum64Builder() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void Checksum64Builder::update(BytesView data) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data.data(), data.size());
}

uint64_t Checksum64Builder::digest() const { return XXH3_64bits_digest(static_cast<XXH3_state_t*>(state_)); }

}  // namespace streamstate
