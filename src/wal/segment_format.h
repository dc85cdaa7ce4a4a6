// The byte layout of write-ahead log segments (docs/formats.md, "Write-ahead log"): file names,
// the segment header and the record framing, with encoders and decoders that only look at
// bytes the caller has checked are there.
//
// Segment header (40 bytes): magic "SSWALSEG", format version u32, reserved u32 (0), segment
// id u64, first sequence u64, XXH3 of the 32 bytes before it u64. Record: length u32 (payload
// bytes), type u8 (1-255), sequence u64, payload, XXH3 of length + type + sequence + payload
// u64. All integers little-endian.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate::wal {

inline constexpr std::string_view kSegmentMagic = "SSWALSEG";
inline constexpr uint32_t kSegmentFormatVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 40;
inline constexpr size_t kRecordHeaderBytes = 13;   // length, type, sequence
inline constexpr size_t kRecordTrailerBytes = 8;   // checksum
inline constexpr size_t kRecordOverheadBytes = kRecordHeaderBytes + kRecordTrailerBytes;
inline constexpr std::string_view kSegmentSuffix = ".wal";
inline constexpr std::string_view kTempSuffix = ".tmp";

struct SegmentHeader {
  uint64_t segment_id = 0;
  uint64_t first_sequence = 0;
};

std::string encode_segment_header(const SegmentHeader& header);
// `bytes` holds at least kSegmentHeaderBytes. Returns the header or why it is not one.
std::optional<SegmentHeader> decode_segment_header(BytesView bytes, std::string& why);

struct RecordHeader {
  uint32_t length = 0;
  uint8_t type = 0;
  uint64_t sequence = 0;
};

// Appends one framed record to `out`.
void append_record(std::string& out, uint8_t type, uint64_t sequence, BytesView payload);
// `bytes` points at kRecordHeaderBytes readable bytes.
RecordHeader decode_record_header(const char* bytes);
// Whether the record of `header_and_payload` (kRecordHeaderBytes + length bytes) followed by
// the 8 checksum bytes at `checksum` is intact.
bool record_checksum_matches(BytesView header_and_payload, const char* checksum);

// "00000000000000000007.wal".
std::string segment_file_name(uint64_t segment_id);
// The id of a segment file name, or nullopt for any other name.
std::optional<uint64_t> parse_segment_file_name(std::string_view name);

}  // namespace streamstate::wal
