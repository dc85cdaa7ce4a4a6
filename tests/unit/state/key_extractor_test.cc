// Key extractors: callables, JSON fields by dotted path, composite keys.
#include "streamstate/key_extractor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using json = nlohmann::json;
using namespace std::string_literals;

struct Click {
  std::string user;
  int64_t page = 0;
};

std::string user_of(const Click& click) { return click.user; }

// The expected composite key: each part length-prefixed.
std::string parts(std::initializer_list<std::string> values) {
  std::string out;
  for (const std::string& value : values) put_length_prefixed(out, value);
  return out;
}

KeyExtractor<json> field(const std::string& path, JsonFieldOptions options = {}) {
  Result<KeyExtractor<json>> extractor = json_field_key(path, std::move(options));
  EXPECT_OK(extractor);
  return extractor.is_ok() ? *extractor : KeyExtractor<json>();
}

std::string key_of(const KeyExtractor<json>& extractor, const json& record) {
  Result<std::string> key = extractor(record);
  EXPECT_OK(key);
  return key.is_ok() ? *key : "<error>";
}

TEST(MakeKeyExtractorTest, AdaptsCallablesOfEveryReturnKind) {
  const Click click{"ann", 7};
  KeyExtractor<Click> by_lambda = make_key_extractor([](const Click& c) { return c.user; });
  KeyExtractor<Click> by_function = make_key_extractor(&user_of);
  KeyExtractor<Click> by_view =
      make_key_extractor([](const Click& c) { return std::string_view(c.user).substr(1); });
  KeyExtractor<Click> by_pointer = make_key_extractor([](const Click&) { return "constant"; });
  KeyExtractor<Click> by_result = make_key_extractor([](const Click& c) -> Result<std::string> {
    if (c.page < 0) return Status::invalid_argument("negative page");
    return std::to_string(c.page);
  });
  KeyExtractor<Click> by_member = make_key_extractor<Click>(&Click::user);
  KeyExtractor<Click> by_generic = make_key_extractor<Click>([](const auto& c) { return c.user + "!"; });
  EXPECT_EQ(*by_lambda(click), "ann");
  EXPECT_EQ(*by_function(click), "ann");
  EXPECT_EQ(*by_view(click), "nn");
  EXPECT_EQ(*by_pointer(click), "constant");
  EXPECT_EQ(*by_result(click), "7");
  EXPECT_EQ(*by_member(click), "ann");
  EXPECT_EQ(*by_generic(click), "ann!");
  EXPECT_STATUS(by_result(Click{"bob", -1}), StatusCode::kInvalidArgument, "negative page");
}

TEST(JsonFieldKeyTest, ReadsTheNamedFieldOfEachRecord) {
  KeyExtractor<json> user_id = field("user.id");
  EXPECT_EQ(key_of(user_id, json::parse(R"({"user":{"id":"u-1","name":"Ann"},"id":"other"})")), "u-1");
  EXPECT_EQ(key_of(user_id, json::parse(R"({"user":{"id":"u-2"}})")), "u-2");
  EXPECT_EQ(key_of(field("id"), json::parse(R"({"user":{"id":"u-1"},"id":"top"})")), "top");
}

TEST(JsonFieldKeyTest, NumericSegmentsIndexArrays) {
  const json order = json::parse(R"({"items":[{"sku":"A1"},{"sku":"B2"}],"grid":[[1,2],[3,4]]})");
  EXPECT_EQ(key_of(field("items.0.sku"), order), "A1");
  EXPECT_EQ(key_of(field("items.1.sku"), order), "B2");
  EXPECT_EQ(key_of(field("grid.1.0"), order), "3");
  // On an object a numeric segment is an ordinary field name.
  EXPECT_EQ(key_of(field("byday.0"), json::parse(R"({"byday":{"0":"sunday"}})")), "sunday");
  EXPECT_EQ(key_of(field("codes.007"), json::parse(R"({"codes":{"007":"bond"}})")), "bond");
  EXPECT_STATUS(field("items.01.sku")(order), StatusCode::kInvalidArgument,
                R"("items" is an array, and "01" is not an array index)");
  EXPECT_STATUS(field("items.sku")(order), StatusCode::kInvalidArgument, R"("sku" is not an array index)");
}

TEST(JsonFieldKeyTest, BackslashEscapesADotOrABackslash) {
  const json record = json::parse(R"({"a.b":"dotted","a":{"b":"nested"},"c\\d":"slashed"})");
  EXPECT_EQ(key_of(field(R"(a\.b)"), record), "dotted");
  EXPECT_EQ(key_of(field("a.b"), record), "nested");
  EXPECT_EQ(key_of(field(R"(c\\d)"), record), "slashed");
}

