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

// std::vector<T> ("vector<T>"): varint64 count, then each element.
template <Encodable T>
  requires(!std::is_same_v<T, uint8_t>)
struct Codec<std::vector<T>> {
  static constexpr size_t kMinEncodedSize = 1;
  static std::string name() { return "vector<" + Codec<T>::name() + ">"; }
  static void encode(const std::vector<T>& value, std::string& out) {
    put_varint64(out, value.size());
    for (const T& element : value) Codec<T>::encode(element, out);
  }
  static Status decode(ByteReader& in, std::vector<T>& value) {
    uint64_t count = 0;
    Status status = internal::read_element_count(in, internal::min_encoded_size<T>(), name(), count);
    if (!status.is_ok()) return status;
    value.clear();
    value.reserve(internal::reserve_hint(count, in.remaining()));
    for (uint64_t i = 0; i < count; ++i) {
      T element{};
      status = Codec<T>::decode(in, element);
      if (!status.is_ok())
        return internal::codec_nested_error(name(), "element " + std::to_string(i), status);
      value.push_back(std::move(element));
    }
    return Status::ok();
  }
};

// std::array<T, N> ("array<T,N>"): the N elements, no count.
template <Encodable T, size_t N>
struct Codec<std::array<T, N>> {
  static constexpr size_t kMinEncodedSize = N * internal::min_encoded_size<T>();
  static std::string name() { return "array<" + Codec<T>::name() + "," + std::to_string(N) + ">"; }
  static void encode(const std::array<T, N>& value, std::string& out) {
    for (const T& element : value) Codec<T>::encode(element, out);
  }
  static Status decode(ByteReader& in, std::array<T, N>& value) {
    for (size_t i = 0; i < N; ++i) {
      Status status = Codec<T>::decode(in, value[i]);
      if (!status.is_ok())
        return internal::codec_nested_error(name(), "element " + std::to_string(i), status);
    }
    return Status::ok();
  }
};

namespace internal {

// The map layout shared by std::map and std::unordered_map ("map<K,V>"): varint64 count, then
// key and value of each entry. Decoding rejects a key that appears twice.
template <typename Map, typename K, typename V>
struct MapCodec {
  static constexpr size_t kMinEncodedSize = 1;
  static std::string name() { return "map<" + Codec<K>::name() + "," + Codec<V>::name() + ">"; }
  static Status decode(ByteReader& in, Map& value) {
    uint64_t count = 0;
    Status status = read_element_count(in, min_encoded_size<K>() + min_encoded_size<V>(), name(), count);
    if (!status.is_ok()) return status;
    value.clear();
    if constexpr (requires { value.reserve(size_t{0}); }) value.reserve(reserve_hint(count, in.remaining()));
    for (uint64_t i = 0; i < count; ++i) {
      K key{};
      status = Codec<K>::decode(in, key);
      if (!status.is_ok()) return codec_nested_error(name(), "key of entry " + std::to_string(i), status);
      V mapped{};
      status = Codec<V>::decode(in, mapped);
      if (!status.is_ok()) return codec_nested_error(name(), "value of entry " + std::to_string(i), status);
      if (!value.emplace(std::move(key), std::move(mapped)).second) {
        return Status::corruption(name() + ": entry " + std::to_string(i) + " repeats an earlier key");
      }
    }
    return Status::ok();
  }
};

}  // namespace internal

// std::map: entries in the map's own (deterministic) order.
template <Encodable K, Encodable V, typename Compare, typename Allocator>
struct Codec<std::map<K, V, Compare, Allocator>>
    : internal::MapCodec<std::map<K, V, Compare, Allocator>, K, V> {
  static void encode(const std::map<K, V, Compare, Allocator>& value, std::string& out) {
    put_varint64(out, value.size());
    for (const auto& [key, mapped] : value) {
      Codec<K>::encode(key, out);
      Codec<V>::encode(mapped, out);
    }
  }
};

