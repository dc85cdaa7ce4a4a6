// Helpers shared by the compression tests: the compression types they run over, test names
// spelled independently of the code under test, and a parser for the documented frame
// ([type][varint64 size][payload]). Constants and pure functions: safe from any thread.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "streamstate/bytes.h"
#include "streamstate/compression.h"

namespace streamstate::testing {

inline const std::vector<CompressionType> kAllTypes = {CompressionType::kNone, CompressionType::kLz4,
                                                       CompressionType::kSnappy, CompressionType::kZstd};
inline const std::vector<CompressionType> kCompressingTypes = {
    CompressionType::kLz4, CompressionType::kSnappy, CompressionType::kZstd};

// Test names independent of the code under test.
inline std::string label(CompressionType type) {
  switch (type) {
    case CompressionType::kNone: return "None";
    case CompressionType::kLz4: return "Lz4";
    case CompressionType::kSnappy: return "Snappy";
    case CompressionType::kZstd: return "Zstd";
  }
  return "Unknown";
}

// Names parameterized tests by codec ("AllTypes/CompressionTypeTest.RoundTripsEmpty/Lz4").
inline std::string test_name(const ::testing::TestParamInfo<CompressionType>& param_info) {
  return label(param_info.param);
}

struct ParsedFrame {
  uint8_t type = 0;
  uint64_t size = 0;
  std::string payload;
};

// Splits a compressed block into its frame fields; a header that does not parse fails the test.
inline ParsedFrame parse_frame(BytesView block) {
  ParsedFrame parsed;
  ByteReader reader(block);
  EXPECT_TRUE(reader.read_byte(parsed.type));
  EXPECT_TRUE(reader.read_varint64(parsed.size));
  parsed.payload = std::string(reader.rest());
  return parsed;
}

}  // namespace streamstate::testing
