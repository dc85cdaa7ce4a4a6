// Bounds-checked reading of segment headers and records.
#include "wal/segment_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/status_macros.h"
#include "wal/file_io.h"

namespace streamstate::wal {
namespace {

constexpr size_t kWindowBytes = 1 << 20;

}  // namespace

Result<std::unique_ptr<SegmentReader>> SegmentReader::open(const std::filesystem::path& path,
                                                           uint32_t max_record_bytes, std::optional<uint64_t> limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open WAL segment", path, errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    Status status = os_error("cannot stat WAL segment", path, errno);
    ::close(fd);
    return status;
  }
  uint64_t size = static_cast<uint64_t>(info.st_size);
  if (limit) size = std::min(size, *limit);
  return std::unique_ptr<SegmentReader>(new SegmentReader(path, fd, size, max_record_bytes));
}

SegmentReader::~SegmentReader() { ::close(fd_); }

Result<const char*> SegmentReader::bytes_at(uint64_t offset, size_t count) {
  if (offset >= window_offset_ && offset + count <= window_offset_ + window_.size()) {
    return window_.data() + (offset - window_offset_);
  }
  // count was checked against the file size by the caller, so this allocation is bounded.
  size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(count, kWindowBytes), size_ - offset));
  window_.resize(want);
  window_offset_ = offset;
  Status status = read_exact(fd_, offset, window_.data(), want, path_);
  if (!status.is_ok()) {
    window_.clear();
    return status;
  }
  return window_.data();
}

Result<SegmentHeader> SegmentReader::read_header() {
  std::string why;
  if (size_ < kSegmentHeaderBytes) {
    why = "the file has " + std::to_string(size_) + " bytes, fewer than a segment header's " +
          std::to_string(kSegmentHeaderBytes);
  } else {
    char bytes[kSegmentHeaderBytes];
    STREAMSTATE_RETURN_IF_ERROR(read_exact(fd_, 0, bytes, sizeof(bytes), path_));
    std::optional<SegmentHeader> header = decode_segment_header(BytesView(bytes, sizeof(bytes)), why);
    if (header) return *header;
  }
  return Status::corruption("WAL segment " + path_.string() + " offset 0: " + why);
}

Result<RecordOutcome> SegmentReader::read_record(uint64_t offset, WalRecordView& record, uint64_t& next_offset,
                                                 std::string& why) {
  if (offset >= size_) return RecordOutcome::kEnd;
  uint64_t remaining = size_ - offset;
  if (remaining < kRecordHeaderBytes) {
    why = "incomplete record header (" + std::to_string(remaining) + " of " + std::to_string(kRecordHeaderBytes) +
          " bytes)";
    return RecordOutcome::kTorn;
  }
  STREAMSTATE_ASSIGN_OR_RETURN(const char* bytes, bytes_at(offset, kRecordHeaderBytes));
  RecordHeader header = decode_record_header(bytes);
  if (header.length > max_record_bytes_) {
    why = "record length " + std::to_string(header.length) + " exceeds max_record_bytes " +
          std::to_string(max_record_bytes_);
    return RecordOutcome::kDamaged;
  }
  uint64_t total = kRecordOverheadBytes + header.length;
  if (total > remaining) {
    why = "record of " + std::to_string(total) + " bytes runs past the end of the file (" +
          std::to_string(remaining) + " bytes left)";
    return RecordOutcome::kTorn;
  }
  STREAMSTATE_ASSIGN_OR_RETURN(bytes, bytes_at(offset, static_cast<size_t>(total)));
  if (header.type == 0) {
    why = "record type 0 (reserved: zero-filled or damaged bytes)";
    return RecordOutcome::kDamaged;
  }
  size_t checked = kRecordHeaderBytes + header.length;
  if (!record_checksum_matches(BytesView(bytes, checked), bytes + checked)) {
    why = "record checksum mismatch";
    return RecordOutcome::kDamaged;
  }
  record.sequence = header.sequence;
  record.type = header.type;
  record.payload = BytesView(bytes + kRecordHeaderBytes, header.length);
  next_offset = offset + total;
  return RecordOutcome::kRecord;
}

Result<std::optional<uint64_t>> SegmentReader::find_intact_record_after(uint64_t offset, uint64_t min_sequence) {
  const uint64_t max_sequence = min_sequence + (size_ - offset) / kRecordOverheadBytes + 1;
  for (uint64_t candidate = offset + 1; candidate + kRecordOverheadBytes <= size_; ++candidate) {
    STREAMSTATE_ASSIGN_OR_RETURN(const char* bytes, bytes_at(candidate, kRecordHeaderBytes));
    RecordHeader header = decode_record_header(bytes);
    // Cheap checks first; the checksum only for a plausible header.
    if (header.type == 0 || header.length > max_record_bytes_ || header.sequence < min_sequence ||
        header.sequence > max_sequence || kRecordOverheadBytes + header.length > size_ - candidate) {
      continue;
    }
    WalRecordView record;
    uint64_t next = 0;
    std::string why;
    STREAMSTATE_ASSIGN_OR_RETURN(RecordOutcome outcome, read_record(candidate, record, next, why));
    if (outcome == RecordOutcome::kRecord) return std::optional<uint64_t>(candidate);
  }
  return std::optional<uint64_t>();
}

}  // namespace streamstate::wal
