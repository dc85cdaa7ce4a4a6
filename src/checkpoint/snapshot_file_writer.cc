// Snapshot file writer: groups each column's entries by key group and frames them in
// compressed, checksummed blocks. Format in docs/formats.md, "Snapshot file".
#include "checkpoint/snapshot_file_writer.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>
#include <utility>

#include "checkpoint/snapshot_file_format.h"
#include "core/expiring_value.h"
#include "streamstate/checksum.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

// Counts bytes and the running file checksum as they go to the sink.
class FileOutput {
 public:
  explicit FileOutput(const SnapshotFileSink& sink) : sink_(sink) {}

  Status write(BytesView bytes) {
    checksum_.update(bytes);
    offset_ += bytes.size();
    return sink_(bytes);
  }
  // Bytes after the checksummed part (the checksum and the footer magic).
  Status write_unchecksummed(BytesView bytes) {
    offset_ += bytes.size();
    return sink_(bytes);
  }
  uint64_t offset() const { return offset_; }
  uint64_t checksum() const { return checksum_.digest(); }

 private:
  const SnapshotFileSink& sink_;
  Checksum64Builder checksum_;
  uint64_t offset_ = 0;
};

// The entries of one key group, framed as they go into blocks (length-prefixed key and value),
// block by block. Appending to a block reserved at about its final size costs no allocation
// per entry and no sort: the file's groups come out in order, entries within a group in
// iteration order.
struct GroupEntries {
  uint32_t key_group = 0;
  std::vector<std::string> blocks;
  uint64_t entries = 0;
};

// Reads one column into per-group buffers, dropping entries outside the key-group filter and
// expired ones. Returns the groups with entries, ascending.
Status collect_entries(BackendSnapshot& snapshot, const SnapshotFileWriteOptions& options,
                       SnapshotColumnInfo& column, std::vector<GroupEntries>& groups) {
  std::vector<int32_t> slot_of_group(size_t{1} << 16, -1);
  // A block closes once it reaches block_bytes, so it ends a little above: a group's second and
  // later blocks reserve that much (at most 1 MiB; larger blocks grow as they fill). Its first
  // block grows as it fills, so that a file of small groups (an incremental checkpoint's
  // changes) does not reserve a whole block per group.
  const size_t reserve_bytes =
      static_cast<size_t>(std::min<uint64_t>(options.block_bytes + std::min<uint64_t>(options.block_bytes, 4096),
                                             uint64_t{1} << 20));
  const size_t first_reserve_bytes = std::min<size_t>(reserve_bytes, 1024);
  // Each column is read once: a memory snapshot then stops costing writers in the shards read.
  STREAMSTATE_ASSIGN_OR_RETURN(auto it, snapshot.iterate_once(column.name));
  for (; it->valid(); it->next()) {
    BytesView key = it->key();
    BytesView value = it->value();
    if (key.size() < 2) {
      return Status::invalid_argument(options.display_name + ": column '" + column.name +
                                      "' holds a key of " + std::to_string(key.size()) +
                                      " bytes; snapshot files need keys that start with their "
                                      "key group (u16 big-endian, docs/formats.md \"State key\"): when the "
                                      "column is not keyed state (a ScratchState column, keys written directly), "
                                      "leave it out with CheckpointOptions::excluded_columns");
    }
    uint32_t group = decode_fixed16_big_endian(key.data());
    if (options.key_groups && !options.key_groups->contains(group)) continue;
    if (column.values_carry_expiry) {
      std::optional<int64_t> expiry = read_expiry(value);
      // A value too short for a header is kept as stored: the file never loses bytes.
      if (expiry && is_expired_at(*expiry, options.now_millis)) {
        ++column.expired_dropped;
        continue;
      }
    }
    if (slot_of_group[group] < 0) {
      slot_of_group[group] = static_cast<int32_t>(groups.size());
      groups.push_back(GroupEntries{group, {}, 0});
    }
    GroupEntries& entries = groups[static_cast<size_t>(slot_of_group[group])];
    if (entries.blocks.empty() || entries.blocks.back().size() >= options.block_bytes) {
      entries.blocks.emplace_back().reserve(entries.blocks.empty() ? first_reserve_bytes : reserve_bytes);
    }
    std::string& block = entries.blocks.back();
    put_length_prefixed(block, key);
    put_length_prefixed(block, value);
    ++entries.entries;
  }
  STREAMSTATE_RETURN_IF_ERROR(it->status());
  std::sort(groups.begin(), groups.end(),
            [](const GroupEntries& a, const GroupEntries& b) { return a.key_group < b.key_group; });
  return Status::ok();
}

// Frames one compressed block: length, bytes, XXH3.
Status write_frame(FileOutput& out, const SnapshotFileWriteOptions& options, const std::string& compressed) {
  if (compressed.size() > kMaxCompressedBlock) {
    return Status::invalid_argument(options.display_name + ": a block compresses to " +
                                    std::to_string(compressed.size()) + " bytes, above the 1 GiB limit; "
                                    "lower block_bytes or store smaller values");
  }
  std::string frame;
  put_fixed32(frame, static_cast<uint32_t>(compressed.size()));
  STREAMSTATE_RETURN_IF_ERROR(out.write(frame));
  STREAMSTATE_RETURN_IF_ERROR(out.write(compressed));
  frame.clear();
  put_fixed64(frame, checksum64(compressed));
  return out.write(frame);
}

// One block of a section: its group's index and its bytes (freed once written).
struct BlockRef {
  size_t group;
  std::string* bytes;
};

