// Segment-by-segment checking of a log, with tail damage told apart from damage in the middle.
#include "wal/log_scanner.h"

#include <algorithm>
#include <utility>
#include <system_error>

#include "util/status_macros.h"
#include "wal/segment_format.h"
#include "wal/segment_reader.h"

namespace streamstate::wal {
namespace fs = std::filesystem;
namespace {

std::string at(const fs::path& file, uint64_t offset) {
  return "WAL segment " + file.string() + " offset " + std::to_string(offset) + ": ";
}

// The first segment whose header does not fit the ones before it, and why; segments.size()
// and OK when all fit.
std::pair<size_t, Status> check_segment_order(const fs::path& directory, const std::vector<uint64_t>& ids,
                                              const std::vector<SegmentEntry>& segments) {
  for (size_t i = 0; i < segments.size(); ++i) {
    auto problem = [&](Status status) { return std::pair<size_t, Status>(i, std::move(status)); };
    const fs::path file = directory / segment_file_name(ids[i]);
    if (segments[i].id != ids[i]) {
      return problem(Status::corruption(at(file, 0) + "the header names segment " +
                                        std::to_string(segments[i].id) + "; the file was renamed or copied over"));
    }
    if (segments[i].first_sequence == 0) return problem(Status::corruption(at(file, 0) + "first sequence number 0"));
    if (i == 0) continue;
    if (ids[i] != ids[i - 1] + 1) {
      return problem(Status::corruption(
          "WAL directory " + directory.string() + ": segment " + segment_file_name(ids[i - 1] + 1) +
          " is missing between " + segment_file_name(ids[i - 1]) + " and " + segment_file_name(ids[i]) +
          "; the records it held are lost - restore the file or recover from a checkpoint"));
    }
    if (segments[i].first_sequence < segments[i - 1].first_sequence) {
      return problem(Status::corruption(at(file, 0) + "first sequence " +
                                        std::to_string(segments[i].first_sequence) + " is below the previous segment's " +
                                        std::to_string(segments[i - 1].first_sequence)));
    }
  }
  return {segments.size(), Status::ok()};
}

// Reads the records of one segment from its header on. `expected` is the sequence number the
// first record must have and, on return, the one after the last intact record.
Status scan_segment(SegmentReader& reader, bool last, const LogScanOptions& options, uint64_t& expected,
                    LogScanResult& result) {
  uint64_t offset = kSegmentHeaderBytes;
  WalRecordView record;
  std::string why;
  while (true) {
    uint64_t next = 0;
    STREAMSTATE_ASSIGN_OR_RETURN(RecordOutcome outcome, reader.read_record(offset, record, next, why));
    if (outcome == RecordOutcome::kEnd) break;
    if (outcome == RecordOutcome::kRecord) {
      if (record.sequence != expected) {
        if (options.point_in_time) {
          result.tail = TailDamage{reader.path(), offset, reader.size() - offset,
                                   "record has sequence number " + std::to_string(record.sequence) + " where " +
                                       std::to_string(expected) + " was expected"};
          break;
        }
        return Status::corruption(at(reader.path(), offset) + "record has sequence number " +
                                  std::to_string(record.sequence) + " where " + std::to_string(expected) +
                                  " was expected (a gap or a record from elsewhere)");
      }
      if (options.visit && record.sequence >= options.from_sequence) {
        STREAMSTATE_RETURN_IF_ERROR(options.visit(record));
      }
      ++expected;
      offset = next;
      continue;
    }
    if (options.point_in_time) {
      result.tail = TailDamage{reader.path(), offset, reader.size() - offset, why};
      break;
    }
    // Damage: a tail if nothing intact follows it in the last segment, otherwise corruption.
    STREAMSTATE_ASSIGN_OR_RETURN(std::optional<uint64_t> intact, reader.find_intact_record_after(offset, expected));
    if (last && !intact && options.tolerate_damaged_tail) {
      result.tail = TailDamage{reader.path(), offset, reader.size() - offset, why};
      break;
    }
    std::string where = intact ? ", and an intact record follows at offset " + std::to_string(*intact)
                               : (last ? "" : ", in a segment that is not the last");
    return Status::corruption(at(reader.path(), offset) + why + where +
                              ": the log is damaged before its end; restore the file or recover from a checkpoint");
  }
  result.last_segment_end = offset;
  return Status::ok();
}

}  // namespace

Result<std::vector<uint64_t>> list_segment_ids(const fs::path& directory) {
  std::vector<uint64_t> ids;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    if (std::optional<uint64_t> id = parse_segment_file_name(it->path().filename().native())) ids.push_back(*id);
  }
  if (error) return Status::io_error("cannot list WAL directory " + directory.string() + ": " + error.message());
  std::sort(ids.begin(), ids.end());
  return ids;
}