// std::unordered_map: entries sorted by their encoded key bytes, so equal maps encode to equal
// bytes whatever their bucket order.
template <Encodable K, Encodable V, typename Hash, typename KeyEqual, typename Allocator>
struct Codec<std::unordered_map<K, V, Hash, KeyEqual, Allocator>>
    : internal::MapCodec<std::unordered_map<K, V, Hash, KeyEqual, Allocator>, K, V> {
  static void encode(const std::unordered_map<K, V, Hash, KeyEqual, Allocator>& value, std::string& out) {
    std::vector<std::pair<std::string, const V*>> entries;
    entries.reserve(value.size());
    for (const auto& [key, mapped] : value) {
      std::string key_bytes;
      Codec<K>::encode(key, key_bytes);
      entries.emplace_back(std::move(key_bytes), &mapped);
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    put_varint64(out, entries.size());
    for (const auto& [key_bytes, mapped] : entries) {
      out.append(key_bytes);
      Codec<V>::encode(*mapped, out);
    }
  }
};

// std::optional<T> ("optional<T>"): a presence byte 0 or 1, then the value when present.
template <Encodable T>
struct Codec<std::optional<T>> {
  static constexpr size_t kMinEncodedSize = 1;
  static std::string name() { return "optional<" + Codec<T>::name() + ">"; }
  static void encode(const std::optional<T>& value, std::string& out) {
    out.push_back(value.has_value() ? '\1' : '\0');
    if (value.has_value()) Codec<T>::encode(*value, out);
  }
  static Status decode(ByteReader& in, std::optional<T>& value) {
    uint8_t present = 0;
    if (!in.read_byte(present)) return internal::codec_truncated(name(), 1, 0);
    if (present > 1)
      return Status::corruption(name() + ": presence byte is " + std::to_string(present) + ", not 0 or 1");
    if (present == 0) {
      value.reset();
      return Status::ok();
    }
    if (!value.has_value()) value.emplace();
    Status status = Codec<T>::decode(in, *value);
    if (!status.is_ok()) return internal::codec_nested_error(name(), "value", status);
    return Status::ok();
  }
};

// std::pair<A, B> ("pair<A,B>") and std::tuple<Ts...> ("tuple<A,B,...>"): the elements in order,
// no header.
template <Encodable A, Encodable B>
struct Codec<std::pair<A, B>> {
  static constexpr size_t kMinEncodedSize = internal::min_encoded_size<A>() + internal::min_encoded_size<B>();
  static std::string name() { return "pair<" + Codec<A>::name() + "," + Codec<B>::name() + ">"; }
  static void encode(const std::pair<A, B>& value, std::string& out) {
    Codec<A>::encode(value.first, out);
    Codec<B>::encode(value.second, out);
  }
  static Status decode(ByteReader& in, std::pair<A, B>& value) {
    Status status = Codec<A>::decode(in, value.first);
    if (!status.is_ok()) return internal::codec_nested_error(name(), "first", status);
    status = Codec<B>::decode(in, value.second);
    if (!status.is_ok()) return internal::codec_nested_error(name(), "second", status);
    return Status::ok();
  }
};

template <Encodable... Ts>
struct Codec<std::tuple<Ts...>> {
  static constexpr size_t kMinEncodedSize = (size_t{0} + ... + internal::min_encoded_size<Ts>());
  static std::string name() {
    std::string result = "tuple<";
    [[maybe_unused]] size_t index = 0;
    ((result += (index++ == 0 ? "" : ",") + Codec<Ts>::name()), ...);
    return result + ">";
  }
  static void encode(const std::tuple<Ts...>& value, std::string& out) {
    std::apply([&out](const Ts&... elements) { (Codec<Ts>::encode(elements, out), ...); }, value);
  }
  static Status decode(ByteReader& in, std::tuple<Ts...>& value) { return decode_from<0>(in, value); }

 private:
  template <size_t I>
  static Status decode_from(ByteReader& in, std::tuple<Ts...>& value) {
    if constexpr (I == sizeof...(Ts)) {
      return Status::ok();
    } else {
      using Element = std::tuple_element_t<I, std::tuple<Ts...>>;
      Status status = Codec<Element>::decode(in, std::get<I>(value));
      if (!status.is_ok())
        return internal::codec_nested_error(name(), "element " + std::to_string(I), status);
      return decode_from<I + 1>(in, value);
    }
  }
};

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

// ---- User structs, field by field --------------------------------------------------------------

namespace internal {

template <typename Field>
void encode_struct_field(const Field& field, std::string& out) {
  static_assert(Encodable<Field>,
                "STREAMSTATE_CODEC_FIELDS: a listed field's type has no codec; give that type one first");
  if constexpr (Encodable<Field>) Codec<Field>::encode(field, out);
}

template <typename Field>
Status decode_struct_field(ByteReader& in, Field& field, const char* type_name, const char* field_name) {
  if constexpr (Encodable<Field>) {
    Status status = Codec<Field>::decode(in, field);
    if (!status.is_ok()) return codec_nested_error(type_name, std::string("field ") + field_name, status);
  }
  return Status::ok();
}

inline Status check_struct_field_count(ByteReader& in, uint64_t expected, const char* type_name) {
  uint64_t stored = 0;
  if (!in.read_varint64(stored))
    return Status::corruption(std::string(type_name) + ": truncated or malformed field count");
  if (stored != expected) {
    return Status::corruption(std::string(type_name) + ": stored value has " + std::to_string(stored) +
                              " fields, the type has " + std::to_string(expected) +
                              "; bump the state's schema major version and register a migration");
  }
  return Status::ok();
}

}  // namespace internal

// Applies macro(x) to each argument (any number; __VA_OPT__ recursion, at least 256 deep).
#define STREAMSTATE_PP_PARENS ()
#define STREAMSTATE_PP_EXPAND(...) \
  STREAMSTATE_PP_EXPAND3(STREAMSTATE_PP_EXPAND3(STREAMSTATE_PP_EXPAND3(__VA_ARGS__)))
#define STREAMSTATE_PP_EXPAND3(...) \
  STREAMSTATE_PP_EXPAND2(STREAMSTATE_PP_EXPAND2(STREAMSTATE_PP_EXPAND2(__VA_ARGS__)))
#define STREAMSTATE_PP_EXPAND2(...) \
  STREAMSTATE_PP_EXPAND1(STREAMSTATE_PP_EXPAND1(STREAMSTATE_PP_EXPAND1(__VA_ARGS__)))
#define STREAMSTATE_PP_EXPAND1(...) __VA_ARGS__
#define STREAMSTATE_PP_FOR_EACH(macro, ...) \
  __VA_OPT__(STREAMSTATE_PP_EXPAND(STREAMSTATE_PP_FOR_EACH_STEP(macro, __VA_ARGS__)))
#define STREAMSTATE_PP_FOR_EACH_STEP(macro, first, ...) \
  macro(first) __VA_OPT__(STREAMSTATE_PP_FOR_EACH_AGAIN STREAMSTATE_PP_PARENS(macro, __VA_ARGS__))
#define STREAMSTATE_PP_FOR_EACH_AGAIN() STREAMSTATE_PP_FOR_EACH_STEP

#define STREAMSTATE_CODEC_COUNT_FIELD(field) +1
#define STREAMSTATE_CODEC_ENCODE_FIELD(field) ::streamstate::internal::encode_struct_field(value.field, out);
#define STREAMSTATE_CODEC_DECODE_FIELD(field)                                           \
  if (::streamstate::Status status_ =                                                   \
          ::streamstate::internal::decode_struct_field(in, value.field, kName, #field); \
      !status_.is_ok()) {                                                               \
    return status_;                                                                     \
  }

// Gives Type a codec that encodes the listed public fields in order ("name" is the stable
// codec name). Layout: varint64 field count, then each field's encoding. Use at global scope:
//   STREAMSTATE_CODEC_FIELDS(shop::Point, "shop.Point", x, y)
#define STREAMSTATE_CODEC_FIELDS(Type, type_name, ...)                                                 \
  template <>                                                                                          \
  struct streamstate::Codec<Type> {                                                                    \
    static constexpr const char* kName = type_name;                                                    \
    static constexpr uint64_t kFieldCount =                                                            \
        0 STREAMSTATE_PP_FOR_EACH(STREAMSTATE_CODEC_COUNT_FIELD, __VA_ARGS__);                         \
    static constexpr size_t kMinEncodedSize = 1;                                                       \
    static std::string name() { return kName; }                                                        \
    static void encode([[maybe_unused]] const Type& value, std::string& out) {                         \
      ::streamstate::put_varint64(out, kFieldCount);                                                   \
      STREAMSTATE_PP_FOR_EACH(STREAMSTATE_CODEC_ENCODE_FIELD, __VA_ARGS__)                             \
    }                                                                                                  \
    static ::streamstate::Status decode(::streamstate::ByteReader& in, [[maybe_unused]] Type& value) { \
      if (::streamstate::Status status_ =                                                              \
              ::streamstate::internal::check_struct_field_count(in, kFieldCount, kName);               \
          !status_.is_ok()) {                                                                          \
        return status_;                                                                                \
      }                                                                                                \
      STREAMSTATE_PP_FOR_EACH(STREAMSTATE_CODEC_DECODE_FIELD, __VA_ARGS__)                             \
      return ::streamstate::Status::ok();                                                              \
    }                                                                                                  \
  }

}  // namespace streamstate