TEST(JsonFieldKeyTest, ScalarsGiveTheirTextStructuredValuesNeedTheOption) {
  const json record = json::parse(
      R"({"s":"text","i":42,"n":-7,"u":18446744073709551615,"f":1.5,"t":true,"z":null,)"
      R"("o":{"b":1,"a":[2]},"e":""})");
  EXPECT_EQ(key_of(field("s"), record), "text");
  EXPECT_EQ(key_of(field("e"), record), "");
  EXPECT_EQ(key_of(field("i"), record), "42");
  EXPECT_EQ(key_of(field("n"), record), "-7");
  EXPECT_EQ(key_of(field("u"), record), "18446744073709551615");
  EXPECT_EQ(key_of(field("f"), record), "1.5");
  EXPECT_EQ(key_of(field("t"), record), "true");
  EXPECT_STATUS(field("z")(record), StatusCode::kInvalidArgument,
                R"(JSON key field "z" is null, not a string)");
  EXPECT_STATUS(field("o")(record), StatusCode::kInvalidArgument, "allow_structured");
  JsonFieldOptions structured;
  structured.allow_structured = true;
  EXPECT_EQ(key_of(field("o", structured), record), R"({"a":[2],"b":1})");
  EXPECT_EQ(key_of(field("o.a", structured), record), "[2]");
  EXPECT_EQ(key_of(field("z", structured), record), "null");
}

TEST(JsonFieldKeyTest, MissingFieldNamesThePathAndTheFirstMissingSegment) {
  KeyExtractor<json> city = field("user.address.city");
  EXPECT_STATUS(city(json::parse(R"({"user":{"name":"x"}})")), StatusCode::kNotFound,
                R"(JSON key field "user.address.city" is missing: no "address" in "user")");
  EXPECT_STATUS(city(json::parse(R"({"other":1})")), StatusCode::kNotFound, R"(no "user" in the record)");
  EXPECT_STATUS(city(json::parse(R"({"user":{"address":null}})")), StatusCode::kNotFound,
                R"(no "city" in "user.address", which is null)");
  EXPECT_STATUS(field("items.2.sku")(json::parse(R"({"items":[{},{}]})")), StatusCode::kNotFound,
                R"(no "2" in "items" (the array has 2 elements))");
  EXPECT_STATUS(field(R"(a\.b.c)")(json::parse(R"({"a.b":{}})")), StatusCode::kNotFound,
                R"(no "c" in "a\.b")");
  // A field inside a scalar is a record of the wrong shape, not a missing field.
  EXPECT_STATUS(city(json::parse(R"({"user":"ann"})")), StatusCode::kInvalidArgument,
                R"("user" is a string, which has no fields)");
}

TEST(JsonFieldKeyTest, FallbackReplacesMissingFieldsOnly) {
  JsonFieldOptions options;
  options.fallback = "unknown";
  KeyExtractor<json> region = field("geo.region", options);
  EXPECT_EQ(key_of(region, json::parse(R"({"geo":{"region":"eu"}})")), "eu");
  EXPECT_EQ(key_of(region, json::parse(R"({})")), "unknown");
  EXPECT_EQ(key_of(region, json::parse(R"({"geo":null})")), "unknown");
  EXPECT_STATUS(region(json::parse(R"({"geo":{"region":null}})")), StatusCode::kInvalidArgument, "is null");
  EXPECT_STATUS(region(json::parse(R"({"geo":{"region":{"x":1}}})")), StatusCode::kInvalidArgument,
                "is object");
  options.null_is_missing = true;
  EXPECT_EQ(key_of(field("geo.region", options), json::parse(R"({"geo":{"region":null}})")), "unknown");
  JsonFieldOptions strict_null;
  strict_null.null_is_missing = true;
  EXPECT_STATUS(field("r", strict_null)(json::parse(R"({"r":null})")), StatusCode::kNotFound,
                "(the field is null)");
}

TEST(JsonFieldKeyTest, MalformedPathsFailAtCreation) {
  for (const std::string path : {"", "a..b", ".a", "a.", "a\\", R"(a\x)", "."}) {
    Result<KeyExtractor<json>> extractor = json_field_key(path);
    EXPECT_EQ(extractor.status().code(), StatusCode::kInvalidArgument) << "path: " << path;
    EXPECT_NE(extractor.status().message().find("JSON key path \"" + path + "\""), std::string::npos)
        << extractor.status().message();
  }
  EXPECT_STATUS(json_field_key("a..b"), StatusCode::kInvalidArgument, "empty segment before offset 2");
  EXPECT_STATUS(json_field_key(R"(a\x)"), StatusCode::kInvalidArgument, R"(unknown escape "\x" at offset 1)");
}

