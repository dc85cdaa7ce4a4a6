#include "streamstate/state_key.h"

#include "streamstate/key_group.h"

namespace streamstate {

void append_state_key(std::string& out, uint32_t key_group, BytesView user_key, BytesView name_space) {
  put_fixed16_big_endian(out, static_cast<uint16_t>(key_group));
  put_varint32(out, static_cast<uint32_t>(user_key.size()));
  out.append(user_key.data(), user_key.size());
  out.append(name_space.data(), name_space.size());
}

std::string make_state_key(uint32_t key_group, BytesView user_key, BytesView name_space) {
  std::string out;
  out.reserve(2 + 5 + user_key.size() + name_space.size());
  append_state_key(out, key_group, user_key, name_space);
  return out;
}

Result<StateKeyParts> decode_state_key(BytesView encoded) {
  ByteReader reader(encoded);
  uint16_t key_group = 0;
  uint32_t length = 0;
  BytesView user_key;
  if (!reader.read_fixed16_big_endian(key_group) || !reader.read_varint32(length) ||
      !reader.read_bytes(length, user_key)) {
    return Status::corruption("state key of " + std::to_string(encoded.size()) +
                              " bytes is truncated or its user key length overruns it");
  }
  if (key_group >= kUpperBoundMaxParallelism) {
    return Status::corruption("state key has key group " + std::to_string(key_group) + ", above 32767");
  }
  return StateKeyParts{key_group, user_key, reader.rest()};
}

std::string key_group_prefix(uint32_t key_group) {
  std::string out;
  put_fixed16_big_endian(out, static_cast<uint16_t>(key_group));
  return out;
}

std::string user_key_prefix(uint32_t key_group, BytesView user_key) { return make_state_key(key_group, user_key); }

}  // namespace streamstate
