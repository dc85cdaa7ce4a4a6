// Tests of the primitive encodings: exact byte layouts of fixed-width integers and varints,
// round trips at every varint length boundary, and ByteReader's bounds checks on truncated,
// overlong and lying input (a failed read must leave the reader where it was).
#include "streamstate/bytes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace streamstate {
namespace {

using namespace std::string_literals;

constexpr uint64_t kMax64 = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kMax32 = std::numeric_limits<uint32_t>::max();

// Checks that a failed read left the reader exactly as it was.
void expect_unchanged(const ByteReader& reader, BytesView before) {
  EXPECT_EQ(reader.remaining(), before.size());
  EXPECT_EQ(static_cast<const void*>(reader.rest().data()), static_cast<const void*>(before.data()));
  EXPECT_EQ(reader.rest(), before);
}

TEST(BytesTest, Fixed16IsBigEndian) {
  std::string out;
  put_fixed16_big_endian(out, 0x0102);
  EXPECT_EQ(out, "\x01\x02"s);
  put_fixed16_big_endian(out, 0xFFFE);
  EXPECT_EQ(out, "\x01\x02\xFF\xFE"s);
  EXPECT_EQ(decode_fixed16_big_endian(out.data()), 0x0102);
  EXPECT_EQ(decode_fixed16_big_endian(out.data() + 2), 0xFFFE);
}

TEST(BytesTest, Fixed32IsLittleEndian) {
  std::string out = "x";
  put_fixed32(out, 0x04030201u);
  EXPECT_EQ(out, "x\x01\x02\x03\x04"s);
  EXPECT_EQ(decode_fixed32(out.data() + 1), 0x04030201u);

  std::string high;
  put_fixed32(high, 0xF0E0D0C0u);
  EXPECT_EQ(high, "\xC0\xD0\xE0\xF0"s);
  EXPECT_EQ(decode_fixed32(high.data()), 0xF0E0D0C0u);
}

TEST(BytesTest, Fixed64IsLittleEndian) {
  std::string out;
  put_fixed64(out, 0x0807060504030201ull);
  EXPECT_EQ(out, "\x01\x02\x03\x04\x05\x06\x07\x08"s);
  EXPECT_EQ(decode_fixed64(out.data()), 0x0807060504030201ull);

  std::string high;
  put_fixed64(high, 0xF8F7F6F5F4F3F2F1ull);
  EXPECT_EQ(high, "\xF1\xF2\xF3\xF4\xF5\xF6\xF7\xF8"s);
  EXPECT_EQ(decode_fixed64(high.data()), 0xF8F7F6F5F4F3F2F1ull);
}

TEST(BytesTest, FixedRoundTripExtremes) {
  for (uint64_t value : {uint64_t{0}, uint64_t{1}, uint64_t{0x80}, uint64_t{kMax32}, kMax64}) {
    std::string out;
    put_fixed64(out, value);
    ASSERT_EQ(out.size(), 8u);
    ByteReader reader(out);
    uint64_t decoded = 1234;
    ASSERT_TRUE(reader.read_fixed64(decoded));
    EXPECT_EQ(decoded, value);
    EXPECT_TRUE(reader.empty());
  }
  for (uint32_t value : {0u, 1u, 0x80u, 0x8000u, kMax32}) {
    std::string out;
    put_fixed32(out, value);
    ASSERT_EQ(out.size(), 4u);
    ByteReader reader(out);
    uint32_t decoded = 1234;
    ASSERT_TRUE(reader.read_fixed32(decoded));
    EXPECT_EQ(decoded, value);
    EXPECT_TRUE(reader.empty());
  }
  for (uint16_t value : {uint16_t{0}, uint16_t{255}, uint16_t{256}, uint16_t{0xFFFF}}) {
    std::string out;
    put_fixed16_big_endian(out, value);
    ASSERT_EQ(out.size(), 2u);
    ByteReader reader(out);
    uint16_t decoded = 1234;
    ASSERT_TRUE(reader.read_fixed16_big_endian(decoded));
    EXPECT_EQ(decoded, value);
  }
}

struct VarintCase {
  uint64_t value;
  std::string encoded;
};

std::vector<VarintCase> varint_cases() {
  return {
      {0, "\x00"s},
      {1, "\x01"s},
      {127, "\x7F"s},
      {128, "\x80\x01"s},
      {300, "\xAC\x02"s},
      {16383, "\xFF\x7F"s},
      {16384, "\x80\x80\x01"s},
      {(uint64_t{1} << 21) - 1, "\xFF\xFF\x7F"s},
      {uint64_t{1} << 21, "\x80\x80\x80\x01"s},
      {(uint64_t{1} << 28) - 1, "\xFF\xFF\xFF\x7F"s},
      {uint64_t{1} << 28, "\x80\x80\x80\x80\x01"s},
      {kMax32, "\xFF\xFF\xFF\xFF\x0F"s},
      {uint64_t{1} << 32, "\x80\x80\x80\x80\x10"s},
      {(uint64_t{1} << 63) - 1, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F"s},
      {uint64_t{1} << 63, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"s},
      {kMax64, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01"s},
  };
}

TEST(BytesTest, Varint64LayoutAndRoundTrip) {
  for (const VarintCase& c : varint_cases()) {
    std::string out;
    put_varint64(out, c.value);
    EXPECT_EQ(out, c.encoded) << c.value;
    EXPECT_EQ(varint_length(c.value), c.encoded.size()) << c.value;

    out += "tail";
    ByteReader reader(out);
    uint64_t decoded = 12345;
    ASSERT_TRUE(reader.read_varint64(decoded)) << c.value;
    EXPECT_EQ(decoded, c.value);
    EXPECT_EQ(reader.rest(), "tail");
  }
}

TEST(BytesTest, Varint32LayoutAndRoundTrip) {
  for (const VarintCase& c : varint_cases()) {
    if (c.value > kMax32) continue;
    const auto value = static_cast<uint32_t>(c.value);
    std::string out;
    put_varint32(out, value);
    EXPECT_EQ(out, c.encoded) << value;

    out.push_back('\0');
    ByteReader reader(out);
    uint32_t decoded = 12345;
    ASSERT_TRUE(reader.read_varint32(decoded)) << value;
    EXPECT_EQ(decoded, value);
    EXPECT_EQ(reader.remaining(), 1u);
  }
}

TEST(BytesTest, Varint32And64ShareAnEncoding) {
  // A value written as varint32 reads back as varint64 and the other way round.
  for (uint32_t value : {0u, 127u, 128u, 16383u, 16384u, kMax32}) {
    std::string out;
    put_varint32(out, value);
    ByteReader reader(out);
    uint64_t decoded = 0;
    ASSERT_TRUE(reader.read_varint64(decoded));
    EXPECT_EQ(decoded, value);

    std::string out64;
    put_varint64(out64, value);
    ByteReader reader32(out64);
    uint32_t decoded32 = 0;
    ASSERT_TRUE(reader32.read_varint32(decoded32));
    EXPECT_EQ(decoded32, value);
  }
}

TEST(BytesTest, VarintLengthEveryBoundary) {
  EXPECT_EQ(varint_length(0), 1u);
  for (int bits = 7; bits < 64; bits += 7) {
    const uint64_t first_longer = uint64_t{1} << bits;
    const size_t expected = static_cast<size_t>(bits / 7);
    EXPECT_EQ(varint_length(first_longer - 1), expected) << bits;
    EXPECT_EQ(varint_length(first_longer), expected + 1) << bits;
  }
  EXPECT_EQ(varint_length(kMax64), 10u);
}

TEST(BytesTest, VarintSequence) {
  std::string out;
  for (uint64_t v = 0; v < 20000; v += 97) put_varint64(out, v * v);
  ByteReader reader(out);
  for (uint64_t v = 0; v < 20000; v += 97) {
    uint64_t decoded = 0;
    ASSERT_TRUE(reader.read_varint64(decoded));
    ASSERT_EQ(decoded, v * v);
  }
  EXPECT_TRUE(reader.empty());
}

TEST(ByteReaderTest, TruncatedVarintFailsAndLeavesReaderUnchanged) {
  for (const VarintCase& c : varint_cases()) {
    // Every strict prefix of a multi-byte varint is truncated.
    for (size_t cut = 0; cut < c.encoded.size(); ++cut) {
      const std::string truncated = c.encoded.substr(0, cut);
      ByteReader reader(truncated);
      uint64_t decoded64 = 99;
      EXPECT_FALSE(reader.read_varint64(decoded64)) << c.value << " cut " << cut;
      expect_unchanged(reader, truncated);
      uint32_t decoded32 = 99;
      EXPECT_FALSE(reader.read_varint32(decoded32)) << c.value << " cut " << cut;
      expect_unchanged(reader, truncated);
    }
  }
}

TEST(ByteReaderTest, OverlongVarint64Fails) {
  // Eleven bytes: ten continuation bytes then a terminator. No valid varint64 is this long.
  const std::string overlong = std::string(10, '\x80') + "\x01"s + "rest";
  ByteReader reader(overlong);
  uint64_t decoded = 0;
  EXPECT_FALSE(reader.read_varint64(decoded));
  expect_unchanged(reader, overlong);

  // An endless run of continuation bytes must not be read past the limit either.
  const std::string endless(100, '\xFF');
  ByteReader endless_reader(endless);
  EXPECT_FALSE(endless_reader.read_varint64(decoded));
  expect_unchanged(endless_reader, endless);
}

TEST(ByteReaderTest, OverlongVarint32Fails) {
  // Six bytes: more than the five a 32-bit value can take.
  const std::string overlong = std::string(5, '\x80') + "\x01"s;
  ByteReader reader(overlong);
  uint32_t decoded = 0;
  EXPECT_FALSE(reader.read_varint32(decoded));
  expect_unchanged(reader, overlong);
}

TEST(ByteReaderTest, Varint32RejectsValuesAbove32Bits) {
  // Five bytes, but the value is 2^32: it does not fit, so it is not a varint32. Accepting it
  // would silently truncate a corrupt length.
  const std::string too_big = "\x80\x80\x80\x80\x10"s;
  ByteReader reader(too_big);
  uint32_t decoded = 0;
  EXPECT_FALSE(reader.read_varint32(decoded));
  expect_unchanged(reader, too_big);
}

TEST(ByteReaderTest, Varint64RejectsValuesAbove64Bits) {
  // Ten bytes whose last byte carries bits beyond bit 63.
  const std::string too_big = std::string(9, '\xFF') + "\x02"s;
  ByteReader reader(too_big);
  uint64_t decoded = 0;
  EXPECT_FALSE(reader.read_varint64(decoded));
  expect_unchanged(reader, too_big);
}

TEST(ByteReaderTest, FixedReadsPastEndFail) {
  const std::string three = "\x01\x02\x03"s;
  ByteReader reader(three);
  uint32_t v32 = 0;
  EXPECT_FALSE(reader.read_fixed32(v32));
  expect_unchanged(reader, three);
  uint64_t v64 = 0;
  EXPECT_FALSE(reader.read_fixed64(v64));
  expect_unchanged(reader, three);

  uint16_t v16 = 0;
  ASSERT_TRUE(reader.read_fixed16_big_endian(v16));
  EXPECT_EQ(v16, 0x0102);
  const BytesView one = reader.rest();
  EXPECT_FALSE(reader.read_fixed16_big_endian(v16));
  expect_unchanged(reader, one);

  uint8_t byte = 0;
  ASSERT_TRUE(reader.read_byte(byte));
  EXPECT_EQ(byte, 3);
  EXPECT_TRUE(reader.empty());
  EXPECT_FALSE(reader.read_byte(byte));
  EXPECT_FALSE(reader.read_fixed16_big_endian(v16));
  EXPECT_TRUE(reader.empty());
}

TEST(ByteReaderTest, ReadBytes) {
  const std::string input = "ab\0cd"s;
  ByteReader reader(input);
  BytesView out;
  EXPECT_FALSE(reader.read_bytes(6, out));
  expect_unchanged(reader, input);
  ASSERT_TRUE(reader.read_bytes(0, out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(reader.read_bytes(3, out));
  EXPECT_EQ(out, "ab\0"s);
  // A view into the input, not a copy.
  EXPECT_EQ(static_cast<const void*>(out.data()), static_cast<const void*>(input.data()));
  ASSERT_TRUE(reader.read_bytes(2, out));
  EXPECT_EQ(out, "cd");
  EXPECT_TRUE(reader.empty());
}

TEST(ByteReaderTest, LengthPrefixedRoundTripWithZeroBytes) {
  const std::string binary = "\0\0a\0\xFF\0"s;
  std::string out;
  put_length_prefixed(out, binary);
  put_length_prefixed(out, "");
  put_length_prefixed(out, std::string(300, '\0'));
  EXPECT_EQ(out.substr(0, 7), "\x06"s + binary);

  ByteReader reader(out);
  BytesView field;
  ASSERT_TRUE(reader.read_length_prefixed(field));
  EXPECT_EQ(field, binary);
  ASSERT_TRUE(reader.read_length_prefixed(field));
  EXPECT_TRUE(field.empty());
  ASSERT_TRUE(reader.read_length_prefixed(field));
  EXPECT_EQ(field, std::string(300, '\0'));
  EXPECT_TRUE(reader.empty());
}

TEST(ByteReaderTest, LengthPrefixLongerThanRemainingFailsUnchanged) {
  std::string input;
  put_varint64(input, 5);
  input += "abcd";  // one byte short
  ByteReader reader(input);
  BytesView field = "untouched";
  EXPECT_FALSE(reader.read_length_prefixed(field));
  expect_unchanged(reader, input);
}

TEST(ByteReaderTest, HugeLengthPrefixFailsWithoutOverflow) {
  // Lengths near 2^64 must not wrap around when added to a position.
  for (uint64_t length : {kMax64, kMax64 - 1, uint64_t{1} << 63, uint64_t{kMax32} + 1}) {
    std::string input;
    put_varint64(input, length);
    input += "abc";
    ByteReader reader(input);
    BytesView field;
    EXPECT_FALSE(reader.read_length_prefixed(field)) << length;
    expect_unchanged(reader, input);
  }
}

TEST(ByteReaderTest, TruncatedLengthPrefixFails) {
  const std::string input = "\x80"s;
  ByteReader reader(input);
  BytesView field;
  EXPECT_FALSE(reader.read_length_prefixed(field));
  expect_unchanged(reader, input);
}

TEST(ByteReaderTest, EmptyReader) {
  ByteReader reader(BytesView{});
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(reader.remaining(), 0u);
  uint8_t byte = 0;
  uint32_t v32 = 0;
  uint64_t v64 = 0;
  BytesView view;
  EXPECT_FALSE(reader.read_byte(byte));
  EXPECT_FALSE(reader.read_varint32(v32));
  EXPECT_FALSE(reader.read_varint64(v64));
  EXPECT_FALSE(reader.read_length_prefixed(view));
  EXPECT_TRUE(reader.read_bytes(0, view));
  EXPECT_FALSE(reader.read_bytes(1, view));
}

TEST(ByteReaderTest, MixedSequence) {
  std::string out;
  put_fixed16_big_endian(out, 513);
  put_varint32(out, 70000);
  put_length_prefixed(out, "key\0"s);
  put_fixed32(out, 0xDEADBEEFu);
  put_fixed64(out, kMax64 - 5);
  out.push_back('\x7F');

  ByteReader reader(out);
  uint16_t a = 0;
  uint32_t b = 0;
  BytesView c;
  uint32_t d = 0;
  uint64_t e = 0;
  uint8_t f = 0;
  ASSERT_TRUE(reader.read_fixed16_big_endian(a));
  ASSERT_TRUE(reader.read_varint32(b));
  ASSERT_TRUE(reader.read_length_prefixed(c));
  ASSERT_TRUE(reader.read_fixed32(d));
  ASSERT_TRUE(reader.read_fixed64(e));
  ASSERT_TRUE(reader.read_byte(f));
  EXPECT_EQ(a, 513);
  EXPECT_EQ(b, 70000u);
  EXPECT_EQ(c, "key\0"s);
  EXPECT_EQ(d, 0xDEADBEEFu);
  EXPECT_EQ(e, kMax64 - 5);
  EXPECT_EQ(f, 0x7F);
  EXPECT_TRUE(reader.empty());
}

}  // namespace
}  // namespace streamstate
