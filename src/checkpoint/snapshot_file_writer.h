// Writes a BackendSnapshot as one snapshot file (docs/formats.md, "Snapshot file"): one section
// per column, entries grouped by key group in compressed, checksummed blocks, a key-group offset
// index and a checksummed footer. Internal to checkpoints; the coordinator and manifest build
// on it.
//
//   std::string bytes;
//   auto info = write_snapshot_file(*snapshot, {.display_name = "chk-7/state.snap"},
//                                   string_sink(bytes));
//
// Keys must start with their key group (u16 big-endian, docs/formats.md "State key"); a key
// shorter than two bytes is InvalidArgument naming the column. Entries are read whole column
// at a time into memory and grouped there, so any backend's iteration order works.
//
// Thread-safety: write_snapshot_file may run on any thread (snapshots are readable from
// background threads); it starts compression_threads - 1 threads of its own and joins them
// before it returns. Concurrent calls on different snapshots are independent.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/bytes.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/compression.h"
#include "streamstate/key_group.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// Receives the file's bytes in order. A failed status stops the write and is returned.
using SnapshotFileSink = std::function<Status(BytesView bytes)>;

// A sink that appends to `out` (which must outlive the write).
SnapshotFileSink string_sink(std::string& out);
// A sink that appends to a checkpoint storage object; the caller commits the writer after a
// successful write (and discards it otherwise, so no torn file becomes visible).
SnapshotFileSink storage_sink(StorageWriter& writer);

struct SnapshotFileWriteOptions {
  // Name of the file in messages, e.g. "chk-7/state.snap". Default: "snapshot file".
  std::string display_name = "snapshot file";
  // Compression of every block. Default: LZ4.
  CompressionType compression = CompressionType::kLz4;
  CompressionOptions compression_options;
  // Uncompressed bytes of entries after which a block is closed (a block never spans key
  // groups; one entry larger than this is a block of its own). Default: 64 KiB.
  uint64_t block_bytes = 64 * 1024;
  // Columns whose values start with an expiry header (ColumnOptions::values_carry_expiry).
  // Their entries expired at now_millis are not written. Default: none.
  std::set<std::string, std::less<>> expiring_columns;
  // The time against which expiry is checked, milliseconds since the epoch. Default: 0.
  int64_t now_millis = 0;
  // When set, only entries of these key groups are written. Default: all.
  std::optional<KeyGroupRange> key_groups;
  // Threads compressing blocks (the calling thread among them); the file is the same for any
  // number. Default: 1.
  uint32_t compression_threads = 1;
  // Columns of the snapshot left out of the file (e.g. a column whose keys are not state
  // keys). Default: none.
  std::set<std::string, std::less<>> excluded_columns;
};

// Where the entries of one key group start within a file.
struct KeyGroupOffset {
  uint32_t key_group = 0;
  uint64_t offset = 0;   // byte offset of the group's first block frame in the file
  uint64_t entries = 0;

  friend bool operator==(const KeyGroupOffset&, const KeyGroupOffset&) = default;
};

struct SnapshotColumnInfo {
  std::string name;
  bool values_carry_expiry = false;
  uint64_t section_offset = 0;  // section header start
  uint64_t section_end = 0;     // one past the last block frame
  uint64_t entries = 0;
  uint64_t expired_dropped = 0;  // written by the writer only; 0 when read back
  std::vector<KeyGroupOffset> key_groups;  // ascending, only groups with entries
};

struct SnapshotFileInfo {
  uint64_t bytes = 0;
  uint64_t checksum = 0;  // XXH3 of the whole file except the footer's last 16 bytes
  std::vector<SnapshotColumnInfo> columns;
};

// Writes every column of `snapshot`. Errors: the snapshot's and the sink's, InvalidArgument
// for bad options or keys (naming the file, column and option).
Result<SnapshotFileInfo> write_snapshot_file(BackendSnapshot& snapshot,
                                             const SnapshotFileWriteOptions& options,
                                             const SnapshotFileSink& sink);

}  // namespace streamstate::internal
