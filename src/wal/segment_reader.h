// Reads one segment file: its header and the record at a given offset, through a window of
// the file kept in memory. Every length is checked against max_record_bytes and against the
// bytes the file has before anything is read or allocated for it.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "streamstate/status.h"
#include "streamstate/wal.h"
#include "wal/segment_format.h"

namespace streamstate::wal {

enum class RecordOutcome : uint8_t {
  kRecord,   // an intact record
  kEnd,      // the offset is the end of the readable bytes
  kTorn,     // the record runs past the end of the readable bytes
  kDamaged,  // a length over the limit, type 0 or a checksum mismatch
};

class SegmentReader {
 public:
  // Reads at most `limit` bytes of the file (all of it when nullopt).
  static Result<std::unique_ptr<SegmentReader>> open(const std::filesystem::path& path, uint32_t max_record_bytes,
                                                     std::optional<uint64_t> limit = std::nullopt);
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // kCorruption naming the file and offset 0 when the file is too short or the header bad.
  Result<SegmentHeader> read_header();

  // Reads the record at `offset`. For kRecord, `record` (its payload viewing this reader's
  // window, valid until the next call) and `next_offset` are set; for kTorn and kDamaged,
  // `why` says what is wrong.
  Result<RecordOutcome> read_record(uint64_t offset, WalRecordView& record, uint64_t& next_offset,
                                    std::string& why);

  // The first offset after `offset` where an intact record starts whose sequence number is at
  // least `min_sequence` and could follow it (at most one per kRecordOverheadBytes of file).
  // Used to tell a damaged tail (nothing intact after it) from damage in the middle.
  Result<std::optional<uint64_t>> find_intact_record_after(uint64_t offset, uint64_t min_sequence);

  const std::filesystem::path& path() const { return path_; }
  uint64_t size() const { return size_; }

 private:
  SegmentReader(std::filesystem::path path, int fd, uint64_t size, uint32_t max_record_bytes)
      : path_(std::move(path)), fd_(fd), size_(size), max_record_bytes_(max_record_bytes) {}
  // Makes [offset, offset + count) available in the window (count <= size_ - offset) and
  // returns a pointer to it.
  Result<const char*> bytes_at(uint64_t offset, size_t count);

  std::filesystem::path path_;
  int fd_;
  uint64_t size_;
  uint32_t max_record_bytes_;
  std::string window_;
  uint64_t window_offset_ = 0;
};

}  // namespace streamstate::wal
