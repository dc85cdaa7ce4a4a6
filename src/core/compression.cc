#include "streamstate/compression.h"

#include <lz4.h>
#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace streamstate {
namespace {

// LZ4 cannot expand a block by more than this factor (a match token covers at most 255 bytes
// per byte of input, plus a few bytes of framing); checking it keeps a corrupt size from
// turning into a huge allocation.
constexpr uint64_t kLz4MaxExpansion = 255;

Status compress_payload(CompressionType type, BytesView input, std::string& out, const CompressionOptions& options) {
  const size_t header = out.size();
  switch (type) {
    case CompressionType::kNone:
      out.append(input.data(), input.size());
      return Status::ok();
    case CompressionType::kLz4: {
      if (input.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
        return Status::invalid_argument("block of " + std::to_string(input.size()) +
                                        " bytes exceeds LZ4's input limit; use zstd or smaller blocks");
      }
      const int bound = LZ4_compressBound(static_cast<int>(input.size()));
      out.resize(header + static_cast<size_t>(bound));
      const int written = LZ4_compress_default(input.data(), out.data() + header, static_cast<int>(input.size()), bound);
      if (written <= 0) return Status::internal("LZ4 compression failed");
      out.resize(header + static_cast<size_t>(written));
      return Status::ok();
    }
    case CompressionType::kSnappy: {
      out.resize(header + snappy::MaxCompressedLength(input.size()));
      size_t written = 0;
      snappy::RawCompress(input.data(), input.size(), out.data() + header, &written);
      out.resize(header + written);
      return Status::ok();
    }
    case CompressionType::kZstd: {
      const size_t bound = ZSTD_compressBound(input.size());
      out.resize(header + bound);
      const size_t written = ZSTD_compress(out.data() + header, bound, input.data(), input.size(), options.zstd_level);
      if (ZSTD_isError(written)) return Status::internal(std::string("Zstd compression failed: ") + ZSTD_getErrorName(written));
      out.resize(header + written);
      return Status::ok();
    }
  }
  return Status::invalid_argument("unknown compression type " + std::to_string(static_cast<int>(type)));
}

Status size_mismatch(std::string_view codec, uint64_t expected) {
  return Status::corruption(std::string(codec) + " block does not expand to its stored size of " +
                            std::to_string(expected) + " bytes");
}

}  // namespace

std::string_view compression_name(CompressionType type) {
  switch (type) {
    case CompressionType::kNone: return "none";
    case CompressionType::kLz4: return "lz4";
    case CompressionType::kSnappy: return "snappy";
    case CompressionType::kZstd: return "zstd";
  }
  return "unknown";
}

Result<CompressionType> parse_compression(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (auto type : {CompressionType::kNone, CompressionType::kLz4, CompressionType::kSnappy, CompressionType::kZstd}) {
    if (lower == compression_name(type)) return type;
  }
  return Status::invalid_argument("unknown compression '" + std::string(name) +
                                  "': use one of none, lz4, snappy, zstd");
}

Status compress_block(CompressionType type, BytesView input, std::string& out, const CompressionOptions& options) {
  if (type > CompressionType::kZstd) {
    return Status::invalid_argument("unknown compression type " + std::to_string(static_cast<int>(type)) +
                                    ": use none, lz4, snappy or zstd");
  }
  if (type == CompressionType::kZstd && (options.zstd_level < 1 || options.zstd_level > 19)) {
    return Status::invalid_argument("zstd_level " + std::to_string(options.zstd_level) + " is outside 1..19");
  }
  out.clear();
  out.push_back(static_cast<char>(type));
  put_varint64(out, input.size());
  if (input.empty()) return Status::ok();
  return compress_payload(type, input, out, options);
}

Status decompress_block(BytesView block, std::string& out, uint64_t max_uncompressed) {
  ByteReader reader(block);
  uint8_t type_byte = 0;
  uint64_t size = 0;
  if (!reader.read_byte(type_byte) || !reader.read_varint64(size)) {
    return Status::corruption("compressed block header is truncated (" + std::to_string(block.size()) + " bytes)");
  }
  if (type_byte > static_cast<uint8_t>(CompressionType::kZstd)) {
    return Status::corruption("compressed block has unknown compression type " + std::to_string(type_byte));
  }
  if (size > max_uncompressed) {
    return Status::corruption("compressed block claims " + std::to_string(size) + " bytes, above the limit of " +
                              std::to_string(max_uncompressed));
  }
  const BytesView payload = reader.rest();
  const auto type = static_cast<CompressionType>(type_byte);
  out.clear();
  if (size == 0) {
    if (!payload.empty()) return Status::corruption("empty compressed block carries a payload");
    return Status::ok();
  }
  switch (type) {
    case CompressionType::kNone:
      if (payload.size() != size) return size_mismatch("uncompressed", size);
      out.assign(payload.data(), payload.size());
      return Status::ok();
    case CompressionType::kLz4: {
      if (size > payload.size() * kLz4MaxExpansion + 64 || size > static_cast<uint64_t>(LZ4_MAX_INPUT_SIZE)) {
        return size_mismatch("LZ4", size);
      }
      out.resize(size);
      const int written = LZ4_decompress_safe(payload.data(), out.data(), static_cast<int>(payload.size()),
                                              static_cast<int>(size));
      if (written < 0 || static_cast<uint64_t>(written) != size) {
        out.clear();
        return size_mismatch("LZ4", size);
      }
      return Status::ok();
    }
    case CompressionType::kSnappy: {
      size_t stored = 0;
      if (!snappy::GetUncompressedLength(payload.data(), payload.size(), &stored) || stored != size) {
        return size_mismatch("Snappy", size);
      }
      out.resize(size);
      if (!snappy::RawUncompress(payload.data(), payload.size(), out.data())) {
        out.clear();
        return Status::corruption("Snappy block payload is corrupt");
      }
      return Status::ok();
    }
    case CompressionType::kZstd: {
      const unsigned long long stored = ZSTD_getFrameContentSize(payload.data(), payload.size());
      if (stored == ZSTD_CONTENTSIZE_ERROR || stored == ZSTD_CONTENTSIZE_UNKNOWN || stored != size) {
        return size_mismatch("Zstd", size);
      }
      out.resize(size);
      const size_t written = ZSTD_decompress(out.data(), size, payload.data(), payload.size());
      if (ZSTD_isError(written) || written != size) {
        out.clear();
        return Status::corruption(std::string("Zstd block payload is corrupt: ") +
                                  (ZSTD_isError(written) ? ZSTD_getErrorName(written) : "short output"));
      }
      return Status::ok();
    }
  }
  return Status::corruption("compressed block has unknown compression type " + std::to_string(type_byte));
}

}  // namespace streamstate
