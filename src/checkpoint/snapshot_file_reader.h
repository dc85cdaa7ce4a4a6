// Reads a snapshot file written by write_snapshot_file (docs/formats.md, "Snapshot file"):
// verifies it and restores its entries into a StateBackend, all of them or one key-group range.
// Internal to checkpoints. Works over the whole file in memory, or over the parts of it a
// key-group range needs (over_windows).
//
//   auto reader = SnapshotFileReader::open("chk-7/state.snap", bytes);
//   if (reader.is_ok()) status = reader->restore_into(backend, KeyGroupRange(0, 64));
//
// Every length is bounded by the file and every checksum is checked before the bytes it covers
// are used (a block's XXH3 before it is decompressed); anything wrong is kCorruption naming the
// file and the place. Restore adds entries to the backend (it does not clear it) and applies one
// WriteBatch per block, so a restore that fails part way leaves the blocks before the bad one
// written: callers that need all-or-nothing call verify() first or restore into staging.
//
// Thread-safety: a reader is immutable after open(); verify() and restore_into() may run on
// several threads at once. The file bytes must outlive the reader.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checkpoint/snapshot_file_writer.h"
#include "streamstate/backend.h"
#include "streamstate/bytes.h"
#include "streamstate/key_group.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct SnapshotFileReadOptions {
  // Check the XXH3 over the whole file in open(). A ranged reader (not yet built) turns it off
  // and relies on the index and block checksums. Default: true.
  bool check_file_checksum = true;
};

// Which entries verify and restore_into read: the blocks of these key groups of these columns.
struct SnapshotReadFilter {
  // Default: every key group.
  std::optional<KeyGroupRange> key_groups;
  // Names of the columns to read; nullptr = every column. Must outlive the call.
  const std::set<std::string, std::less<>>* columns = nullptr;
  // restore_into deletes the keys read instead of putting them (a tombstone file).
  bool as_deletes = false;
  // restore_into writes column `first` of the file into backend column `second` (a state
  // renamed on restore); columns not in it keep their names. nullptr = none. Must outlive the call.
  const std::map<std::string, std::string>* renames = nullptr;
};

struct SnapshotRestoreStats {
  uint64_t entries = 0;
  uint64_t blocks = 0;
  uint64_t bytes_read = 0;  // frame bytes of the blocks read
};

class SnapshotFileReader {
 public:
  // Bytes of the file starting at `offset`.
  struct Window {
    uint64_t offset = 0;
    BytesView bytes;
  };


  // Checks the header, footer and index (and the file checksum unless turned off).
  static Result<SnapshotFileReader> open(std::string display_name, BytesView file,
                                         const SnapshotFileReadOptions& options = {});

  // A reader over parts of a file, for restoring a key-group range without reading the rest:
  // `columns` is the file's index as recorded elsewhere (a checkpoint manifest, itself
  // checksummed) and `windows` the bytes read. verify(filter) and restore_into(filter) check
  // every section header and block they use as open() does; asked for bytes outside the
  // windows, they fail with kInternal. verify() (the whole file) is not available.
  static SnapshotFileReader over_windows(std::string display_name, std::vector<SnapshotColumnInfo> columns,
                                         std::vector<Window> windows);

  // The columns as the index records them (expired_dropped is 0).
  const std::vector<SnapshotColumnInfo>& columns() const { return columns_; }
  uint64_t file_checksum() const { return file_checksum_; }

  // Checks the file checksum, every section header and every block (checksum, decompression,
  // entry framing, key groups) without writing anything.
  Status verify() const;
  // Checks the section headers and blocks the filter selects (not the file checksum).
  Status verify(const SnapshotReadFilter& filter) const;

  // Calls on_block(column, entries) for every block the filter selects, in file order (entries
  // point into a buffer reused for the next block). Checks what it reads as verify() does.
  Status for_each_block(const SnapshotReadFilter& filter,
                        const std::function<Status(const SnapshotColumnInfo& column,
                                                   std::vector<std::pair<BytesView, BytesView>>& entries)>& on_block) const;

  // Puts the entries of every column (opened with its values_carry_expiry) into `backend`,
  // only those of `key_groups` when given; reads only the blocks of those groups.
  Result<SnapshotRestoreStats> restore_into(StateBackend& backend,
                                            std::optional<KeyGroupRange> key_groups = std::nullopt) const;
  // As above, for the columns and key groups the filter selects.
  Result<SnapshotRestoreStats> restore_into(StateBackend& backend, const SnapshotReadFilter& filter) const;

 private:
  SnapshotFileReader(std::string display_name, BytesView file) : name_(std::move(display_name)), file_(file) {}

  Status parse_index(uint64_t index_offset, uint64_t index_size);
  Status corrupt(const std::string& what) const;
  // Visits the entries of `column`'s groups within [first, last) of its key_groups.
  Status read_groups(const SnapshotColumnInfo& column, size_t first, size_t last, SnapshotRestoreStats& stats,
                     const std::function<Status(std::vector<std::pair<BytesView, BytesView>>&)>& on_block) const;
  Status check_section_header(const SnapshotColumnInfo& column) const;
  // `length` bytes at `offset` from the windows read.
  Result<BytesView> view(uint64_t offset, uint64_t length) const;
  // The index range [first, last) of column.key_groups inside `key_groups`.
  static std::pair<size_t, size_t> group_span(const SnapshotColumnInfo& column,
                                              const std::optional<KeyGroupRange>& key_groups);

  std::string name_;
  BytesView file_;  // the whole file; empty for a reader over windows
  std::vector<Window> windows_;
  uint64_t file_checksum_ = 0;
  std::vector<SnapshotColumnInfo> columns_;
};

}  // namespace streamstate::internal
