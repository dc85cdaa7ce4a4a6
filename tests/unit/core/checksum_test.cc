// Tests of the format checksum. The literals below were computed once with libxxhash's
// XXH3_64bits (seed 0) and are pinned here: stored checksums must never change, so a swap of
// hasher, seed or variant has to fail this test. Each value is also recomputed with the
// reference implementation (xxhash.h, inlined) so a wrong literal cannot hide.
#include "streamstate/checksum.h"

#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <string>
#include <vector>

namespace streamstate {
namespace {

using namespace std::string_literals;

// A fixed, non-trivial byte pattern of any length.
std::string pattern(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 31 + 7) & 0xFF);
  return out;
}

uint64_t reference(BytesView data) { return XXH3_64bits(data.data(), data.size()); }

TEST(ChecksumTest, EmptyInputMatchesXxh3Specification) {
  EXPECT_EQ(checksum64(""), 0x2D06800538D394C2ULL);
  EXPECT_EQ(checksum64(BytesView{}), 0x2D06800538D394C2ULL);
}

TEST(ChecksumTest, KnownStrings) {
  EXPECT_EQ(checksum64("a"), 0xE6C632B61E964E1FULL);
  EXPECT_EQ(checksum64("abc"), 0x78AF5F94892F3950ULL);
  EXPECT_EQ(checksum64("hello world"), 0xD447B1EA40E6988BULL);
  EXPECT_EQ(checksum64("streamstate"), 0xB9CAF845E7440E6AULL);
  EXPECT_EQ(checksum64("\0\x01\x02"s), 0x5F4299FC161C9CBBULL);
}

TEST(ChecksumTest, KnownPatternsAcrossXxh3SizeClasses) {
  // XXH3 uses different code paths for 0, 1-3, 4-8, 9-16, 17-128, 129-240 and longer
  // inputs; pin one value on each side of every boundary.
  struct Case {
    size_t size;
    uint64_t expected;
  };
  const std::vector<Case> cases = {
      {1, 0x4C5CCA45D0F4811FULL},    {3, 0x15F7093B173D005CULL},   {4, 0xDCA012F95811B6B9ULL},
      {8, 0xDEC6A9A43575982EULL},    {9, 0xCBE393399F17FFBDULL},   {16, 0x7E484C18D74895D0ULL},
      {17, 0x208BDE5EE2BED407ULL},   {128, 0xF92B70EAA21A6288ULL}, {129, 0xF8F76713F2BB60FAULL},
      {240, 0xCCC7375172C41F03ULL},  {241, 0x0B3B630948CE4A00ULL}, {1000, 0x989765D0EA7A5ECDULL},
      {100000, 0xCCF90DF7E7E37036ULL},
  };
  for (const Case& c : cases) {
    const std::string data = pattern(c.size);
    EXPECT_EQ(checksum64(data), c.expected) << "size " << c.size;
    EXPECT_EQ(checksum64(data), reference(data)) << "size " << c.size;
  }
}

TEST(ChecksumTest, AgreesWithReferenceOnManySizes) {
  const std::string data = pattern(5000);
  for (size_t size = 0; size <= data.size(); size += (size < 300 ? 1 : 97)) {
    const BytesView view(data.data(), size);
    ASSERT_EQ(checksum64(view), reference(view)) << "size " << size;
  }
}

TEST(ChecksumTest, DifferentDataDiffers) {
  EXPECT_NE(checksum64("a"), checksum64("b"));
  EXPECT_NE(checksum64("ab"), checksum64("ba"));
  EXPECT_NE(checksum64(""), checksum64("\0"s));
  EXPECT_NE(checksum64("\0"s), checksum64("\0\0"s));

  // Flipping any single bit of a block changes its checksum.
  std::string data = pattern(300);
  const uint64_t original = checksum64(data);
  for (size_t byte = 0; byte < data.size(); byte += 13) {
    for (int bit = 0; bit < 8; ++bit) {
      data[byte] = static_cast<char>(data[byte] ^ (1 << bit));
      EXPECT_NE(checksum64(data), original) << "byte " << byte << " bit " << bit;
      data[byte] = static_cast<char>(data[byte] ^ (1 << bit));
    }
  }
  EXPECT_EQ(checksum64(data), original);
}

TEST(ChecksumBuilderTest, NoUpdatesIsChecksumOfEmpty) {
  Checksum64Builder builder;
  EXPECT_EQ(builder.digest(), 0x2D06800538D394C2ULL);
}

TEST(ChecksumBuilderTest, EqualsOneShotOverPieces) {
  const std::string data = pattern(20000);
  const uint64_t expected = checksum64(data);
  // Split at several piece sizes, including pieces crossing XXH3's internal 256-byte stripes.
  for (size_t piece : {size_t{1}, size_t{3}, size_t{64}, size_t{255}, size_t{256}, size_t{1000},
                       size_t{4096}, size_t{20000}}) {
    Checksum64Builder builder;
    for (size_t offset = 0; offset < data.size(); offset += piece) {
      builder.update(BytesView(data).substr(offset, piece));
    }
    EXPECT_EQ(builder.digest(), expected) << "piece " << piece;
  }
}

TEST(ChecksumBuilderTest, EmptyUpdatesChangeNothing) {
  Checksum64Builder builder;
  builder.update("");
  builder.update("abc");
  builder.update(BytesView{});
  EXPECT_EQ(builder.digest(), 0x78AF5F94892F3950ULL);
}

TEST(ChecksumBuilderTest, DigestDoesNotEndTheStream) {
  Checksum64Builder builder;
  builder.update("hello");
  EXPECT_EQ(builder.digest(), checksum64("hello"));
  EXPECT_EQ(builder.digest(), checksum64("hello"));  // idempotent
  builder.update(" world");
  EXPECT_EQ(builder.digest(), 0xD447B1EA40E6988BULL);
}

TEST(ChecksumBuilderTest, IndependentBuilders) {
  Checksum64Builder first;
  Checksum64Builder second;
  first.update("abc");
  second.update("a");
  EXPECT_EQ(first.digest(), checksum64("abc"));
  EXPECT_EQ(second.digest(), checksum64("a"));
}

}  // namespace
}  // namespace streamstate
