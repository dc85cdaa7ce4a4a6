// Loading one data file of a checkpoint and checking it against its manifest entry: size,
// XXH3 of the whole object, and that the file's own index says what the manifest says.
// Internal, shared by verify and restore.
//
// Thread-safety: pure functions; a LoadedFile is immutable and may be read by several threads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "checkpoint/snapshot_file_reader.h"
#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"

namespace streamstate::internal {

struct LoadedFile {
  const CheckpointFile* entry = nullptr;      // in the manifest it was loaded for
  std::unique_ptr<std::string> bytes;        // the whole object (stable address for the reader)
  std::optional<SnapshotFileReader> reader;
};

// kNotFound naming the object when it is missing; kCorruption naming it when its size,
// checksum, header, footer or index disagree with the manifest.
Result<LoadedFile> load_file(CheckpointStorage& storage, CheckpointId id, const CheckpointFile& file);

// Valid checkpoints, best first (see checkpoint_listing.cc).
Result<std::vector<CheckpointManifest>> restore_candidates(CheckpointStorage& storage,
                                                           std::optional<int64_t> at_or_before_millis,
                                                           std::vector<SkippedCheckpoint>* skipped);

}  // namespace streamstate::internal
