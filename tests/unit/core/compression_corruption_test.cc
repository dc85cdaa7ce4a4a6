// Tests of damaged compressed blocks: a truncated header, an unknown type byte, a stored size
// that is too big, too small or above the limit, garbage, truncated or extended payloads and
// payloads of another codec all give Corruption - never a crash, an out-of-bounds read (the
// sanitizer build watches) or an allocation sized from an unchecked length.
#include "streamstate/compression.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "testutil/status_matchers.h"
#include "testutil/test_data.h"
#include "unit/core/compression_test_util.h"

namespace streamstate {
namespace {

using namespace std::string_literals;

using namespace testing;  // test_data.h, compression_test_util.h

// A frame built by hand: [type][varint64 size][payload].
std::string frame(uint8_t type, uint64_t size, BytesView payload) {
  std::string out(1, static_cast<char>(type));
  put_varint64(out, size);
  out.append(payload.data(), payload.size());
  return out;
}


class CompressionCorruptionTest : public ::testing::TestWithParam<CompressionType> {};

TEST_P(CompressionCorruptionTest, TrailingBytesAfterPayloadAreCorruption) {
  const std::string input = compressible(2000);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), input, compressed));
  for (const std::string& tail : {"\0"s, "xyz"s, random_bytes(100, 4)}) {
    std::string out;
    EXPECT_STATUS(decompress_block(compressed + tail, out), StatusCode::kCorruption, "");
  }
  std::string empty_block;
  ASSERT_OK(compress_block(GetParam(), "", empty_block));
  std::string out;
  EXPECT_STATUS(decompress_block(empty_block + "x", out), StatusCode::kCorruption, "");
}

TEST_P(CompressionCorruptionTest, StoredSizeTooBigIsCorruption) {
  const std::string input = compressible(1000);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), input, compressed));
  const ParsedFrame parsed = parse_frame(compressed);
  std::string out;
  EXPECT_STATUS(decompress_block(frame(parsed.type, 1001, parsed.payload), out), StatusCode::kCorruption, "");
  EXPECT_STATUS(decompress_block(frame(parsed.type, 4000, parsed.payload), out), StatusCode::kCorruption, "");
}

TEST_P(CompressionCorruptionTest, StoredSizeTooSmallIsCorruption) {
  const std::string input = compressible(1000);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), input, compressed));
  const ParsedFrame parsed = parse_frame(compressed);
  std::string out;
  EXPECT_STATUS(decompress_block(frame(parsed.type, 999, parsed.payload), out), StatusCode::kCorruption, "");
  EXPECT_STATUS(decompress_block(frame(parsed.type, 1, parsed.payload), out), StatusCode::kCorruption, "");
  EXPECT_STATUS(decompress_block(frame(parsed.type, 0, parsed.payload), out), StatusCode::kCorruption, "");
}

TEST_P(CompressionCorruptionTest, EveryTruncationIsCorruption) {
  // Cutting a frame anywhere - in the header or in the payload - must be detected.
  const std::string input = compressible(300) + random_bytes(300, 9);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), input, compressed));
  for (size_t cut = 0; cut < compressed.size(); ++cut) {
    std::string out;
    const Status status = decompress_block(BytesView(compressed).substr(0, cut), out);
    EXPECT_EQ(status.code(), StatusCode::kCorruption) << "cut at " << cut << ": " << status.to_string();
  }
}

TEST_P(CompressionCorruptionTest, SizeAboveMaxUncompressedIsCorruption) {
  const std::string input = compressible(1000);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), input, compressed));
  std::string out;
  EXPECT_STATUS(decompress_block(compressed, out, 999), StatusCode::kCorruption, "");
  EXPECT_STATUS(decompress_block(compressed, out, 0), StatusCode::kCorruption, "");
  ASSERT_OK(decompress_block(compressed, out, 1000));
  EXPECT_TRUE(out == input);
}

TEST_P(CompressionCorruptionTest, HugeClaimedSizeIsRejectedBeforeAllocating) {
  // A damaged size field must not make the decoder allocate (or try to) exabytes.
  const std::string payload = random_bytes(64, 5);
  const auto type = static_cast<uint8_t>(GetParam());
  std::string out;
  for (uint64_t size : {kDefaultMaxUncompressedBlock + 1, uint64_t{1} << 62, ~uint64_t{0}}) {
    EXPECT_STATUS(decompress_block(frame(type, size, payload), out), StatusCode::kCorruption, "");
  }
}

