// Built-in codecs on garbage: every failure is a Corruption naming the type, never a crash, an
// out-of-bounds read or an allocation sized by an unchecked count (run under ASan/UBSan in CI).
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "streamstate/codec.h"
#include "testutil/status_matchers.h"
#include "testutil/test_data.h"

namespace streamstate {
namespace {

using namespace std::string_literals;

using testing::bytes;

// Every strict prefix of a valid encoding fails (the encodings are self-delimiting) and so
// does the encoding with a byte appended.
template <typename T>
void expect_every_truncation_fails(const T& value) {
  const std::string encoded = encode_value(value);
  for (size_t length = 0; length < encoded.size(); ++length) {
    Result<T> decoded = decode_value<T>(BytesView(encoded.data(), length));
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption)
        << codec_name<T>() << " prefix of " << length << "/" << encoded.size() << " bytes";
  }
  EXPECT_STATUS(decode_value<T>(encoded + "\x01"), StatusCode::kCorruption, "1 trailing bytes");
  ASSERT_OK(decode_value<T>(encoded));
}

TEST(CodecTruncationTest, EveryPrefixOfValidEncodingsIsCorruption) {
  expect_every_truncation_fails(int64_t{-5});
  expect_every_truncation_fails(3.25);
  expect_every_truncation_fails(std::string(200, 'q'));  // two-byte length varint
  expect_every_truncation_fails(std::vector<uint8_t>{1, 2, 3});
  expect_every_truncation_fails(std::vector<std::string>{"a", "", "bcd"});
  expect_every_truncation_fails(std::map<std::string, std::vector<int32_t>>{{"x", {1, 2}}, {"yy", {}}});
  expect_every_truncation_fails(
      std::unordered_map<int16_t, std::optional<bool>>{{1, true}, {2, std::nullopt}});
  expect_every_truncation_fails(
      std::tuple<bool, std::pair<char, double>, std::optional<std::string>>{true, {'c', 1.0}, "z"});
  expect_every_truncation_fails(std::array<int32_t, 3>{1, 2, 3});
}

TEST(CodecCorruptionTest, MessagesNameTheTypeAndWhere) {
  EXPECT_STATUS(decode_value<int64_t>(bytes({1, 2, 3})), StatusCode::kCorruption,
                "i64: truncated, needs 8 bytes but 3");
  // Count 4 but only three elements follow, then a string whose length overruns.
  EXPECT_STATUS(decode_value<std::vector<std::string>>(bytes({4, 1, 'a', 1, 'b', 1, 'c', 9})),
                StatusCode::kCorruption,
                "vector<string>: element 3: string: length 9 exceeds the 0 remaining bytes");
  EXPECT_STATUS((decode_value<std::map<std::string, int32_t>>(bytes({1, 1, 'k', 7}))),
                StatusCode::kCorruption, "map<string,i32>: element count 1 exceeds");
  EXPECT_STATUS((decode_value<std::map<std::string, bool>>(bytes({2, 1, 'k', 1, 1, 'm', 5}))),
                StatusCode::kCorruption, "map<string,bool>: value of entry 1: bool: byte is 5");
  EXPECT_STATUS((decode_value<std::pair<int8_t, std::string>>(bytes({1, 3, 'a'}))), StatusCode::kCorruption,
                "pair<i8,string>: second: string");
  EXPECT_STATUS((decode_value<std::tuple<int8_t, bool, int8_t>>(bytes({1, 2, 3}))), StatusCode::kCorruption,
                "tuple<i8,bool,i8>: element 1: bool: byte is 2");
}

TEST(CodecCorruptionTest, BoolAndPresenceBytesMustBeZeroOrOne) {
  EXPECT_STATUS(decode_value<bool>(bytes({2})), StatusCode::kCorruption, "bool: byte is 2, not 0 or 1");
  EXPECT_STATUS(decode_value<bool>(bytes({0xff})), StatusCode::kCorruption, "not 0 or 1");
  EXPECT_STATUS(decode_value<std::vector<bool>>(bytes({3, 1, 0, 7})), StatusCode::kCorruption,
                "vector<bool>: element 2: bool: byte is 7");
  EXPECT_STATUS(decode_value<std::optional<int8_t>>(bytes({2, 5})), StatusCode::kCorruption,
                "optional<i8>: presence byte is 2");
  EXPECT_STATUS(decode_value<bool>(""), StatusCode::kCorruption, "bool: truncated");
}

TEST(CodecCorruptionTest, HugeCountsAndLengthsAreRejectedBeforeAllocating) {
  // varint of 2^63: a vector count, a map count and a string length the input cannot hold.
  const std::string huge = bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
  EXPECT_STATUS(decode_value<std::vector<int64_t>>(huge), StatusCode::kCorruption,
                "vector<i64>: element count");
  EXPECT_STATUS(decode_value<std::vector<std::string>>(huge + "abc"), StatusCode::kCorruption,
                "exceeds what the 3");
  EXPECT_STATUS((decode_value<std::map<int32_t, int32_t>>(huge)), StatusCode::kCorruption,
                "map<i32,i32>: element count");
  EXPECT_STATUS(decode_value<std::string>(huge + "abc"), StatusCode::kCorruption,
                "string: length 9223372036854775808 exceeds the 3 remaining bytes");
  EXPECT_STATUS(decode_value<std::vector<uint8_t>>(huge), StatusCode::kCorruption, "bytes: length");
  // A count of 2^28 fixed-size elements over 100 bytes.
  EXPECT_STATUS(
      decode_value<std::vector<int32_t>>(bytes({0x80, 0x80, 0x80, 0x80, 0x01}) + std::string(100, '\0')),
      StatusCode::kCorruption, "element count 268435456 exceeds");
  // Elements that encode to zero bytes: the count cannot be bounded by the input, so a fixed
  // cap applies; small counts still decode.
  EXPECT_STATUS(decode_value<std::vector<std::tuple<>>>(huge), StatusCode::kCorruption, "element count");
  Result<std::vector<std::tuple<>>> units = decode_value<std::vector<std::tuple<>>>(bytes({5}));
  ASSERT_OK(units);
  EXPECT_EQ(units->size(), 5u);
}

TEST(CodecCorruptionTest, MalformedVarintsAreCorruption) {
  const std::string eleven_continuations(11, '\xff');
  EXPECT_STATUS(decode_value<std::string>(eleven_continuations), StatusCode::kCorruption,
                "string: truncated or malformed length");
  EXPECT_STATUS(decode_value<std::vector<int8_t>>(eleven_continuations), StatusCode::kCorruption,
                "vector<i8>: truncated or malformed element count");
  EXPECT_STATUS(decode_value<std::vector<int8_t>>(bytes({0x80})), StatusCode::kCorruption, "vector<i8>");
}

TEST(CodecCorruptionTest, RepeatedMapKeysAreCorruption) {
  EXPECT_STATUS((decode_value<std::map<int8_t, int8_t>>(bytes({2, 1, 10, 1, 11}))), StatusCode::kCorruption,
                "map<i8,i8>: entry 1 repeats an earlier key");
  EXPECT_STATUS((decode_value<std::unordered_map<int8_t, int8_t>>(bytes({2, 1, 10, 1, 11}))),
                StatusCode::kCorruption, "repeats an earlier key");
}

// Decodes arbitrary bytes: must be OK or Corruption. A successful decode re-encodes to bytes
// no longer than the input (the input may hold overlong varints or unsorted map entries) that
// decode and re-encode to themselves (compared as bytes, since a decoded NaN != itself).
template <typename T>
void fuzz_decode(std::mt19937_64& random, const std::string& seed_encoding) {
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      input.resize(static_cast<size_t>(random() % 40));
      for (char& c : input) c = static_cast<char>(byte(random));
    } else {
      input = seed_encoding;  // a valid encoding with a few bytes flipped, cut or extended
      for (int flips = 1 + static_cast<int>(random() % 3); flips > 0 && !input.empty(); --flips) {
        input[random() % input.size()] = static_cast<char>(byte(random));
      }
      if (random() % 4 == 0) input.resize(random() % (input.size() + 1));
      if (random() % 4 == 0) input.push_back(static_cast<char>(byte(random)));
    }
    Result<T> decoded = decode_value<T>(input);
    if (decoded.is_ok()) {
      const std::string reencoded = encode_value(*decoded);
      EXPECT_LE(reencoded.size(), input.size()) << codec_name<T>();
      Result<T> again = decode_value<T>(reencoded);
      ASSERT_OK(again);
      EXPECT_EQ(encode_value(*again), reencoded) << codec_name<T>();
    } else {
      EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << decoded.status().to_string();
    }
  }
}

TEST(CodecFuzzTest, RandomAndMutatedInputsNeverCrash) {
  std::mt19937_64 random(20240611);
  using Nested = std::vector<std::tuple<bool, std::optional<std::string>, std::vector<int16_t>>>;
  fuzz_decode<Nested>(random, encode_value(Nested{{true, "ab", {1, 2}}, {false, std::nullopt, {}}}));
  using Strings = std::vector<std::vector<std::string>>;
  fuzz_decode<Strings>(random, encode_value(Strings{{"x", ""}, {}, {"yz"}}));
  using Deep = std::map<std::string, std::unordered_map<int32_t, std::vector<bool>>>;
  fuzz_decode<Deep>(random, encode_value(Deep{{"k", {{1, {true, false}}, {-7, {}}}}}));
  fuzz_decode<std::optional<std::pair<double, std::string>>>(
      random, encode_value(std::optional<std::pair<double, std::string>>{{1.5, "abc"}}));
}

}  // namespace
}  // namespace streamstate
