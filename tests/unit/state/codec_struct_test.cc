// User types: STREAMSTATE_CODEC_FIELDS for structs in any namespace, and a hand-written Codec
// specialization (the example of docs/codecs.md).
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "streamstate/codec.h"
#include "testutil/status_matchers.h"

namespace geo::shapes {
struct Point {
  int32_t x = 0;
  int32_t y = 0;
  bool operator==(const Point&) const = default;
};
struct Polygon {
  std::string label;
  std::vector<Point> corners;
  std::optional<std::map<std::string, double>> tags;
  bool operator==(const Polygon&) const = default;
};
struct Nothing {
  bool operator==(const Nothing&) const = default;
};
struct PointV2 {  // Point with a field added: a schema change
  int32_t x = 0;
  int32_t y = 0;
  int32_t z = 0;
};
struct NoCodec {
  int value = 0;
};
}  // namespace geo::shapes

namespace wide {
struct Twenty {
  int8_t f01 = 0;
  int16_t f02 = 0;
  int32_t f03 = 0;
  int64_t f04 = 0;
  uint8_t f05 = 0;
  uint16_t f06 = 0;
  uint32_t f07 = 0;
  uint64_t f08 = 0;
  bool f09 = false;
  float f10 = 0;
  double f11 = 0;
  std::string f12;
  std::vector<int32_t> f13;
  std::optional<bool> f14;
  char f15 = 0;
  std::pair<int8_t, int8_t> f16;
  std::map<int32_t, std::string> f17;
  std::vector<uint8_t> f18;
  geo::shapes::Point f19;
  std::string f20;
  bool operator==(const Twenty&) const = default;
};
}  // namespace wide

// A hand-written codec: an enum stored as one byte, rejecting unknown values.
enum class Color : uint8_t { kRed = 1, kGreen = 2, kBlue = 3 };
template <>
struct streamstate::Codec<Color> {
  static constexpr size_t kMinEncodedSize = 1;
  static std::string name() { return "test.Color"; }
  static void encode(const Color& value, std::string& out) { out.push_back(static_cast<char>(value)); }
  static Status decode(ByteReader& in, Color& value) {
    uint8_t byte = 0;
    if (!in.read_byte(byte)) return Status::corruption("test.Color: truncated");
    if (byte < 1 || byte > 3) return Status::corruption("test.Color: unknown value " + std::to_string(byte));
    value = static_cast<Color>(byte);
    return Status::ok();
  }
};

STREAMSTATE_CODEC_FIELDS(geo::shapes::Point, "geo.Point", x, y);
STREAMSTATE_CODEC_FIELDS(geo::shapes::Polygon, "geo.Polygon", label, corners, tags);
STREAMSTATE_CODEC_FIELDS(geo::shapes::Nothing, "geo.Nothing");
STREAMSTATE_CODEC_FIELDS(geo::shapes::PointV2, "geo.Point", x, y, z);
STREAMSTATE_CODEC_FIELDS(wide::Twenty, "wide.Twenty", f01, f02, f03, f04, f05, f06, f07, f08, f09, f10, f11,
                         f12, f13, f14, f15, f16, f17, f18, f19, f20);

namespace streamstate {
namespace {

using geo::shapes::Point;
using geo::shapes::Polygon;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int value : values) out.push_back(static_cast<char>(value));
  return out;
}

static_assert(Encodable<Point>);
static_assert(Encodable<std::vector<Polygon>>);
static_assert(!Encodable<geo::shapes::NoCodec>);
static_assert(!Encodable<std::vector<geo::shapes::NoCodec>>);
static_assert(!Encodable<std::optional<geo::shapes::NoCodec>>);
static_assert(!Encodable<std::map<std::string, geo::shapes::NoCodec>>);
static_assert(!Encodable<std::tuple<int, geo::shapes::NoCodec>>);

