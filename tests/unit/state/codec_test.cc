// Built-in codecs: names, round trips, boundary values and the pinned byte layouts.
#include "streamstate/codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "testutil/status_matchers.h"
#include "testutil/test_data.h"

namespace streamstate {
namespace {

using namespace std::string_literals;

using testing::bytes;

template <typename T>
void expect_round_trip(const T& value) {
  const std::string encoded = encode_value(value);
  Result<T> decoded = decode_value<T>(encoded);
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, value) << codec_name<T>();
  // encode_value_to appends after what the buffer already holds.
  std::string appended = "prefix";
  encode_value_to(value, appended);
  EXPECT_EQ(appended, "prefix" + encoded);
}

TEST(CodecNameTest, ScalarsHaveStableNames) {
  EXPECT_EQ(codec_name<int8_t>(), "i8");
  EXPECT_EQ(codec_name<int16_t>(), "i16");
  EXPECT_EQ(codec_name<int32_t>(), "i32");
  EXPECT_EQ(codec_name<int64_t>(), "i64");
  EXPECT_EQ(codec_name<long long>(), "i64");
  EXPECT_EQ(codec_name<uint8_t>(), "u8");
  EXPECT_EQ(codec_name<uint16_t>(), "u16");
  EXPECT_EQ(codec_name<uint32_t>(), "u32");
  EXPECT_EQ(codec_name<uint64_t>(), "u64");
  EXPECT_EQ(codec_name<char>(), "char");
  EXPECT_EQ(codec_name<bool>(), "bool");
  EXPECT_EQ(codec_name<float>(), "f32");
  EXPECT_EQ(codec_name<double>(), "f64");
  EXPECT_EQ(codec_name<std::string>(), "string");
  EXPECT_EQ(codec_name<std::vector<uint8_t>>(), "bytes");
}

TEST(CodecNameTest, ContainerNamesCompose) {
  EXPECT_EQ((codec_name<std::map<std::string, std::vector<int32_t>>>()), "map<string,vector<i32>>");
  EXPECT_EQ((codec_name<std::unordered_map<std::string, std::vector<int32_t>>>()), "map<string,vector<i32>>");
  EXPECT_EQ(codec_name<std::vector<std::vector<uint8_t>>>(), "vector<bytes>");
  EXPECT_EQ(codec_name<std::optional<double>>(), "optional<f64>");
  EXPECT_EQ((codec_name<std::pair<bool, std::string>>()), "pair<bool,string>");
  EXPECT_EQ((codec_name<std::tuple<int64_t, std::optional<float>, char>>()), "tuple<i64,optional<f32>,char>");
  EXPECT_EQ(codec_name<std::tuple<>>(), "tuple<>");
  EXPECT_EQ((codec_name<std::array<uint16_t, 3>>()), "array<u16,3>");
}

TEST(CodecConceptTest, BuiltinsAreEncodable) {
  static_assert(Encodable<int64_t>);
  static_assert(Encodable<std::map<std::string, std::vector<std::optional<std::pair<int, double>>>>>);
  static_assert(!Encodable<long double>);
  static_assert(!Encodable<const char*>);
  static_assert(!Encodable<std::vector<const char*>>);
  static_assert(!Encodable<std::map<int, void*>>);
}

template <typename T>
class IntegerCodecTest : public ::testing::Test {};
using IntegerTypes =
    ::testing::Types<int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t, char>;
TYPED_TEST_SUITE(IntegerCodecTest, IntegerTypes);

TYPED_TEST(IntegerCodecTest, RoundTripsBoundariesInFixedWidth) {
  using T = TypeParam;
  for (T value :
       {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T{0}, T{1}, static_cast<T>(-1)}) {
    expect_round_trip(value);
    EXPECT_EQ(encode_value(value).size(), sizeof(T));
  }
}

TEST(IntegerCodecTest, GoldenLittleEndianTwosComplement) {
  EXPECT_EQ(encode_value(int32_t{1}), bytes({0x01, 0x00, 0x00, 0x00}));
  EXPECT_EQ(encode_value(uint16_t{0x1234}), bytes({0x34, 0x12}));
  EXPECT_EQ(encode_value(int64_t{-2}), bytes({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(encode_value(std::numeric_limits<int64_t>::min()), bytes({0, 0, 0, 0, 0, 0, 0, 0x80}));
  EXPECT_EQ(encode_value(int8_t{-128}), bytes({0x80}));
  EXPECT_EQ(encode_value(uint64_t{0x0102030405060708}), bytes({8, 7, 6, 5, 4, 3, 2, 1}));
}

TEST(BoolCodecTest, OneByteZeroOrOne) {
  EXPECT_EQ(encode_value(true), bytes({1}));
  EXPECT_EQ(encode_value(false), bytes({0}));
  expect_round_trip(true);
  expect_round_trip(false);
}

TEST(FloatCodecTest, GoldenBitPatterns) {
  EXPECT_EQ(encode_value(1.0), bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
  EXPECT_EQ(encode_value(1.0f), bytes({0, 0, 0x80, 0x3f}));
  EXPECT_EQ(encode_value(-0.0), bytes({0, 0, 0, 0, 0, 0, 0, 0x80}));
}

// Compares bit patterns, since NaN != NaN and -0.0 == 0.0.
template <typename T, typename Bits>
void expect_bits_round_trip(Bits bits) {
  const T value = std::bit_cast<T>(bits);
  Result<T> decoded = decode_value<T>(encode_value(value));
  ASSERT_OK(decoded);
  EXPECT_EQ(std::bit_cast<Bits>(*decoded), bits);
}

TEST(FloatCodecTest, PreservesNanPayloadsInfinitiesAndSignedZero) {
  expect_bits_round_trip<double, uint64_t>(0x7ff8000000000001);  // quiet NaN with payload
  expect_bits_round_trip<double, uint64_t>(0x7ff0000000000001);  // signalling NaN pattern
  expect_bits_round_trip<double, uint64_t>(0xfff8000000000000);  // negative NaN
  expect_bits_round_trip<double, uint64_t>(std::bit_cast<uint64_t>(std::numeric_limits<double>::infinity()));
  expect_bits_round_trip<double, uint64_t>(std::bit_cast<uint64_t>(-std::numeric_limits<double>::infinity()));
  expect_bits_round_trip<double, uint64_t>(std::bit_cast<uint64_t>(-0.0));
  expect_bits_round_trip<double, uint64_t>(
      std::bit_cast<uint64_t>(std::numeric_limits<double>::denorm_min()));
  expect_bits_round_trip<float, uint32_t>(0x7fc00123);
  expect_bits_round_trip<float, uint32_t>(std::bit_cast<uint32_t>(-std::numeric_limits<float>::infinity()));
  expect_round_trip(std::numeric_limits<double>::max());
  expect_round_trip(std::numeric_limits<float>::lowest());
}

TEST(StringCodecTest, LengthPrefixedWithZeroBytes) {
  EXPECT_EQ(encode_value(""s), bytes({0}));
  EXPECT_EQ(encode_value("ab"s), bytes({2, 'a', 'b'}));
  EXPECT_EQ(encode_value("a\0b"s), bytes({3, 'a', 0, 'b'}));
  const std::string long_string(200, 'x');
  EXPECT_EQ(encode_value(long_string).substr(0, 2), bytes({0xc8, 0x01}));  // varint 200
  expect_round_trip(""s);
  expect_round_trip("\0\0\0"s);
  expect_round_trip(std::string(100000, '\xff'));
}

TEST(BytesCodecTest, SameLayoutAsString) {
  const std::vector<uint8_t> value = {0x00, 0xff, 0x10};
  EXPECT_EQ(encode_value(value), bytes({3, 0x00, 0xff, 0x10}));
  EXPECT_EQ(encode_value(value), encode_value("\x00\xff\x10"s));
  expect_round_trip(value);
  expect_round_trip(std::vector<uint8_t>{});
}

TEST(VectorCodecTest, CountThenElements) {
  EXPECT_EQ(encode_value(std::vector<int16_t>{1, -1}), bytes({2, 0x01, 0x00, 0xff, 0xff}));
  EXPECT_EQ(encode_value(std::vector<int64_t>{}), bytes({0}));
  EXPECT_EQ(encode_value(std::vector<bool>{true, false, true}), bytes({3, 1, 0, 1}));
  expect_round_trip(std::vector<int64_t>{});
  expect_round_trip(std::vector<std::string>{"", "a\0b"s, std::string(300, 'z')});
  expect_round_trip(std::vector<bool>{true, false, false, true});
  expect_round_trip(std::vector<std::vector<int32_t>>{{}, {1}, {std::numeric_limits<int32_t>::min(), 0}});
  std::vector<uint32_t> many(1000);
  for (uint32_t i = 0; i < many.size(); ++i) many[i] = i * 2654435761u;
  expect_round_trip(many);
}

TEST(ArrayCodecTest, ElementsWithoutCount) {
  EXPECT_EQ(encode_value(std::array<uint8_t, 3>{1, 2, 3}), bytes({1, 2, 3}));
  expect_round_trip(std::array<std::string, 2>{"a", ""});
  expect_round_trip(std::array<int, 0>{});
}

TEST(MapCodecTest, OrderedMapGoldenAndRoundTrip) {
  const std::map<std::string, uint8_t> value = {{"a", 1}, {"b", 2}};
  EXPECT_EQ(encode_value(value), bytes({2, 1, 'a', 1, 1, 'b', 2}));
  expect_round_trip(value);
  expect_round_trip(std::map<int32_t, std::vector<std::string>>{});
  expect_round_trip(std::map<int64_t, std::map<std::string, double>>{{-5, {{"x", 1.5}}}, {7, {}}});
}

TEST(MapCodecTest, UnorderedMapSortsByEncodedKey) {
  // Encoded keys: 1 -> 01 00 00 00, -1 -> ff ff ff ff, 256 -> 00 01 00 00.
  const std::unordered_map<int32_t, bool> value = {{-1, true}, {1, false}, {256, true}};
  EXPECT_EQ(encode_value(value), bytes({3, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1}));
  expect_round_trip(value);
}

TEST(MapCodecTest, EqualUnorderedMapsEncodeEquallyWhateverTheirHistory) {
  std::unordered_map<std::string, int64_t> forward;
  std::unordered_map<std::string, int64_t> backward;
  backward.reserve(4096);  // a different bucket count, so a different iteration order
  for (int i = 0; i < 500; ++i) forward.emplace("key" + std::to_string(i), i);
  for (int i = 499; i >= 0; --i) backward.emplace("key" + std::to_string(i), i);
  for (int i = 500; i < 600; ++i) backward.emplace("key" + std::to_string(i), i);
  for (int i = 500; i < 600; ++i) backward.erase("key" + std::to_string(i));
  ASSERT_EQ(forward, backward);
  EXPECT_EQ(encode_value(forward), encode_value(backward));
  expect_round_trip(forward);
}

TEST(MapCodecTest, MapAndUnorderedMapShareTheFormat) {
  const std::unordered_map<std::string, int32_t> unordered = {{"b", 2}, {"a", 1}};
  Result<std::map<std::string, int32_t>> ordered =
      decode_value<std::map<std::string, int32_t>>(encode_value(unordered));
  ASSERT_OK(ordered);
  EXPECT_EQ(*ordered, (std::map<std::string, int32_t>{{"a", 1}, {"b", 2}}));
  Result<std::unordered_map<std::string, int32_t>> back =
      decode_value<std::unordered_map<std::string, int32_t>>(encode_value(*ordered));
  ASSERT_OK(back);
  EXPECT_EQ(*back, unordered);
}

TEST(OptionalCodecTest, PresenceByteThenValue) {
  EXPECT_EQ(encode_value(std::optional<int8_t>{}), bytes({0}));
  EXPECT_EQ(encode_value(std::optional<int8_t>{5}), bytes({1, 5}));
  expect_round_trip(std::optional<std::string>{});
  expect_round_trip(std::optional<std::string>{""});
  expect_round_trip(std::optional<std::optional<int>>{std::optional<int>{}});
  expect_round_trip(std::optional<std::optional<int>>{});
}

TEST(OptionalCodecTest, DecodingEmptyIntoAnEngagedOptionalResetsIt) {
  std::optional<int32_t> value = 42;
  ASSERT_OK(decode_value_into(encode_value(std::optional<int32_t>{}), value));
  EXPECT_FALSE(value.has_value());
}

TEST(PairTupleCodecTest, ElementsInOrderWithoutHeader) {
  EXPECT_EQ(encode_value(std::pair<bool, char>{true, 'x'}), bytes({1, 'x'}));
  EXPECT_EQ(encode_value(std::tuple<uint8_t, std::string, int16_t>{7, "hi", -1}),
            bytes({7, 2, 'h', 'i', 0xff, 0xff}));
  EXPECT_EQ(encode_value(std::tuple<>{}), "");
  expect_round_trip(std::pair<std::string, std::vector<double>>{"k", {0.5, -2.25}});
  expect_round_trip(
      std::tuple<int64_t, bool, std::optional<std::string>, std::map<int, int>>{-9, true, "s", {{1, 2}}});
  expect_round_trip(std::tuple<>{});
}

TEST(NestedCodecTest, DeepCompositionsRoundTrip) {
  using Deep =
      std::map<std::string, std::vector<std::optional<std::tuple<int32_t, std::pair<float, std::string>,
                                                                 std::unordered_map<uint64_t, bool>>>>>;
  Deep value;
  value["first"] = {std::nullopt,
                    std::make_tuple(1, std::make_pair(2.5f, "two"s),
                                    std::unordered_map<uint64_t, bool>{{3, true}, {UINT64_MAX, false}})};
  value[""] = {};
  value["zero\0"s] = {std::make_tuple(0, std::make_pair(-0.0f, ""s), std::unordered_map<uint64_t, bool>{})};
  expect_round_trip(value);
  EXPECT_EQ(codec_name<Deep>(), "map<string,vector<optional<tuple<i32,pair<f32,string>,map<u64,bool>>>>>");
}

TEST(DecodeValueIntoTest, ReusesTheTargetAndRejectsTrailingBytes) {
  std::vector<std::string> target = {"old", "values", "here"};
  ASSERT_OK(decode_value_into(encode_value(std::vector<std::string>{"new"}), target));
  EXPECT_EQ(target, std::vector<std::string>{"new"});
  EXPECT_STATUS(decode_value_into(encode_value(int32_t{1}) + "x", target), StatusCode::kCorruption,
                "vector<string>");
  int32_t number = 0;
  EXPECT_STATUS(decode_value_into(encode_value(int32_t{1}) + "xy", number), StatusCode::kCorruption,
                "i32: 2 trailing bytes");
}

}  // namespace
}  // namespace streamstate
