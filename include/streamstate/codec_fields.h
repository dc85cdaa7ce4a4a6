// Field-by-field codecs for user structs (included by streamstate/codec.h):
// STREAMSTATE_CODEC_FIELDS(Type, "name", field...) gives a struct a codec that encodes the
// listed public fields in order.
//
// Thread-safety: codecs are stateless; all functions are reentrant.
#pragma once

#include <cstdint>
#include <string>

#include "streamstate/codec_scalars.h"

namespace streamstate {

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
