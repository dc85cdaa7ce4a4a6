// The foundation of the codecs (see streamstate/codec.h, which is what code includes): the
// Codec<T> template and the Encodable concept, the bounds-checking helpers every decoder uses,
// and the scalar codecs - integers, bool, float/double, std::string and byte vectors.
//
// Thread-safety: codecs are stateless; all functions are reentrant.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate {

// No definition: a type without a specialization is not Encodable (see encode_value).
template <typename T, typename Enable = void>
struct Codec;

// A type with a usable Codec specialization.
template <typename T>
concept Encodable = requires(const T& value, std::string& out, ByteReader& in, T& target) {
  { Codec<T>::name() } -> std::convertible_to<std::string>;
  { Codec<T>::encode(value, out) } -> std::same_as<void>;
  { Codec<T>::decode(in, target) } -> std::same_as<Status>;
};

// The stable name of T's byte format, e.g. "map<string,vector<i32>>".
template <Encodable T>
std::string codec_name() {
  return Codec<T>::name();
}

namespace internal {

// Codec<T>::kMinEncodedSize when declared, else 0 (assume nothing).
template <typename T>
constexpr size_t min_encoded_size() {
  if constexpr (requires { Codec<T>::kMinEncodedSize; }) {
    return Codec<T>::kMinEncodedSize;
  } else {
    return 0;
  }
}

inline Status codec_truncated(const std::string& type, size_t needed, size_t remaining) {
  return Status::corruption(type + ": truncated, needs " + std::to_string(needed) + " bytes but " +
                            std::to_string(remaining) + " remain");
}

// "<container>: <what>: <inner message>" - keeps the path to the failing element readable.
inline Status codec_nested_error(const std::string& type, const std::string& what, const Status& inner) {
  return Status::corruption(type + ": " + what + ": " + inner.message());
}

// Counts above this are rejected for element types that may encode to zero bytes (for
// which the remaining bytes give no bound).
inline constexpr uint64_t kMaxZeroSizeElementCount = uint64_t{1} << 24;

// Reads a container's element count. A count that the remaining bytes cannot hold is
// Corruption, so no decoder reserves or loops from an unchecked count.
inline Status read_element_count(ByteReader& in, size_t min_element_size, const std::string& type,
                                 uint64_t& count) {
  if (!in.read_varint64(count)) return Status::corruption(type + ": truncated or malformed element count");
  const uint64_t limit = min_element_size == 0 ? kMaxZeroSizeElementCount : in.remaining() / min_element_size;
  if (count > limit) {
    return Status::corruption(type + ": element count " + std::to_string(count) + " exceeds what the " +
                              std::to_string(in.remaining()) + " remaining bytes can hold");
  }
  return Status::ok();
}

// Reads a varint64 length and that many bytes (a view into the input), with a message that
// says which of the two is wrong. The reader is unchanged on failure.
inline Status read_length_prefixed_field(ByteReader& in, const std::string& type, BytesView& out) {
  ByteReader probe(in.rest());
  uint64_t length = 0;
  if (!probe.read_varint64(length)) return Status::corruption(type + ": truncated or malformed length");
  if (length > probe.remaining()) {
    return Status::corruption(type + ": length " + std::to_string(length) + " exceeds the " +
                              std::to_string(probe.remaining()) + " remaining bytes");
  }
  const size_t header = in.remaining() - probe.remaining();
  BytesView field;
  static_cast<void>(in.read_bytes(header + static_cast<size_t>(length), field));  // checked above
  out = field.substr(header);
  return Status::ok();
}

// How many elements to reserve for a checked count: never more than the remaining bytes.
inline size_t reserve_hint(uint64_t count, size_t remaining) {
  return static_cast<size_t>(std::min<uint64_t>(count, remaining));
}

}  // namespace internal

