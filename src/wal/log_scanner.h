// Walks the segments of a log directory in order and checks them: every header, consecutive
// segment ids (a missing file is damage), sequence numbers that continue from one segment to
// the next and grow by one per record, and every record's length and checksum. Recovery and
// replay both use it; recovery accepts damage at the very end of the last segment (a torn
// append), replay accepts none.
//
// Thread-safety: reentrant; the caller keeps the files from being deleted while it runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "streamstate/status.h"
#include "streamstate/wal.h"

namespace streamstate::wal {

struct SegmentEntry {
  uint64_t id = 0;
  uint64_t first_sequence = 0;
};

// The ids of the segment files in `directory`, ascending. Other files are ignored.
Result<std::vector<uint64_t>> list_segment_ids(const std::filesystem::path& directory);
// Deletes "<segment>.wal.tmp" files a crash left behind while creating a segment.
Status remove_temp_segments(const std::filesystem::path& directory);

// Damage found at the end of the last segment: where it starts, how many bytes follow, why.
struct TailDamage {
  std::filesystem::path file;
  uint64_t offset = 0;
  uint64_t bytes = 0;
  std::string why;
};

struct LogScanOptions {
  uint32_t max_record_bytes = 0;
  // Records below this sequence number are checked (in the segments that are read) but not
  // visited; segments that end before it are skipped after their header is checked.
  uint64_t from_sequence = 0;
  // Called for every intact record at or after from_sequence; a non-OK status stops the scan.
  std::function<Status(const WalRecordView&)> visit;
  // Recovery: damage with no intact record after it, in the last segment, is returned in
  // LogScanResult::tail instead of failing.
  bool tolerate_damaged_tail = false;
  // Point-in-time recovery: the first damage of any kind ends the log there (reported in
  // `tail`, later segments listed in `dropped_segments`) instead of failing. The first
  // segment's header must still be intact.
  bool point_in_time = false;
  // Read only this many bytes of the last segment (what an open log has written so far).
  std::optional<uint64_t> last_segment_limit;
};

struct LogScanResult {
  std::vector<SegmentEntry> segments;
  uint64_t next_sequence = 0;     // one past the last intact record
  uint64_t last_segment_end = 0;  // bytes of the last segment up to its last intact record
  // Where the damage begins; `bytes` covers only the damaged segment's own remaining bytes.
  // When it names a dropped segment, the kept segments are intact.
  std::optional<TailDamage> tail;
  // Point in time: segments after the damage, to be deleted (newest first).
  std::vector<uint64_t> dropped_segments;
};

// `ids` is list_segment_ids(directory), not empty.
Result<LogScanResult> scan_log(const std::filesystem::path& directory, const std::vector<uint64_t>& ids,
                               const LogScanOptions& options);

}  // namespace streamstate::wal
