// JSON codecs through nlohmann::json, for types that already have to_json / from_json.
//
//   namespace shop { struct Order {...}; void to_json(nlohmann::json&, const Order&);
//                    void from_json(const nlohmann::json&, Order&); }
//   STREAMSTATE_JSON_CODEC(shop::Order, "shop.Order");     // at global scope
//
// Layout: the compact JSON text, length-prefixed (varint64 length, then the UTF-8 bytes) - the
// same layout as a string, so a value stays readable with any JSON tool. Convenient, not
// compact: prefer STREAMSTATE_CODEC_FIELDS (streamstate/codec.h) for hot state. Also gives
// nlohmann::json itself a codec named "json".
//
// Exceptions never escape: encoding replaces invalid UTF-8 instead of throwing, and a parse
// error or an exception from from_json becomes Corruption naming the codec.
//
// Thread-safety: stateless; all functions are reentrant.
#pragma once

#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "streamstate/codec.h"

namespace streamstate {
namespace internal {

inline void encode_json_text(const nlohmann::json& json, std::string& out) {
  put_length_prefixed(out, json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Reads the length-prefixed text and parses it; Corruption names `type` on either failure.
inline Status decode_json_text(ByteReader& in, const std::string& type, nlohmann::json& json) {
  BytesView text;
  Status status = read_length_prefixed_field(in, type, text);
  if (!status.is_ok()) return status;
  json = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::corruption(type + ": stored bytes are not valid JSON");
  return Status::ok();
}

// The Codec body shared by every STREAMSTATE_JSON_CODEC type; the macro adds name().
template <typename T, typename Self>
struct JsonCodecBase {
  static constexpr size_t kMinEncodedSize = 1;
  static void encode(const T& value, std::string& out) {
    // Through nlohmann's adl_serializer: finds to_json next to T or a serializer specialization.
    const nlohmann::json json = value;
    encode_json_text(json, out);
  }
  static Status decode(ByteReader& in, T& value) {
    nlohmann::json json;
    Status status = decode_json_text(in, Self::name(), json);
    if (!status.is_ok()) return status;
    try {
      json.get_to(value);
    } catch (const std::exception& error) {
      return Status::corruption(Self::name() + ": from_json rejected the stored JSON: " + error.what());
    }
    return Status::ok();
  }
};

}  // namespace internal

template <>
struct Codec<nlohmann::json> {
  static constexpr size_t kMinEncodedSize = 1;
  static std::string name() { return "json"; }
  static void encode(const nlohmann::json& value, std::string& out) {
    internal::encode_json_text(value, out);
  }
  static Status decode(ByteReader& in, nlohmann::json& value) {
    return internal::decode_json_text(in, name(), value);
  }
};

}  // namespace streamstate

// Gives Type (which has ADL-visible to_json / from_json) a JSON codec named type_name. Use at
// global scope.
#define STREAMSTATE_JSON_CODEC(Type, type_name)                                                              \
  template <>                                                                                                \
  struct streamstate::Codec<Type> : ::streamstate::internal::JsonCodecBase<Type, streamstate::Codec<Type>> { \
    static std::string name() { return type_name; }                                                          \
  }
