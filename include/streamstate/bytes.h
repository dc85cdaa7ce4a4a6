// Byte views and the primitive encodings every streamstate format is built from:
// fixed-width little-endian integers, LEB128 varints and length-prefixed fields.
//
// Writers append to a std::string. ByteReader consumes a view and bounds-checks every read:
// a read past the end returns false and leaves the reader unchanged, so decoders can report
// a Corruption naming the file or key instead of reading out of bounds.
//
// Thread-safety: free functions are reentrant; a ByteReader is not shared between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace streamstate {

// Keys and values are arbitrary bytes (zero bytes included); std::string_view is the view.
using BytesView = std::string_view;

// Appending encoders.
void put_fixed16_big_endian(std::string& out, uint16_t value);
void put_fixed32(std::string& out, uint32_t value);
void put_fixed64(std::string& out, uint64_t value);
void put_varint32(std::string& out, uint32_t value);
void put_varint64(std::string& out, uint64_t value);
// varint64 length followed by the bytes.
void put_length_prefixed(std::string& out, BytesView bytes);

// Fixed-width decoders; the caller guarantees the bytes exist (use ByteReader otherwise).
uint16_t decode_fixed16_big_endian(const char* bytes);
uint32_t decode_fixed32(const char* bytes);
uint64_t decode_fixed64(const char* bytes);

// Number of bytes put_varint64 writes for value (1..10).
size_t varint_length(uint64_t value);

// Bounds-checked sequential reader over a byte view. It does not own the bytes.
class ByteReader {
 public:
  explicit ByteReader(BytesView input) : input_(input) {}

  bool read_fixed16_big_endian(uint16_t& out);
  bool read_fixed32(uint32_t& out);
  bool read_fixed64(uint64_t& out);
  bool read_varint32(uint32_t& out);
  bool read_varint64(uint64_t& out);
  // A varint64 length, then that many bytes (as a view into the input). Fails when the
  // length exceeds what remains, so no caller ever allocates from an unchecked length.
  bool read_length_prefixed(BytesView& out);
  // Exactly count bytes.
  bool read_bytes(size_t count, BytesView& out);
  bool read_byte(uint8_t& out);

  size_t remaining() const { return input_.size(); }
  bool empty() const { return input_.empty(); }
  // The bytes not read yet.
  BytesView rest() const { return input_; }

 private:
  BytesView input_;
};

}  // namespace streamstate
