// Snapshot file reader: footer and index first, then the blocks a restore needs, each checked
// against its XXH3 before it is decompressed. Format in docs/formats.md, "Snapshot file".
#include "checkpoint/snapshot_file_reader.h"

#include <utility>

#include "checkpoint/snapshot_file_format.h"
#include "streamstate/checksum.h"
#include "streamstate/compression.h"
#include "streamstate/write_batch.h"
#include "util/status_macros.h"

namespace streamstate::internal {

using EntryViews = std::vector<std::pair<BytesView, BytesView>>;

Status SnapshotFileReader::corrupt(const std::string& what) const {
  return Status::corruption("snapshot file '" + name_ + "': " + what +
                            "; the file is damaged or not a snapshot file: restore from another checkpoint");
}

Result<SnapshotFileReader> SnapshotFileReader::open(std::string display_name, BytesView file,
                                                    const SnapshotFileReadOptions& options) {
  SnapshotFileReader reader(std::move(display_name), file);
  reader.windows_.push_back({0, file});
  if (file.size() < kSnapshotHeaderBytes + kSnapshotFooterBytes) {
    return reader.corrupt("only " + std::to_string(file.size()) +
                          " bytes, shorter than a header and footer (truncated?)");
  }
  if (file.substr(0, kSnapshotFileMagic.size()) != kSnapshotFileMagic) return reader.corrupt("bad magic at offset 0");
  uint32_t version = decode_fixed32(file.data() + kSnapshotFileMagic.size());
  if (version != kSnapshotFormatVersion) {
    return reader.corrupt("format version " + std::to_string(version) + ", this build reads version " +
                          std::to_string(kSnapshotFormatVersion));
  }
  const char* footer = file.data() + file.size() - kSnapshotFooterBytes;
  if (BytesView(footer + 24, 8) != kSnapshotFooterMagic) return reader.corrupt("bad footer magic (truncated?)");
  uint64_t index_offset = decode_fixed64(footer);
  uint64_t index_size = decode_fixed64(footer + 8);
  reader.file_checksum_ = decode_fixed64(footer + 16);
  if (options.check_file_checksum && checksum64(file.substr(0, file.size() - 16)) != reader.file_checksum_) {
    return reader.corrupt("file checksum mismatch");
  }
  STREAMSTATE_RETURN_IF_ERROR(reader.parse_index(index_offset, index_size));
  return reader;
}

Status SnapshotFileReader::parse_index(uint64_t index_offset, uint64_t index_size) {
  uint64_t footer_start = file_.size() - kSnapshotFooterBytes;
  if (index_offset < kSnapshotHeaderBytes || index_offset > footer_start || index_size < 8 ||
      index_size != footer_start - index_offset) {
    return corrupt("index position " + std::to_string(index_offset) + "+" + std::to_string(index_size) +
                   " does not end at the footer (offset " + std::to_string(footer_start) + ")");
  }
  BytesView index = file_.substr(index_offset, index_size - 8);
  if (checksum64(index) != decode_fixed64(file_.data() + index_offset + index_size - 8)) {
    return corrupt("index checksum mismatch at offset " + std::to_string(index_offset));
  }
  ByteReader in(index);
  uint64_t column_count = 0;
  if (!in.read_varint64(column_count) || column_count > in.remaining()) return corrupt("bad column count in index");
  uint64_t previous_end = kSnapshotHeaderBytes;
  for (uint64_t c = 0; c < column_count; ++c) {
    SnapshotColumnInfo column;
    BytesView name;
    uint8_t flags = 0;
    uint64_t group_count = 0;
    if (!in.read_length_prefixed(name) || !in.read_byte(flags) || !in.read_varint64(column.section_offset) ||
        !in.read_varint64(column.section_end) || !in.read_varint64(column.entries) ||
        !in.read_varint64(group_count) || group_count > in.remaining() || (flags & ~kSectionValuesCarryExpiry) != 0) {
      return corrupt("index entry of column " + std::to_string(c) + " is malformed");
    }
    column.name = std::string(name);
    column.values_carry_expiry = (flags & kSectionValuesCarryExpiry) != 0;
    std::string where = "index entry of column '" + column.name + "'";
    if (column.section_offset < previous_end || column.section_end < column.section_offset ||
        column.section_end > index_offset) {
      return corrupt(where + " places its section outside the file's data");
    }
    previous_end = column.section_end;
    uint64_t entries = 0;
    for (uint64_t g = 0; g < group_count; ++g) {
      KeyGroupOffset group;
      if (!in.read_varint32(group.key_group) || !in.read_varint64(group.offset) || !in.read_varint64(group.entries)) {
        return corrupt(where + " has a malformed key-group offset");
      }
      bool ascending = column.key_groups.empty() || (group.key_group > column.key_groups.back().key_group &&
                                                     group.offset > column.key_groups.back().offset);
      if (group.key_group > 0xFFFF || !ascending || group.offset <= column.section_offset ||
          group.offset + kBlockFrameOverhead > column.section_end || group.entries == 0 ||
          group.entries > column.section_end - group.offset) {
        return corrupt(where + " has an invalid offset for key group " + std::to_string(group.key_group));
      }
      entries += group.entries;
      column.key_groups.push_back(group);
    }
    if (entries != column.entries) return corrupt(where + " counts entries inconsistently");
    columns_.push_back(std::move(column));
  }
  if (!in.empty()) return corrupt("index has " + std::to_string(in.remaining()) + " unexpected trailing bytes");
  return Status::ok();
}

Result<BytesView> SnapshotFileReader::view(uint64_t offset, uint64_t length) const {
  for (const Window& window : windows_) {
    if (offset >= window.offset && offset - window.offset <= window.bytes.size() &&
        length <= window.bytes.size() - (offset - window.offset)) {
      return window.bytes.substr(offset - window.offset, length);
    }
  }
  return Status::internal("snapshot file '" + name_ + "': bytes " + std::to_string(offset) + "+" +
                          std::to_string(length) + " were not read (a bug: please report)");
}

Status SnapshotFileReader::check_section_header(const SnapshotColumnInfo& column) const {
  uint64_t first_block = column.key_groups.empty() ? column.section_end : column.key_groups.front().offset;
  STREAMSTATE_ASSIGN_OR_RETURN(BytesView header, view(column.section_offset, first_block - column.section_offset));
  ByteReader in(header);
  BytesView name;
  uint8_t flags = 0;
  if (!in.read_length_prefixed(name) || !in.read_byte(flags) || name != column.name ||
      flags != (column.values_carry_expiry ? kSectionValuesCarryExpiry : 0)) {
    return corrupt("section header at offset " + std::to_string(column.section_offset) +
                   " does not match the index entry of column '" + column.name + "'");
  }
  if (!in.empty()) {
    return corrupt("column '" + column.name + "': first block is not at offset " +
                   std::to_string(first_block - in.remaining()));
  }
  return Status::ok();
}

Status SnapshotFileReader::read_groups(const SnapshotColumnInfo& column, size_t first, size_t last,
                                       SnapshotRestoreStats& stats,
                                       const std::function<Status(EntryViews&)>& on_block) const {
  std::string block;
  EntryViews entries;
  for (size_t g = first; g < last; ++g) {
    const KeyGroupOffset& group = column.key_groups[g];
    uint64_t end = g + 1 < column.key_groups.size() ? column.key_groups[g + 1].offset : column.section_end;
    STREAMSTATE_ASSIGN_OR_RETURN(BytesView span, view(group.offset, end - group.offset));
    uint64_t pos = 0;  // within span
    uint64_t seen = 0;
    std::string where = "column '" + column.name + "' key group " + std::to_string(group.key_group);
    while (pos < span.size()) {
      std::string at = where + " block at offset " + std::to_string(group.offset + pos);
      if (span.size() - pos < kBlockFrameOverhead) return corrupt(at + ": frame truncated");
      uint64_t length = decode_fixed32(span.data() + pos);
      if (length > kMaxCompressedBlock || length > span.size() - pos - kBlockFrameOverhead) {
        return corrupt(at + ": length " + std::to_string(length) + " runs past the key group's bytes");
      }
      BytesView frame = span.substr(pos + 4, length);
      if (checksum64(frame) != decode_fixed64(span.data() + pos + 4 + length)) {
        return corrupt(at + ": checksum mismatch");
      }
      Status decompressed = decompress_block(frame, block);
      if (!decompressed.is_ok()) return corrupt(at + ": " + decompressed.message());
      entries.clear();
      ByteReader in(block);
      while (!in.empty()) {
        BytesView key;
        BytesView value;
        if (!in.read_length_prefixed(key) || !in.read_length_prefixed(value)) {
          return corrupt(at + ": entry framing broken");
        }
        if (key.size() < 2 || decode_fixed16_big_endian(key.data()) != group.key_group) {
          return corrupt(at + ": holds a key of another key group");
        }
        entries.emplace_back(key, value);
      }
      seen += entries.size();
      pos += kBlockFrameOverhead + length;
      ++stats.blocks;
      stats.bytes_read += kBlockFrameOverhead + length;
      STREAMSTATE_RETURN_IF_ERROR(on_block(entries));
      stats.entries += entries.size();
    }
    if (seen != group.entries) {
      return corrupt(where + ": " + std::to_string(seen) + " entries, the index says " + std::to_string(group.entries));
    }
  }
  return Status::ok();
}

SnapshotFileReader SnapshotFileReader::over_windows(std::string display_name, std::vector<SnapshotColumnInfo> columns,
                                                    std::vector<Window> windows) {
  SnapshotFileReader reader(std::move(display_name), BytesView());
  reader.columns_ = std::move(columns);
  reader.windows_ = std::move(windows);
  return reader;
}

Status SnapshotFileReader::verify() const {
  if (file_.empty()) return Status::internal("snapshot file '" + name_ + "': verify() needs the whole file");
  if (checksum64(file_.substr(0, file_.size() - 16)) != file_checksum_) return corrupt("file checksum mismatch");
  return verify(SnapshotReadFilter{});
}

Status SnapshotFileReader::verify(const SnapshotReadFilter& filter) const {
  SnapshotRestoreStats stats;
  for (const SnapshotColumnInfo& column : columns_) {
    if (filter.columns != nullptr && !filter.columns->contains(column.name)) continue;
    STREAMSTATE_RETURN_IF_ERROR(check_section_header(column));
    auto [first, last] = group_span(column, filter.key_groups);
    STREAMSTATE_RETURN_IF_ERROR(read_groups(column, first, last, stats, [](EntryViews&) { return Status::ok(); }));
  }
  return Status::ok();
}

std::pair<size_t, size_t> SnapshotFileReader::group_span(const SnapshotColumnInfo& column,
                                                         const std::optional<KeyGroupRange>& key_groups) {
  size_t first = 0;
  size_t last = column.key_groups.size();
  if (key_groups) {
    while (first < last && column.key_groups[first].key_group < key_groups->begin()) ++first;
    size_t stop = first;
    while (stop < last && column.key_groups[stop].key_group < key_groups->end()) ++stop;
    last = stop;
  }
  return {first, last};
}

Status SnapshotFileReader::for_each_block(
    const SnapshotReadFilter& filter,
    const std::function<Status(const SnapshotColumnInfo& column, EntryViews& entries)>& on_block) const {
  SnapshotRestoreStats stats;
  for (const SnapshotColumnInfo& column : columns_) {
    if (filter.columns != nullptr && !filter.columns->contains(column.name)) continue;
    STREAMSTATE_RETURN_IF_ERROR(check_section_header(column));
    auto [first, last] = group_span(column, filter.key_groups);
    STREAMSTATE_RETURN_IF_ERROR(
        read_groups(column, first, last, stats, [&](EntryViews& entries) { return on_block(column, entries); }));
  }
  return Status::ok();
}

Result<SnapshotRestoreStats> SnapshotFileReader::restore_into(StateBackend& backend,
                                                              std::optional<KeyGroupRange> key_groups) const {
  return restore_into(backend, SnapshotReadFilter{.key_groups = key_groups});
}

Result<SnapshotRestoreStats> SnapshotFileReader::restore_into(StateBackend& backend,
                                                              const SnapshotReadFilter& filter) const {
  SnapshotRestoreStats stats;
  for (const SnapshotColumnInfo& column : columns_) {
    if (filter.columns != nullptr && !filter.columns->contains(column.name)) continue;
    STREAMSTATE_RETURN_IF_ERROR(check_section_header(column));
    const std::string* target = &column.name;
    if (filter.renames != nullptr && filter.renames->contains(column.name)) target = &filter.renames->at(column.name);
    STREAMSTATE_RETURN_IF_ERROR(
        backend.column_with_options(*target, {.values_carry_expiry = column.values_carry_expiry}).status());
    auto [first, last] = group_span(column, filter.key_groups);
    WriteBatch batch;
    STREAMSTATE_RETURN_IF_ERROR(read_groups(column, first, last, stats, [&](EntryViews& entries) {
      if (!filter.as_deletes) return backend.put_entries(*target, entries);
      batch.clear();
      for (const auto& entry : entries) batch.remove(*target, entry.first);
      return backend.write(batch);
    }));
  }
  return stats;
}

}  // namespace streamstate::internal