// Compresses blocks[0..n) into compressed[0..n) on up to options.compression_threads threads.
Status compress_blocks(const SnapshotFileWriteOptions& options, const std::vector<BlockRef>& blocks,
                       std::vector<std::string>& compressed) {
  compressed.resize(blocks.size());
  std::vector<Status> statuses(blocks.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < blocks.size(); i = next++) {
      statuses[i] = compress_block(options.compression, *blocks[i].bytes, compressed[i], options.compression_options);
    }
  };
  std::vector<std::thread> pool;
  for (uint32_t t = 1; t < options.compression_threads && t < blocks.size(); ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // the threads started (at least the caller's) do all the work
    }
  }
  work();
  for (std::thread& thread : pool) thread.join();
  for (Status& status : statuses) STREAMSTATE_RETURN_IF_ERROR(status);
  return Status::ok();
}

Status write_section(FileOutput& out, const SnapshotFileWriteOptions& options, SnapshotColumnInfo& column,
                     std::vector<GroupEntries>& groups) {
  column.section_offset = out.offset();
  std::string header;
  put_length_prefixed(header, column.name);
  header.push_back(static_cast<char>(column.values_carry_expiry ? kSectionValuesCarryExpiry : 0));
  STREAMSTATE_RETURN_IF_ERROR(out.write(header));
  // Blocks are compressed a window at a time (in parallel), then framed in order.
  const size_t window = std::max<size_t>(1, size_t{16} * options.compression_threads);
  std::vector<BlockRef> blocks;
  std::vector<std::string> compressed;
  auto flush = [&]() -> Status {
    STREAMSTATE_RETURN_IF_ERROR(compress_blocks(options, blocks, compressed));
    for (size_t i = 0; i < blocks.size(); ++i) {
      GroupEntries& group = groups[blocks[i].group];
      if (column.key_groups.empty() || column.key_groups.back().key_group != group.key_group) {
        column.key_groups.push_back({group.key_group, out.offset(), group.entries});
        column.entries += group.entries;
      }
      STREAMSTATE_RETURN_IF_ERROR(write_frame(out, options, compressed[i]));
      std::string().swap(*blocks[i].bytes);
    }
    blocks.clear();
    return Status::ok();
  };
  for (size_t g = 0; g < groups.size(); ++g) {
    for (std::string& block : groups[g].blocks) {
      blocks.push_back({g, &block});
      if (blocks.size() == window) STREAMSTATE_RETURN_IF_ERROR(flush());
    }
  }
  STREAMSTATE_RETURN_IF_ERROR(flush());
  groups.clear();
  column.section_end = out.offset();
  return Status::ok();
}

std::string encode_index(const std::vector<SnapshotColumnInfo>& columns) {
  std::string index;
  put_varint64(index, columns.size());
  for (const SnapshotColumnInfo& column : columns) {
    put_length_prefixed(index, column.name);
    index.push_back(static_cast<char>(column.values_carry_expiry ? kSectionValuesCarryExpiry : 0));
    put_varint64(index, column.section_offset);
    put_varint64(index, column.section_end);
    put_varint64(index, column.entries);
    put_varint64(index, column.key_groups.size());
    for (const KeyGroupOffset& group : column.key_groups) {
      put_varint32(index, group.key_group);
      put_varint64(index, group.offset);
      put_varint64(index, group.entries);
    }
  }
  put_fixed64(index, checksum64(index));
  return index;
}

}  // namespace

SnapshotFileSink string_sink(std::string& out) {
  return [&out](BytesView bytes) {
    out.append(bytes.data(), bytes.size());
    return Status::ok();
  };
}

SnapshotFileSink storage_sink(StorageWriter& writer) {
  return [&writer](BytesView bytes) { return writer.append(bytes); };
}

Result<SnapshotFileInfo> write_snapshot_file(BackendSnapshot& snapshot, const SnapshotFileWriteOptions& options,
                                             const SnapshotFileSink& sink) {
  if (options.compression_threads == 0 || options.compression_threads > 64) {
    return Status::invalid_argument(options.display_name + ": compression_threads " +
                                    std::to_string(options.compression_threads) + " is out of range; use 1 to 64");
  }
  if (options.block_bytes == 0 || options.block_bytes > kDefaultMaxUncompressedBlock / 2) {
    return Status::invalid_argument(options.display_name + ": block_bytes " + std::to_string(options.block_bytes) +
                                    " is out of range; use 1 byte to 512 MiB (default 64 KiB)");
  }
  FileOutput out(sink);
  std::string header(kSnapshotFileMagic);
  put_fixed32(header, kSnapshotFormatVersion);
  STREAMSTATE_RETURN_IF_ERROR(out.write(header));

  SnapshotFileInfo info;
  for (const std::string& name : snapshot.columns()) {
    if (options.excluded_columns.contains(name)) continue;
    SnapshotColumnInfo column;
    column.name = name;
    column.values_carry_expiry = options.expiring_columns.contains(name);
    std::vector<GroupEntries> groups;
    STREAMSTATE_RETURN_IF_ERROR(collect_entries(snapshot, options, column, groups));
    STREAMSTATE_RETURN_IF_ERROR(write_section(out, options, column, groups));
    info.columns.push_back(std::move(column));
  }

  uint64_t index_offset = out.offset();
  std::string index = encode_index(info.columns);
  STREAMSTATE_RETURN_IF_ERROR(out.write(index));
  std::string footer;
  put_fixed64(footer, index_offset);
  put_fixed64(footer, index.size());
  STREAMSTATE_RETURN_IF_ERROR(out.write(footer));
  info.checksum = out.checksum();
  footer.clear();
  put_fixed64(footer, info.checksum);
  footer.append(kSnapshotFooterMagic);
  STREAMSTATE_RETURN_IF_ERROR(out.write_unchecksummed(footer));
  info.bytes = out.offset();
  return info;
}

}  // namespace streamstate::internal