TEST(StructCodecTest, GoldenFieldCountThenFields) {
  EXPECT_EQ(encode_value(Point{1, -1}), bytes({2, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(encode_value(geo::shapes::Nothing{}), bytes({0}));
}

TEST(StructCodecTest, NamesComposeWithContainers) {
  EXPECT_EQ(codec_name<Point>(), "geo.Point");
  EXPECT_EQ(codec_name<std::vector<Point>>(), "vector<geo.Point>");
  EXPECT_EQ((codec_name<std::map<std::string, Polygon>>()), "map<string,geo.Polygon>");
}

TEST(StructCodecTest, NestedStructsRoundTrip) {
  const Polygon polygon{std::string("tri\0angle", 9),
                        {{0, 0}, {INT32_MIN, INT32_MAX}, {3, 4}},
                        std::map<std::string, double>{{"area", 6.5}}};
  Result<Polygon> decoded = decode_value<Polygon>(encode_value(polygon));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, polygon);
  const std::map<std::string, std::vector<Polygon>> layers = {{"a", {polygon, Polygon{}}}, {"b", {}}};
  Result<std::map<std::string, std::vector<Polygon>>> layers_back =
      decode_value<std::map<std::string, std::vector<Polygon>>>(encode_value(layers));
  ASSERT_OK(layers_back);
  EXPECT_EQ(*layers_back, layers);
  Result<geo::shapes::Nothing> nothing = decode_value<geo::shapes::Nothing>(bytes({0}));
  ASSERT_OK(nothing);
}

TEST(StructCodecTest, TwentyFieldsRoundTrip) {
  wide::Twenty value;
  value.f01 = -1;
  value.f02 = -2;
  value.f03 = -3;
  value.f04 = INT64_MIN;
  value.f05 = 5;
  value.f06 = 6;
  value.f07 = 7;
  value.f08 = UINT64_MAX;
  value.f09 = true;
  value.f10 = 1.25f;
  value.f11 = -2.5;
  value.f12 = "twelve";
  value.f13 = {1, 3};
  value.f14 = false;
  value.f15 = 'z';
  value.f16 = {1, 6};
  value.f17 = {{17, "x"}};
  value.f18 = {0, 255};
  value.f19 = {19, 91};
  value.f20 = std::string("\0", 1);
  const std::string encoded = encode_value(value);
  EXPECT_EQ(encoded[0], 20);  // the field count
  Result<wide::Twenty> decoded = decode_value<wide::Twenty>(encoded);
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, value);
  EXPECT_EQ(codec_name<wide::Twenty>(), "wide.Twenty");
}

TEST(StructCodecTest, ErrorsNameTheStructAndTheField) {
  // Field y holds only two bytes.
  EXPECT_STATUS(decode_value<Point>(bytes({2, 1, 0, 0, 0, 9, 9})), StatusCode::kCorruption,
                "geo.Point: field y: i32: truncated");
  EXPECT_STATUS(decode_value<Polygon>(bytes({3, 1, 'p', 1, 2, 1, 0, 0, 0, 2, 0, 0, 0, 7})),
                StatusCode::kCorruption,
                "geo.Polygon: field tags: optional<map<string,f64>>: presence byte is 7");
  EXPECT_STATUS(decode_value<Point>(""), StatusCode::kCorruption,
                "geo.Point: truncated or malformed field count");
}

TEST(StructCodecTest, AChangedFieldCountIsCorruptionPointingToMigration) {
  const std::string old_bytes = encode_value(Point{1, 2});
  EXPECT_STATUS(
      decode_value<geo::shapes::PointV2>(old_bytes), StatusCode::kCorruption,
      "geo.Point: stored value has 2 fields, the type has 3; bump the state's schema major version");
  EXPECT_STATUS(decode_value<Point>(encode_value(geo::shapes::PointV2{1, 2, 3})), StatusCode::kCorruption,
                "stored value has 3 fields, the type has 2");
}

TEST(StructCodecTest, EveryTruncationIsCorruption) {
  const std::string encoded = encode_value(Polygon{"p", {{1, 2}}, std::map<std::string, double>{{"k", 1}}});
  for (size_t length = 0; length < encoded.size(); ++length) {
    EXPECT_EQ(decode_value<Polygon>(BytesView(encoded.data(), length)).status().code(),
              StatusCode::kCorruption)
        << length;
  }
}

TEST(HandWrittenCodecTest, EnumCodecComposesWithBuiltins) {
  const std::vector<Color> colors = {Color::kRed, Color::kBlue};
  EXPECT_EQ(encode_value(colors), bytes({2, 1, 3}));
  Result<std::vector<Color>> decoded = decode_value<std::vector<Color>>(encode_value(colors));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, colors);
  EXPECT_EQ(codec_name<std::optional<Color>>(), "optional<test.Color>");
  EXPECT_STATUS(decode_value<std::vector<Color>>(bytes({2, 1, 9})), StatusCode::kCorruption,
                "vector<test.Color>: element 1: test.Color: unknown value 9");
}

}  // namespace
}  // namespace streamstate