// Integers: fixed width, little-endian, two's complement. Named "i8".."i64", "u8".."u64", "char".
template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
struct Codec<T> {
  static constexpr size_t kMinEncodedSize = sizeof(T);
  static std::string name() {
    if constexpr (std::is_same_v<T, char>) {
      return "char";
    } else {
      return (std::is_signed_v<T> ? "i" : "u") + std::to_string(sizeof(T) * 8);
    }
  }
  static void encode(const T& value, std::string& out) {
    using U = std::make_unsigned_t<T>;
    const auto bits = static_cast<U>(value);
    char bytes[sizeof(T)];
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(bytes, &bits, sizeof(T));
    } else {
      for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
    }
    out.append(bytes, sizeof(T));
  }
  static Status decode(ByteReader& in, T& value) {
    BytesView bytes;
    if (!in.read_bytes(sizeof(T), bytes)) return internal::codec_truncated(name(), sizeof(T), in.remaining());
    using U = std::make_unsigned_t<T>;
    U bits = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&bits, bytes.data(), sizeof(T));
    } else {
      for (size_t i = sizeof(T); i-- > 0;)
        bits = static_cast<U>((bits << 8) | static_cast<unsigned char>(bytes[i]));
    }
    value = static_cast<T>(bits);
    return Status::ok();
  }
};

// bool: one byte, 0 or 1; any other byte is Corruption.
template <>
struct Codec<bool> {
  static constexpr size_t kMinEncodedSize = 1;
  static std::string name() { return "bool"; }
  static void encode(const bool& value, std::string& out) { out.push_back(value ? '\1' : '\0'); }
  static Status decode(ByteReader& in, bool& value) {
    uint8_t byte = 0;
    if (!in.read_byte(byte)) return internal::codec_truncated(name(), 1, 0);
    if (byte > 1) return Status::corruption("bool: byte is " + std::to_string(byte) + ", not 0 or 1");
    value = byte == 1;
    return Status::ok();
  }
};

// float and double ("f32", "f64"): their IEEE-754 bit patterns as fixed-width integers, so NaN
// payloads, infinities and -0.0 survive exactly.
template <typename T>
  requires(std::is_same_v<T, float> || std::is_same_v<T, double>)
struct Codec<T> {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  static_assert(sizeof(T) == sizeof(Bits) && std::numeric_limits<T>::is_iec559,
                "IEEE-754 float/double required");
  static constexpr size_t kMinEncodedSize = sizeof(T);
  static std::string name() { return sizeof(T) == 4 ? "f32" : "f64"; }
  static void encode(const T& value, std::string& out) {
    Codec<Bits>::encode(std::bit_cast<Bits>(value), out);
  }
  static Status decode(ByteReader& in, T& value) {
    Bits bits = 0;
    if (!Codec<Bits>::decode(in, bits).is_ok())
      return internal::codec_truncated(name(), sizeof(T), in.remaining());
    value = std::bit_cast<T>(bits);
    return Status::ok();
  }
};

// std::string ("string"): varint64 length, then the bytes (zero bytes included).
template <>
struct Codec<std::string> {
  static constexpr size_t kMinEncodedSize = 1;
  static std::string name() { return "string"; }
  static void encode(const std::string& value, std::string& out) { put_length_prefixed(out, value); }
  static Status decode(ByteReader& in, std::string& value) {
    BytesView bytes;
    Status status = internal::read_length_prefixed_field(in, "string", bytes);
    if (!status.is_ok()) return status;
    value.assign(bytes.data(), bytes.size());
    return Status::ok();
  }
};

// std::vector<uint8_t> ("bytes"): the same layout as a string.
template <>
struct Codec<std::vector<uint8_t>> {
  static constexpr size_t kMinEncodedSize = 1;
  static std::string name() { return "bytes"; }
  static void encode(const std::vector<uint8_t>& value, std::string& out) {
    put_varint64(out, value.size());
    out.append(reinterpret_cast<const char*>(value.data()), value.size());
  }
  static Status decode(ByteReader& in, std::vector<uint8_t>& value) {
    BytesView bytes;
    Status status = internal::read_length_prefixed_field(in, "bytes", bytes);
    if (!status.is_ok()) return status;
    value.assign(reinterpret_cast<const uint8_t*>(bytes.data()),
                 reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size());
    return Status::ok();
  }
};


}  // namespace streamstate
