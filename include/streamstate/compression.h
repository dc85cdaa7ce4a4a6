// Block compression behind one small interface: none, LZ4, Snappy and Zstd, through their
// own libraries.
//
// A compressed block is self-describing:
//   [1 byte compression type][varint64 uncompressed size][payload]
// so any block can be decompressed without knowing how it was written, the output buffer is
// sized from a checked length, and a block whose payload does not expand to exactly the
// stored size is reported as Corruption. See docs/formats.md.
//
// Thread-safety: reentrant; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate {

enum class CompressionType : uint8_t {
  kNone = 0,
  kLz4 = 1,
  kSnappy = 2,
  kZstd = 3,
};

// "none", "lz4", "snappy", "zstd".
std::string_view compression_name(CompressionType type);
// Parses the names above (case-insensitive); the error lists the accepted names.
Result<CompressionType> parse_compression(std::string_view name);

// Largest uncompressed block a decoder accepts unless told otherwise: 1 GiB.
inline constexpr uint64_t kDefaultMaxUncompressedBlock = uint64_t{1} << 30;

struct CompressionOptions {
  // Zstd level (1..19). Default: 3.
  int zstd_level = 3;
};

// Replaces `out` with the framed, compressed form of `input`.
Status compress_block(CompressionType type, BytesView input, std::string& out,
                      const CompressionOptions& options = {});

// Replaces `out` with the bytes of a block written by compress_block. Fails with Corruption
// on an unknown type byte, a truncated header, a size above max_uncompressed, or a payload
// that does not expand to exactly the stored size.
Status decompress_block(BytesView block, std::string& out,
                        uint64_t max_uncompressed = kDefaultMaxUncompressedBlock);

}  // namespace streamstate
