#include "streamstate/bytes.h"

#include <cstring>

namespace streamstate {

void put_fixed16_big_endian(std::string& out, uint16_t value) {
  const char bytes[2] = {static_cast<char>(value >> 8), static_cast<char>(value & 0xff)};
  out.append(bytes, 2);
}

void put_fixed32(std::string& out, uint32_t value) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, 4);
}

void put_fixed64(std::string& out, uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, 8);
}

void put_varint32(std::string& out, uint32_t value) { put_varint64(out, value); }

void put_varint64(std::string& out, uint64_t value) {
  char bytes[10];
  size_t length = 0;
  while (value >= 0x80) {
    bytes[length++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  bytes[length++] = static_cast<char>(value);
  out.append(bytes, length);
}

void put_length_prefixed(std::string& out, BytesView bytes) {
  put_varint64(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

uint16_t decode_fixed16_big_endian(const char* bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes);
  return static_cast<uint16_t>((b[0] << 8) | b[1]);
}

uint32_t decode_fixed32(const char* bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes);
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | b[i];
  return value;
}

uint64_t decode_fixed64(const char* bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes);
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | b[i];
  return value;
}

size_t varint_length(uint64_t value) {
  size_t length = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++length;
  }
  return length;
}

bool ByteReader::read_fixed16_big_endian(uint16_t& out) {
  if (input_.size() < 2) return false;
  out = decode_fixed16_big_endian(input_.data());
  input_.remove_prefix(2);
  return true;
}

bool ByteReader::read_fixed32(uint32_t& out) {
  if (input_.size() < 4) return false;
  out = decode_fixed32(input_.data());
  input_.remove_prefix(4);
  return true;
}

bool ByteReader::read_fixed64(uint64_t& out) {
  if (input_.size() < 8) return false;
  out = decode_fixed64(input_.data());
  input_.remove_prefix(8);
  return true;
}

bool ByteReader::read_varint64(uint64_t& out) {
  uint64_t value = 0;
  for (size_t i = 0; i < input_.size() && i < 10; ++i) {
    const auto byte = static_cast<unsigned char>(input_[i]);
    if (i == 9 && byte > 1) return false;  // more than 64 bits
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      out = value;
      input_.remove_prefix(i + 1);
      return true;
    }
  }
  return false;  // truncated, or longer than 10 bytes
}

bool ByteReader::read_varint32(uint32_t& out) {
  ByteReader probe(input_);
  uint64_t value = 0;
  if (!probe.read_varint64(value) || value > UINT32_MAX || input_.size() - probe.remaining() > 5) return false;
  out = static_cast<uint32_t>(value);
  input_ = probe.rest();
  return true;
}

bool ByteReader::read_length_prefixed(BytesView& out) {
  ByteReader probe(input_);
  uint64_t length = 0;
  if (!probe.read_varint64(length) || length > probe.remaining()) return false;
  out = probe.rest().substr(0, length);
  input_ = probe.rest().substr(length);
  return true;
}

bool ByteReader::read_bytes(size_t count, BytesView& out) {
  if (count > input_.size()) return false;
  out = input_.substr(0, count);
  input_.remove_prefix(count);
  return true;
}

bool ByteReader::read_byte(uint8_t& out) {
  if (input_.empty()) return false;
  out = static_cast<uint8_t>(input_[0]);
  input_.remove_prefix(1);
  return true;
}

}  // namespace streamstate
