// Tests of block compression that succeeds: every codec round-trips values of every awkward
// size (empty, one byte, the 255/256/257 bytes where an LZ4 size-prefix mix-up shows, random
// megabytes and a realistic 64 MiB block), writes the documented self-describing frame,
// actually compresses, and names and options behave as documented. Damaged frames are in
// compression_corruption_test.cc.
#include "streamstate/compression.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "testutil/status_matchers.h"
#include "testutil/test_data.h"
#include "unit/core/compression_test_util.h"

namespace streamstate {
namespace {

using namespace std::string_literals;

using namespace testing;  // test_data.h, compression_test_util.h

// A realistic mixture of chunks: random bytes, repeated log lines with varying digits,
// low-entropy DNA-like text and runs of one byte.
std::string mixed_data(size_t size, uint64_t seed) {
  static const std::string line = "ts=1714564800123 key=user-000000 op=put column=counts value=42\n";
  Rng rng(seed);
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    const size_t chunk = std::min<size_t>(size - out.size(), 16384 + rng.next() % 49152);
    const size_t start = out.size();
    switch (rng.next() % 4) {
      case 0:
        append_random(out, chunk, rng);
        break;
      case 1:
        while (out.size() < start + chunk) out += line;
        out.resize(start + chunk);
        for (size_t i = start + 27; i < out.size(); i += line.size()) {
          out[i] = static_cast<char>('0' + rng.next() % 10);
        }
        break;
      case 2: {
        out.resize(start + chunk);
        uint64_t bits = 0;
        for (size_t i = 0; i < chunk; ++i) {
          if (i % 32 == 0) bits = rng.next();
          out[start + i] = "ACGT"[bits & 3];
          bits >>= 2;
        }
        break;
      }
      default:
        out.append(chunk, static_cast<char>(rng.next() & 0xFF));
        break;
    }
  }
  return out;
}


void expect_round_trip(CompressionType type, const std::string& input) {
  std::string compressed = "stale bytes that compress_block must replace";
  ASSERT_OK(compress_block(type, input, compressed));
  const ParsedFrame parsed = parse_frame(compressed);
  EXPECT_EQ(parsed.type, static_cast<uint8_t>(type));
  EXPECT_EQ(parsed.size, input.size());

  std::string output = "stale bytes that decompress_block must replace";
  ASSERT_OK(decompress_block(compressed, output));
  ASSERT_EQ(output.size(), input.size());
  EXPECT_TRUE(output == input) << label(type) << " round trip of " << input.size() << " bytes differs";
}


class CompressionRoundTripTest : public ::testing::TestWithParam<CompressionType> {};

TEST_P(CompressionRoundTripTest, RoundTripsEmpty) { expect_round_trip(GetParam(), ""); }

TEST_P(CompressionRoundTripTest, RoundTripsOneByte) {
  expect_round_trip(GetParam(), "x");
  expect_round_trip(GetParam(), "\0"s);
}

TEST_P(CompressionRoundTripTest, RoundTripsAroundTheOneByteSizeBoundary) {
  // 255/256/257: a codec whose size prefix is written one way and read another fails here.
  for (size_t size : {size_t{254}, size_t{255}, size_t{256}, size_t{257}, size_t{258}, size_t{65535},
                      size_t{65536}, size_t{65537}}) {
    expect_round_trip(GetParam(), compressible(size));
    expect_round_trip(GetParam(), random_bytes(size, size));
    expect_round_trip(GetParam(), std::string(size, '\0'));
  }
}

TEST_P(CompressionRoundTripTest, RoundTripsEverySmallSize) {
  const std::string text = compressible(600);
  const std::string noise = random_bytes(600, 7);
  // Every size up to 300, then a sparser sweep (zstd sets up a context per call).
  for (size_t size = 0; size <= 600; size += (size < 300 ? 1 : 7)) {
    expect_round_trip(GetParam(), text.substr(0, size));
    expect_round_trip(GetParam(), noise.substr(0, size));
  }
}

TEST_P(CompressionRoundTripTest, RoundTripsIncompressibleMebibyte) {
  expect_round_trip(GetParam(), random_bytes(size_t{1} << 20, 42));
}

TEST_P(CompressionRoundTripTest, RoundTripsHighlyCompressibleInput) {
  // Long runs reach each codec's best ratio; a reader's sanity limit on expansion must allow it.
  expect_round_trip(GetParam(), std::string(size_t{4} << 20, '\0'));
  expect_round_trip(GetParam(), std::string(size_t{1} << 20, 'a'));
}

TEST_P(CompressionRoundTripTest, FrameStartsWithTypeAndSize) {
  const std::string input = compressible(5000);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), input, compressed));
  ASSERT_GE(compressed.size(), 1 + varint_length(input.size()));
  EXPECT_EQ(static_cast<uint8_t>(compressed[0]), static_cast<uint8_t>(GetParam()));
  ByteReader reader(BytesView(compressed).substr(1));
  uint64_t size = 0;
  ASSERT_TRUE(reader.read_varint64(size));
  EXPECT_EQ(size, 5000u);
}

TEST_P(CompressionRoundTripTest, RepeatedCompressionIsDeterministic) {
  const std::string input = mixed_data(200000, 3);
  std::string first;
  std::string second;
  ASSERT_OK(compress_block(GetParam(), input, first));
  ASSERT_OK(compress_block(GetParam(), input, second));
  EXPECT_TRUE(first == second);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CompressionRoundTripTest, ::testing::ValuesIn(kAllTypes), test_name);

