// Codecs: how typed state values become bytes and back.
//
// A codec for T is a specialization of streamstate::Codec<T> with three static functions:
//   static std::string name();                               // stable id of the byte format
//   static void encode(const T& value, std::string& out);    // appends to out
//   static Status decode(ByteReader& in, T& value);          // consumes; Corruption on bad input
// and optionally `static constexpr size_t kMinEncodedSize` (the fewest bytes one value takes;
// containers use it to bound element counts by the bytes that remain).
//
// Built-ins cover integers, float/double, bool, std::string, byte vectors, std::vector,
// std::array, std::map / std::unordered_map, std::optional, std::pair and std::tuple, composed
// to any depth. A user struct opts in field by field with STREAMSTATE_CODEC_FIELDS (below) or
// through nlohmann::json with STREAMSTATE_JSON_CODEC (streamstate/codec_json.h).
//
// The byte layouts are a persistent contract, pinned by golden tests and documented in
// docs/codecs.md. name() identifies the byte format, not the C++ type: int64_t and long long
// are both "i64", std::map and std::unordered_map are both "map<K,V>", because each decodes
// the other's bytes. The store records the name per state to detect type changes.
// Decoding checks every length and count against the bytes that remain and returns
// Corruption naming the type on garbage, never undefined behaviour; decode_value (top level)
// also rejects trailing bytes.
//
// Thread-safety: codecs are stateless; all functions are reentrant.
//
// Files: codec_scalars.h (the Codec template, the Encodable concept, decoding helpers, scalar
// codecs), codec_containers.h (standard containers), codec_fields.h (user structs); this
// header includes them all and adds the top-level encode_value / decode_value.
#pragma once

#include <string>
#include <type_traits>

#include "streamstate/bytes.h"
#include "streamstate/codec_containers.h"
#include "streamstate/codec_fields.h"
#include "streamstate/codec_scalars.h"
#include "streamstate/status.h"

namespace streamstate {

// ---- Top level ------------------------------------------------------------------------------

// Appends the encoding of value to out (no allocation when out has the capacity).
template <typename T>
void encode_value_to(const T& value, std::string& out) {
  static_assert(
      Encodable<T>,
      "streamstate: this type has no codec. Add STREAMSTATE_CODEC_FIELDS(Type, \"name\", fields...) or "
      "STREAMSTATE_JSON_CODEC(Type, \"name\") at global scope, or specialize streamstate::Codec<Type> "
      "(see streamstate/codec.h and docs/codecs.md)");
  if constexpr (Encodable<T>) Codec<T>::encode(value, out);
}

template <typename T>
std::string encode_value(const T& value) {
  std::string out;
  encode_value_to(value, out);
  return out;
}

// Decodes exactly one value from bytes into value (reusing its storage where the codec can).
// Corruption on bad input or on trailing bytes.
template <typename T>
Status decode_value_into(BytesView bytes, T& value) {
  static_assert(
      Encodable<T>,
      "streamstate: this type has no codec. Add STREAMSTATE_CODEC_FIELDS(Type, \"name\", fields...) or "
      "STREAMSTATE_JSON_CODEC(Type, \"name\") at global scope, or specialize streamstate::Codec<Type> "
      "(see streamstate/codec.h and docs/codecs.md)");
  if constexpr (Encodable<T>) {
    ByteReader in(bytes);
    Status status = Codec<T>::decode(in, value);
    if (!status.is_ok()) return status;
    if (!in.empty()) {
      return Status::corruption(Codec<T>::name() + ": " + std::to_string(in.remaining()) +
                                " trailing bytes after the " + std::to_string(bytes.size() - in.remaining()) +
                                "-byte value");
    }
  }
  return Status::ok();
}

template <typename T>
Result<T> decode_value(BytesView bytes) {
  static_assert(std::is_default_constructible_v<T>,
                "streamstate: decode_value<T> needs a default-constructible T");
  T value{};
  Status status = decode_value_into(bytes, value);
  if (!status.is_ok()) return status;
  return value;
}

}  // namespace streamstate
