#include "checkpoint/checkpoint_verify.h"

#include <algorithm>

#include "checkpoint/manifest.h"
#include "streamstate/checksum.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

bool index_matches(const std::vector<SnapshotColumnInfo>& read, const std::vector<CheckpointFileColumn>& recorded) {
  if (read.size() != recorded.size()) return false;
  for (size_t c = 0; c < read.size(); ++c) {
    const SnapshotColumnInfo& a = read[c];
    const CheckpointFileColumn& b = recorded[c];
    if (a.name != b.name || a.values_carry_expiry != b.values_carry_expiry || a.entries != b.entries ||
        a.section_offset != b.section_offset || a.section_end != b.section_end ||
        a.key_groups.size() != b.key_groups.size()) {
      return false;
    }
    for (size_t g = 0; g < a.key_groups.size(); ++g) {
      if (a.key_groups[g].key_group != b.key_groups[g].key_group || a.key_groups[g].offset != b.key_groups[g].offset ||
          a.key_groups[g].entries != b.key_groups[g].entries) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

Result<LoadedFile> load_file(CheckpointStorage& storage, CheckpointId id, const CheckpointFile& file) {
  const std::string where = "checkpoint " + std::to_string(id) + ": file '" + file.name + "'";
  Result<std::string> bytes = storage.read(file.name);
  if (!bytes.is_ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return Status::not_found(where + " is missing from " + storage.describe());
    }
    return bytes.status().with_context(where);
  }
  if (bytes->size() != file.size) {
    return Status::corruption(where + " has " + std::to_string(bytes->size()) + " bytes, the manifest says " +
                              std::to_string(file.size));
  }
  uint64_t checksum = checksum64(*bytes);
  const bool rocksdb_file = file.content == CheckpointFileContent::kRocksDbFile;  // checked by size and XXH3 only
  if (checksum != file.checksum) {
    // Say where, when a snapshot file's own structure can tell (a block's checksum names its offset).
    Status place;
    if (!rocksdb_file) {
      Result<SnapshotFileReader> reader = SnapshotFileReader::open(file.name, *bytes, {.check_file_checksum = false});
      place = reader.is_ok() ? reader->verify(SnapshotReadFilter{}) : reader.status();
    }
    return Status::corruption(where + ": checksum mismatch (XXH3 " + checksum_hex(checksum) + ", the manifest says " +
                              checksum_hex(file.checksum) + "); the file is damaged" +
                              (place.is_ok() ? std::string() : ": " + place.message()));
  }
  LoadedFile loaded;
  loaded.entry = &file;
  loaded.bytes_fetched = bytes->size();
  loaded.bytes.push_back(std::make_unique<std::string>(std::move(bytes).value()));
  if (rocksdb_file) return loaded;  // no reader: not a snapshot file
  // The whole-object checksum above covers the file checksum too.
  STREAMSTATE_ASSIGN_OR_RETURN(SnapshotFileReader reader, SnapshotFileReader::open(file.name, *loaded.bytes.front(),
                                                                                   {.check_file_checksum = false}));
  if (!index_matches(reader.columns(), file.columns)) {
    return Status::corruption(where + ": its index does not match the manifest's record of it");
  }
  loaded.reader.emplace(std::move(reader));
  return loaded;
}

namespace {

constexpr uint64_t kRangeGapBytes = 4 * 1024;

std::vector<SnapshotColumnInfo> index_of(const CheckpointFile& file) {
  std::vector<SnapshotColumnInfo> columns;
  for (const CheckpointFileColumn& recorded : file.columns) {
    SnapshotColumnInfo column;
    column.name = recorded.name;
    column.values_carry_expiry = recorded.values_carry_expiry;
    column.section_offset = recorded.section_offset;
    column.section_end = recorded.section_end;
    column.entries = recorded.entries;
    for (const CheckpointKeyGroupOffset& group : recorded.key_groups) {
      column.key_groups.push_back({group.key_group, group.offset, group.entries});
    }
    columns.push_back(std::move(column));
  }
  return columns;
}

// [begin, end) byte ranges a restore of the columns and key groups reads, merged.
std::vector<std::pair<uint64_t, uint64_t>> needed_ranges(const CheckpointFile& file,
                                                         const std::set<std::string, std::less<>>& columns,
                                                         KeyGroupRange key_groups) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const CheckpointFileColumn& column : file.columns) {
    if (!columns.contains(column.name)) continue;
    const auto& groups = column.key_groups;
    ranges.emplace_back(column.section_offset, groups.empty() ? column.section_end : groups.front().offset);
    size_t first = 0;
    while (first < groups.size() && groups[first].key_group < key_groups.begin()) ++first;
    size_t last = first;
    while (last < groups.size() && groups[last].key_group < key_groups.end()) ++last;
    if (first < last) {
      ranges.emplace_back(groups[first].offset, last < groups.size() ? groups[last].offset : column.section_end);
    }
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& range : ranges) {
    if (!merged.empty() && range.first <= merged.back().second + kRangeGapBytes) {
      merged.back().second = std::max(merged.back().second, range.second);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

}  // namespace

Result<LoadedFile> load_file_for_restore(CheckpointStorage& storage, CheckpointId id, const CheckpointFile& file,
                                         const std::set<std::string, std::less<>>& columns,
                                         KeyGroupRange key_groups) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges = needed_ranges(file, columns, key_groups);
  uint64_t needed = 0;
  for (const auto& [begin, end] : ranges) needed += end - begin;
  if (needed / 3 >= file.size / 4) return load_file(storage, id, file);
  LoadedFile loaded;
  loaded.entry = &file;
  std::vector<SnapshotFileReader::Window> windows;
  for (const auto& [begin, end] : ranges) {
    Result<std::string> bytes = storage.read_range(file.name, begin, end - begin);
    if (!bytes.is_ok()) {
      std::string where = "checkpoint " + std::to_string(id) + ": file '" + file.name + "'";
      if (bytes.status().code() == StatusCode::kNotFound) {
        return Status::not_found(where + " is missing from " + storage.describe());
      }
      if (bytes.status().code() == StatusCode::kOutOfRange) {
        return Status::corruption(where + " is shorter than its manifest says (" + bytes.status().message() + ")");
      }
      return bytes.status().with_context(where);
    }
    loaded.bytes_fetched += bytes->size();
    loaded.bytes.push_back(std::make_unique<std::string>(std::move(bytes).value()));
    windows.push_back({begin, *loaded.bytes.back()});
  }
  loaded.reader.emplace(SnapshotFileReader::over_windows(file.name, index_of(file), std::move(windows)));
  return loaded;
}

}  // namespace streamstate::internal
