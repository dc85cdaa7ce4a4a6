// Codecs of the standard containers (included by streamstate/codec.h): std::vector,
// std::array, std::map / std::unordered_map, std::optional, std::pair and std::tuple, composed to
// any depth over any Encodable element types.
//
// Thread-safety: codecs are stateless; all functions are reentrant.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "streamstate/codec_scalars.h"

namespace streamstate {

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

}  // namespace streamstate
