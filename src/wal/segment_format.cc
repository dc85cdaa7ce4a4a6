// Encoding and decoding of segment headers and records.
#include "wal/segment_format.h"

#include <cstdio>

#include "streamstate/checksum.h"

namespace streamstate::wal {

std::string encode_segment_header(const SegmentHeader& header) {
  std::string out(kSegmentMagic);
  put_fixed32(out, kSegmentFormatVersion);
  put_fixed32(out, 0);
  put_fixed64(out, header.segment_id);
  put_fixed64(out, header.first_sequence);
  put_fixed64(out, checksum64(out));
  return out;
}

std::optional<SegmentHeader> decode_segment_header(BytesView bytes, std::string& why) {
  if (bytes.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
    why = "bad magic (not a streamstate WAL segment)";
    return std::nullopt;
  }
  if (decode_fixed64(bytes.data() + 32) != checksum64(bytes.substr(0, 32))) {
    why = "segment header checksum mismatch";
    return std::nullopt;
  }
  uint32_t version = decode_fixed32(bytes.data() + 8);
  if (version != kSegmentFormatVersion) {
    why = "unsupported segment format version " + std::to_string(version) + " (this build reads version " +
          std::to_string(kSegmentFormatVersion) + ")";
    return std::nullopt;
  }
  return SegmentHeader{decode_fixed64(bytes.data() + 16), decode_fixed64(bytes.data() + 24)};
}

void append_record(std::string& out, uint8_t type, uint64_t sequence, BytesView payload) {
  size_t start = out.size();
  put_fixed32(out, static_cast<uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  put_fixed64(out, sequence);
  out.append(payload);
  put_fixed64(out, checksum64(BytesView(out).substr(start)));
}

RecordHeader decode_record_header(const char* bytes) {
  return RecordHeader{decode_fixed32(bytes), static_cast<uint8_t>(bytes[4]), decode_fixed64(bytes + 5)};
}

bool record_checksum_matches(BytesView header_and_payload, const char* checksum) {
  return checksum64(header_and_payload) == decode_fixed64(checksum);
}

std::string segment_file_name(uint64_t segment_id) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu", static_cast<unsigned long long>(segment_id));
  return std::string(name) + std::string(kSegmentSuffix);
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != 20 + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  uint64_t id = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (id > (UINT64_MAX - digit) / 10) return std::nullopt;
    id = id * 10 + digit;
  }
  return id;
}

}  // namespace streamstate::wal