Status remove_temp_segments(const fs::path& directory) {
  std::error_code error;
  std::vector<fs::path> temps;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().native();
    if (name.ends_with(kTempSuffix) &&
        parse_segment_file_name(std::string_view(name).substr(0, name.size() - kTempSuffix.size()))) {
      temps.push_back(it->path());
    }
  }
  if (error) return Status::io_error("cannot list WAL directory " + directory.string() + ": " + error.message());
  for (const fs::path& temp : temps) {
    if (!fs::remove(temp, error) && error) {
      return Status::io_error("cannot remove unfinished WAL segment " + temp.string() + ": " + error.message());
    }
  }
  return Status::ok();
}

Result<LogScanResult> scan_log(const fs::path& directory, const std::vector<uint64_t>& ids,
                               const LogScanOptions& options) {
  LogScanResult result;
  // Headers first, one file open at a time, so that a long log needs no more descriptors.
  auto open_segment = [&](size_t i) {
    std::optional<uint64_t> limit = i + 1 == ids.size() ? options.last_segment_limit : std::nullopt;
    return SegmentReader::open(directory / segment_file_name(ids[i]), options.max_record_bytes, limit);
  };
  // Point in time: everything from segment `i` on goes, for `why`.
  auto cut_from = [&](size_t i, const std::string& why) {
    result.segments.resize(i);
    result.dropped_segments.assign(ids.begin() + static_cast<std::ptrdiff_t>(i), ids.end());
    result.tail = TailDamage{directory / segment_file_name(ids[i]), 0, 0, why};
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    STREAMSTATE_ASSIGN_OR_RETURN(auto reader, open_segment(i));
    Result<SegmentHeader> header = reader->read_header();
    if (!header.is_ok()) {
      if (!options.point_in_time || i == 0 || header.status().code() != StatusCode::kCorruption) {
        return header.status();
      }
      cut_from(i, header.status().message());
      break;
    }
    result.segments.push_back(SegmentEntry{header->segment_id, header->first_sequence});
  }
  auto [bad, order] = check_segment_order(directory, ids, result.segments);
  if (!order.is_ok()) {
    if (!options.point_in_time || bad == 0) return order;
    cut_from(bad, order.message());
  }
  const size_t kept = result.segments.size();
  // Segments wholly below from_sequence need not be read: start at the last one that begins
  // at or before it.
  size_t start = 0;
  while (start + 1 < kept && result.segments[start + 1].first_sequence <= options.from_sequence) ++start;
  uint64_t expected = result.segments[start].first_sequence;
  for (size_t i = start; i < kept; ++i) {
    STREAMSTATE_ASSIGN_OR_RETURN(auto reader, open_segment(i));
    if (result.segments[i].first_sequence != expected) {
      std::string why = "segment starts at sequence number " + std::to_string(result.segments[i].first_sequence) +
                        " but the previous one ends at " + std::to_string(expected - 1) + " (records are missing)";
      if (!options.point_in_time) return Status::corruption(at(reader->path(), 0) + why);
      cut_from(i, why);
      break;
    }
    const bool last = i + 1 == kept;
    std::optional<TailDamage> earlier = std::exchange(result.tail, std::nullopt);
    STREAMSTATE_RETURN_IF_ERROR(scan_segment(*reader, last, options, expected, result));
    if (result.tail && !last) {
      // Point in time: the damage ends the log here; the later segments go.
      TailDamage damage = *result.tail;
      cut_from(i + 1, damage.why);
      result.tail = damage;
      break;
    }
    if (!result.tail) result.tail = earlier;
  }
  result.next_sequence = expected;
  return result;
}

}  // namespace streamstate::wal