TEST_P(CompressionCorruptionTest, DamagedPayloadNeverCrashes) {
  // Codecs without their own checksum may decode flipped bytes into other bytes of the right
  // length; what must never happen is a crash, an out-of-bounds access (sanitizers watch
  // this) or a result of the wrong size.
  const std::string input = compressible(10000) + random_bytes(10000, 11);
  std::string compressed;
  ASSERT_OK(compress_block(GetParam(), input, compressed));
  const size_t header = 1 + varint_length(input.size());
  Rng rng(17);
  for (int round = 0; round < 200; ++round) {
    std::string damaged = compressed;
    for (int flips = 0; flips < 1 + round % 4; ++flips) {
      const size_t at = header + rng.next() % (damaged.size() - header);
      damaged[at] = static_cast<char>(damaged[at] ^ (1 + rng.next() % 255));
    }
    std::string out;
    const Status status = decompress_block(damaged, out);
    if (status.is_ok()) {
      EXPECT_EQ(out.size(), input.size()) << "round " << round;
    } else {
      EXPECT_EQ(status.code(), StatusCode::kCorruption) << "round " << round << ": " << status.to_string();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CompressionCorruptionTest, ::testing::ValuesIn(kAllTypes), test_name);

class CodecCorruptionTest : public ::testing::TestWithParam<CompressionType> {};

TEST_P(CodecCorruptionTest, GarbagePayloadIsCorruption) {
  const auto type = static_cast<uint8_t>(GetParam());
  for (size_t length : {size_t{1}, size_t{2}, size_t{5}, size_t{64}, size_t{999}, size_t{4096}}) {
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      std::string out;
      const std::string garbage = random_bytes(length, seed * 1000 + length);
      const Status status = decompress_block(frame(type, 1000, garbage), out);
      EXPECT_EQ(status.code(), StatusCode::kCorruption)
          << label(GetParam()) << " garbage of " << length << " bytes, seed " << seed << ": "
          << status.to_string();
    }
  }
}

TEST_P(CodecCorruptionTest, EmptyPayloadWithNonZeroSizeIsCorruption) {
  std::string out;
  const std::string block = frame(static_cast<uint8_t>(GetParam()), 10, "");
  EXPECT_STATUS(decompress_block(block, out), StatusCode::kCorruption, "");
}

TEST_P(CodecCorruptionTest, PayloadOfAnotherCodecIsCorruption) {
  // A payload relabelled with the wrong type byte must not decode to the stored size.
  const std::string input = compressible(3000);
  for (CompressionType writer : kCompressingTypes) {
    if (writer == GetParam()) continue;
    std::string compressed;
    ASSERT_OK(compress_block(writer, input, compressed));
    compressed[0] = static_cast<char>(GetParam());
    std::string out;
    EXPECT_STATUS(decompress_block(compressed, out), StatusCode::kCorruption, "");
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecCorruptionTest, ::testing::ValuesIn(kCompressingTypes), test_name);

TEST(CompressionFrameTest, NonePayloadLengthMustMatchSize) {
  std::string out;
  EXPECT_STATUS(decompress_block(frame(0, 4, "abc"), out), StatusCode::kCorruption, "");
  EXPECT_STATUS(decompress_block(frame(0, 2, "abc"), out), StatusCode::kCorruption, "");
  ASSERT_OK(decompress_block(frame(0, 3, "abc"), out));
  EXPECT_EQ(out, "abc");
}

TEST(CompressionFrameTest, EmptyBlockIsCorruption) {
  std::string out;
  EXPECT_STATUS(decompress_block("", out), StatusCode::kCorruption, "");
}

TEST(CompressionFrameTest, TypeByteWithoutSizeIsCorruption) {
  for (CompressionType type : kAllTypes) {
    std::string out;
    const std::string type_only(1, static_cast<char>(type));
    EXPECT_STATUS(decompress_block(type_only, out), StatusCode::kCorruption, "");
    // A size varint cut after a continuation byte.
    EXPECT_STATUS(decompress_block(type_only + "\x80"s, out), StatusCode::kCorruption, "");
  }
}

TEST(CompressionFrameTest, UnknownTypeByteIsCorruption) {
  for (uint8_t type : {uint8_t{4}, uint8_t{5}, uint8_t{0x7F}, uint8_t{0x80}, uint8_t{0xFF}}) {
    std::string out;
    SCOPED_TRACE("type byte " + std::to_string(type));
    EXPECT_STATUS(decompress_block(frame(type, 3, "abc"), out), StatusCode::kCorruption, "");
  }
}

TEST(CompressionFrameTest, CompressingWithUnknownTypeFails) {
  std::string out;
  const Status status = compress_block(static_cast<CompressionType>(9), "abc", out);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.to_string();
}

TEST(CompressionFrameTest, CompressingEmptyInputWithUnknownTypeFails) {
  // Otherwise the writer produces a block that every reader rejects as Corruption.
  std::string out;
  const Status status = compress_block(static_cast<CompressionType>(9), "", out);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument)
      << status.to_string() << ", wrote a block of " << out.size() << " bytes";
}

}  // namespace
}  // namespace streamstate
