// Loading one data file of a checkpoint and checking it against its manifest entry: size,
// XXH3 of the whole object, and that the file's own index says what the manifest says.
// Internal, shared by verify and restore.
//
// Thread-safety: pure functions; a LoadedFile is immutable and may be read by several threads.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <vector>
#include <string>

#include "checkpoint/snapshot_file_reader.h"
#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"

namespace streamstate::internal {

struct LoadedFile {
  const CheckpointFile* entry = nullptr;      // in the manifest it was loaded for
  // The whole object, or the ranges read (stable addresses for the reader).
  std::vector<std::unique_ptr<std::string>> bytes;
  std::optional<SnapshotFileReader> reader;
  uint64_t bytes_fetched = 0;
};

// kNotFound naming the object when it is missing; kCorruption naming it when its size,
// checksum, header, footer or index disagree with the manifest. A RocksDB file
// (kRocksDbFile) is checked by size and checksum only and has no reader.
Result<LoadedFile> load_file(CheckpointStorage& storage, CheckpointId id, const CheckpointFile& file);

// For a restore of `columns` and `key_groups`: reads only the section headers and the key
// groups needed (CheckpointStorage::read_range, ranges less than 4 KiB apart read as one)
// when they come to less than three quarters of the file, else the whole file (load_file).
// A ranged read is checked by the block checksums and the manifest's copy of the index; the
// rest of the file is not read, so not checked.
Result<LoadedFile> load_file_for_restore(CheckpointStorage& storage, CheckpointId id, const CheckpointFile& file,
                                         const std::set<std::string, std::less<>>& columns,
                                         KeyGroupRange key_groups);

// Valid checkpoints, best first (see checkpoint_listing.cc).
Result<std::vector<CheckpointManifest>> restore_candidates(CheckpointStorage& storage,
                                                           std::optional<int64_t> at_or_before_millis,
                                                           std::vector<SkippedCheckpoint>* skipped);

}  // namespace streamstate::internal