TEST(JsonCompositeKeyTest, PartsAreLengthPrefixedInOrder) {
  Result<KeyExtractor<json>> extractor = json_composite_key({"user.id", "region", "n"});
  ASSERT_OK(extractor);
  EXPECT_EQ(key_of(*extractor, json::parse(R"({"user":{"id":"u1"},"region":"eu","n":3})")),
            parts({"u1", "eu", "3"}));
  EXPECT_EQ(key_of(*extractor, json::parse(R"({"user":{"id":"u1"},"region":"eu","n":3})")),
            "\x02u1\x02"
            "eu\x01"
            "3"s);
}

TEST(JsonCompositeKeyTest, NoDelimiterAmbiguity) {
  Result<KeyExtractor<json>> extractor = json_composite_key({"a", "b"});
  ASSERT_OK(extractor);
  const std::string first = key_of(*extractor, json::parse(R"({"a":"a","b":"bc"})"));
  const std::string second = key_of(*extractor, json::parse(R"({"a":"ab","b":"c"})"));
  const std::string third = key_of(*extractor, json::parse(R"({"a":"a|b","b":""})"));
  const std::string fourth = key_of(*extractor, json::parse(R"({"a":"a","b":"|b"})"));
  EXPECT_NE(first, second);
  EXPECT_NE(third, fourth);
}

TEST(JsonCompositeKeyTest, ErrorsNameThePartAndPath) {
  EXPECT_STATUS(json_composite_key({}), StatusCode::kInvalidArgument, "list of JSON key paths is empty");
  EXPECT_STATUS(json_composite_key({"ok", "bad..path"}), StatusCode::kInvalidArgument, R"("bad..path")");
  Result<KeyExtractor<json>> extractor = json_composite_key({"a", "b"});
  ASSERT_OK(extractor);
  EXPECT_STATUS((*extractor)(json::parse(R"({"a":"x"})")), StatusCode::kNotFound,
                R"(composite key part 1: JSON key field "b" is missing)");
  JsonFieldOptions options;
  options.fallback = "-";
  Result<KeyExtractor<json>> with_fallback = json_composite_key({"a", "b"}, options);
  ASSERT_OK(with_fallback);
  EXPECT_EQ(key_of(*with_fallback, json::parse(R"({"a":"x"})")), parts({"x", "-"}));
}

TEST(CompositeKeyTest, CombinesAnyExtractorsExactly) {
  KeyExtractor<Click> user = make_key_extractor([](const Click& c) { return c.user; });
  KeyExtractor<Click> key = composite_key(user, [](const Click& c) { return std::to_string(c.page); });
  EXPECT_EQ(*key(Click{"ann", 12}), parts({"ann", "12"}));
  EXPECT_NE(*key(Click{"ann", 12}), *key(Click{"ann1", 2}));
  KeyExtractor<Click> generic =
      composite_key<Click>([](const auto& c) { return c.user; }, &Click::user, &user_of);
  EXPECT_EQ(*generic(Click{"b", 0}), parts({"b", "b", "b"}));
  KeyExtractor<Click> single = composite_key(&user_of);
  EXPECT_EQ(*single(Click{"", 0}), parts({""}));
}

TEST(CompositeKeyTest, StopsAtTheFirstFailingPart) {
  int third_calls = 0;
  KeyExtractor<Click> key = composite_key<Click>([](const Click& c) { return c.user; },
                                                 [](const Click& c) -> Result<std::string> {
                                                   if (c.page == 0) return Status::not_found("no page");
                                                   return std::to_string(c.page);
                                                 },
                                                 [&third_calls](const Click&) {
                                                   ++third_calls;
                                                   return "x";
                                                 });
  EXPECT_STATUS(key(Click{"ann", 0}), StatusCode::kNotFound, "composite key part 1: no page");
  EXPECT_EQ(third_calls, 0);
  EXPECT_EQ(*key(Click{"ann", 5}), parts({"ann", "5", "x"}));
  EXPECT_EQ(third_calls, 1);
}

TEST(JsonFieldKeyTest, OneExtractorServesManyThreads) {
  KeyExtractor<json> extractor = field("user.id");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string id = std::to_string(t * 100000 + i);
        Result<std::string> key = extractor(json{{"user", {{"id", id}}}});
        if (!key.is_ok() || *key != id) ++mismatches[static_cast<size_t>(t)];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace streamstate