class CodecTest : public ::testing::TestWithParam<CompressionType> {};

TEST_P(CodecTest, CompressibleInputShrinks) {
  const std::string input = compressible(65536);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), input, compressed));
  EXPECT_LT(compressed.size(), input.size() / 4) << label(GetParam()) << " did not compress";
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecTest, ::testing::ValuesIn(kCompressingTypes), test_name);

// The 64 MiB block is generated once for the whole suite.
class LargeBlockTest : public ::testing::TestWithParam<CompressionType> {
 protected:
  static void SetUpTestSuite() { data_ = std::make_unique<std::string>(mixed_data(size_t{64} << 20, 2024)); }
  static void TearDownTestSuite() { data_.reset(); }
  static inline std::unique_ptr<std::string> data_;
};

TEST_P(LargeBlockTest, RoundTrips64MiB) {
  ASSERT_NE(data_, nullptr);
  ASSERT_EQ(data_->size(), size_t{64} << 20);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), *data_, compressed));
  const ParsedFrame parsed = parse_frame(compressed);
  EXPECT_EQ(parsed.type, static_cast<uint8_t>(GetParam()));
  EXPECT_EQ(parsed.size, data_->size());
  if (GetParam() != CompressionType::kNone) {
    // Three quarters of the chunks are compressible.
    EXPECT_LT(compressed.size(), data_->size() * 3 / 4);
  }
  std::string output;
  ASSERT_OK(decompress_block(compressed, output));
  ASSERT_EQ(output.size(), data_->size());
  EXPECT_TRUE(output == *data_);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, LargeBlockTest, ::testing::ValuesIn(kAllTypes),
                         test_name);

TEST(CompressionFrameTest, NoneStoresTheInputVerbatim) {
  const std::string input = "abc\0def"s;
  std::string compressed;
  ASSERT_OK(compress_block(CompressionType::kNone, input, compressed));
  EXPECT_EQ(compressed, "\x00\x07"s + input);
}

TEST(CompressionNameTest, Names) {
  EXPECT_EQ(compression_name(CompressionType::kNone), "none");
  EXPECT_EQ(compression_name(CompressionType::kLz4), "lz4");
  EXPECT_EQ(compression_name(CompressionType::kSnappy), "snappy");
  EXPECT_EQ(compression_name(CompressionType::kZstd), "zstd");
}

TEST(CompressionNameTest, TypeBytesAreStable) {
  // The type byte is stored in every block; it can never change.
  EXPECT_EQ(static_cast<int>(CompressionType::kNone), 0);
  EXPECT_EQ(static_cast<int>(CompressionType::kLz4), 1);
  EXPECT_EQ(static_cast<int>(CompressionType::kSnappy), 2);
  EXPECT_EQ(static_cast<int>(CompressionType::kZstd), 3);
}

TEST(CompressionNameTest, ParseIsCaseInsensitive) {
  struct Case {
    const char* name;
    CompressionType type;
  };
  for (const Case& c : {Case{"none", CompressionType::kNone}, Case{"NONE", CompressionType::kNone},
                        Case{"lz4", CompressionType::kLz4}, Case{"LZ4", CompressionType::kLz4},
                        Case{"snappy", CompressionType::kSnappy}, Case{"SnAppY", CompressionType::kSnappy},
                        Case{"zstd", CompressionType::kZstd}, Case{"ZSTD", CompressionType::kZstd},
                        Case{"Zstd", CompressionType::kZstd}}) {
    Result<CompressionType> parsed = parse_compression(c.name);
    ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, c.type) << c.name;
  }
  for (CompressionType type : kAllTypes) {
    Result<CompressionType> parsed = parse_compression(compression_name(type));
    ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, type);
  }
}

TEST(CompressionNameTest, UnknownNameListsAcceptedNames) {
  for (const char* name : {"gzip", "lz", "lz44", "zstd1", "brotli"}) {
    Result<CompressionType> parsed = parse_compression(name);
    EXPECT_STATUS(parsed, StatusCode::kInvalidArgument, name);
    for (const char* accepted : {"none", "lz4", "snappy", "zstd"}) {
      EXPECT_STATUS(parsed, StatusCode::kInvalidArgument, accepted);
    }
  }
  EXPECT_STATUS(parse_compression(""), StatusCode::kInvalidArgument, "snappy");
}

TEST(CompressionOptionsTest, ZstdLevelsRoundTrip) {
  const std::string input = mixed_data(300000, 8);
  for (int level : {1, 3, 9, 19}) {
    CompressionOptions options;
    options.zstd_level = level;
    std::string compressed;
    ASSERT_OK(compress_block(CompressionType::kZstd, input, compressed, options));
    std::string output;
    ASSERT_OK(decompress_block(compressed, output));
    EXPECT_TRUE(output == input) << "level " << level;
  }
}

TEST(CompressionOptionsTest, ZstdLevelOutsideDocumentedRangeIsInvalidArgument) {
  for (int level : {-1, 0, 20, 100}) {
    CompressionOptions options;
    options.zstd_level = level;
    std::string compressed;
    EXPECT_STATUS(compress_block(CompressionType::kZstd, "abc", compressed, options),
                  StatusCode::kInvalidArgument, "zstd_level");
  }
}

}  // namespace
}  // namespace streamstate
