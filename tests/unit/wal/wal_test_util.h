// Helpers shared by the write-ahead log tests: deterministic payloads, reading a whole log
// back, and the byte offsets of records in a segment file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "streamstate/wal.h"
#include "testutil/temp_dir.h"
#include "wal/segment_format.h"

namespace streamstate::testing {

struct ReplayedRecord {
  uint64_t sequence = 0;
  uint8_t type = 0;
  std::string payload;
  friend bool operator==(const ReplayedRecord&, const ReplayedRecord&) = default;
};

// Payload number i: 0 to 299 bytes of pseudo-random content (zero bytes included).
inline std::string payload_of(uint64_t i) {
  std::string out(static_cast<size_t>((i * 7919) % 300), '\0');
  uint64_t x = i * 0x9E3779B97F4A7C15ULL + 1;
  for (char& c : out) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(x >> 56);
  }
  return out;
}

inline uint8_t type_of(uint64_t i) { return static_cast<uint8_t>(1 + i % 255); }

inline Result<std::vector<ReplayedRecord>> replay_all(Wal& wal, uint64_t from = 0) {
  std::vector<ReplayedRecord> records;
  Status status = wal.replay(from, [&](const WalRecordView& record) {
    records.push_back({record.sequence, record.type, std::string(record.payload)});
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  return records;
}

inline WalOptions wal_options(const std::string& directory, WalSyncPolicy sync = WalSyncPolicy::kNone,
                              uint64_t segment_bytes = 64ULL << 20) {
  WalOptions options;
  options.directory = directory;
  options.sync = sync;
  options.segment_bytes = segment_bytes;
  return options;
}

// Framed size of a record with this payload.
inline uint64_t record_bytes(const std::string& payload) { return wal::kRecordOverheadBytes + payload.size(); }

inline std::filesystem::path segment_path(const std::string& directory, uint64_t id) {
  return std::filesystem::path(directory) / wal::segment_file_name(id);
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace streamstate::testing
