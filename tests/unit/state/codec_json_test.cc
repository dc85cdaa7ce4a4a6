// JSON codecs (streamstate/codec_json.h): round trips, the layout, and bad stored JSON.
#include "streamstate/codec_json.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "testutil/status_matchers.h"

namespace shop {
struct Order {
  std::string id;
  double amount = 0;
  std::vector<std::string> items;
  bool operator==(const Order&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, id, amount, items)

// from_json that throws something other than a nlohmann exception.
struct Strict {
  int level = 0;
  bool operator==(const Strict&) const = default;
};
inline void to_json(nlohmann::json& json, const Strict& value) {
  json = nlohmann::json{{"level", value.level}};
}
inline void from_json(const nlohmann::json& json, Strict& value) {
  value.level = json.at("level").get<int>();
  if (value.level < 0) throw std::range_error("level must not be negative");
}
}  // namespace shop

STREAMSTATE_JSON_CODEC(shop::Order, "shop.Order");
STREAMSTATE_JSON_CODEC(shop::Strict, "shop.Strict");

namespace streamstate {
namespace {

using shop::Order;

std::string length_prefixed(const std::string& text) {
  std::string out;
  put_length_prefixed(out, text);
  return out;
}

TEST(JsonCodecTest, RoundTripsAndComposes) {
  const Order order{"o-1", 12.5, {"apple", "pear"}};
  Result<Order> decoded = decode_value<Order>(encode_value(order));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, order);
  const std::map<std::string, std::vector<Order>> by_user = {{"ann", {order, Order{}}}};
  Result<std::map<std::string, std::vector<Order>>> back =
      decode_value<std::map<std::string, std::vector<Order>>>(encode_value(by_user));
  ASSERT_OK(back);
  EXPECT_EQ(*back, by_user);
  EXPECT_EQ(codec_name<Order>(), "shop.Order");
  EXPECT_EQ((codec_name<std::map<std::string, std::vector<Order>>>()), "map<string,vector<shop.Order>>");
}

TEST(JsonCodecTest, GoldenLengthPrefixedCompactText) {
  EXPECT_EQ(encode_value(Order{"a", 1.5, {"x"}}),
            length_prefixed(R"({"amount":1.5,"id":"a","items":["x"]})"));
  EXPECT_EQ(encode_value(nlohmann::json::parse(R"([1, "two", null])")), length_prefixed(R"([1,"two",null])"));
  EXPECT_EQ(codec_name<nlohmann::json>(), "json");
}

TEST(JsonCodecTest, BadStoredJsonIsCorruption) {
  EXPECT_STATUS(decode_value<Order>(length_prefixed("{not json")), StatusCode::kCorruption,
                "shop.Order: stored bytes are not valid JSON");
  EXPECT_STATUS(decode_value<Order>(length_prefixed("")), StatusCode::kCorruption, "not valid JSON");
  EXPECT_STATUS(decode_value<nlohmann::json>(length_prefixed(R"({"a":)")), StatusCode::kCorruption,
                "json: stored bytes");
  EXPECT_STATUS(decode_value<Order>(std::string("\x09{}", 3)), StatusCode::kCorruption,
                "shop.Order: length 9 exceeds the 2 remaining bytes");
}

TEST(JsonCodecTest, FromJsonExceptionsBecomeCorruption) {
  // Valid JSON of the wrong shape: nlohmann's type_error and out_of_range.
  EXPECT_STATUS(decode_value<Order>(length_prefixed(R"({"id":"a","amount":"lots","items":[]})")),
                StatusCode::kCorruption, "shop.Order: from_json rejected the stored JSON");
  EXPECT_STATUS(decode_value<Order>(length_prefixed(R"({"id":"a"})")), StatusCode::kCorruption,
                "from_json rejected");
  EXPECT_STATUS(decode_value<Order>(length_prefixed("42")), StatusCode::kCorruption, "shop.Order");
  // A user's own exception type.
  EXPECT_STATUS(decode_value<shop::Strict>(encode_value(shop::Strict{-1})), StatusCode::kCorruption,
                "shop.Strict: from_json rejected the stored JSON: level must not be negative");
  Result<shop::Strict> fine = decode_value<shop::Strict>(encode_value(shop::Strict{3}));
  ASSERT_OK(fine);
  EXPECT_EQ(fine->level, 3);
}

TEST(JsonCodecTest, InvalidUtf8IsReplacedInsteadOfThrowing) {
  const Order order{std::string("bad\xff", 4), 0, {}};
  std::string encoded;
  ASSERT_NO_THROW(encoded = encode_value(order));
  Result<Order> decoded = decode_value<Order>(encoded);
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->id, "bad\xef\xbf\xbd");  // U+FFFD
}

TEST(JsonCodecTest, EveryTruncationAndTrailingByteIsCorruption) {
  const std::string encoded = encode_value(Order{"o", 2, {"i"}});
  for (size_t length = 0; length < encoded.size(); ++length) {
    EXPECT_EQ(decode_value<Order>(BytesView(encoded.data(), length)).status().code(), StatusCode::kCorruption)
        << length;
  }
  EXPECT_STATUS(decode_value<Order>(encoded + "x"), StatusCode::kCorruption, "1 trailing bytes");
}

}  // namespace
}  // namespace streamstate
