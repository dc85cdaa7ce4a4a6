// Local recovery: a CheckpointStorage that writes every object to a remote storage (S3, a
// shared directory: the truth) and keeps a copy of the newest checkpoints' files in a local
// directory, so that a restart on the same machine reads its data files from the local disk and
// downloads nothing but the listing and the manifest.
//
//   auto remote = streamstate::open_s3_storage(s3_options);
//   auto storage = streamstate::open_local_recovery_storage(std::move(remote).value(),
//                                                           {.path = "/var/lib/job/local-chk"});
//   // checkpoints and restores go through *storage as through any CheckpointStorage
//
// What goes where:
// - Writes go to the remote and to the local copy (written as DirectoryStorage writes: temp
//   file, fsync, rename, fsync the folder). The remote decides: a failed remote append or commit
//   fails the writer; a failed local write (disk full, a name a directory cannot hold) only drops
//   the local copy of that object (statistics().local_write_failures) and the write goes on.
// - list, exists and remove_incomplete ask the remote; remove removes the remote object and the
//   local copy.
// - Manifests ("chk-<id>/manifest.json") are always read from the remote, so a restore chooses
//   among the checkpoints the remote really holds. Each manifest read is parsed: it tells the
//   size and XXH3 of every data file its checkpoint needs.
// - A data file (read or read_range) is served from the local copy when a manifest seen by this
//   storage (read from the remote, committed through it, or found in the local copy at open)
//   names it and the local file has that size and that XXH3, checked on its first read; the
//   remote is then not asked at all. Otherwise (no local copy, or one that is damaged or stale)
//   it is read from the remote, and a damaged or stale local copy is deleted
//   (statistics().local_copies_rejected). A bad local disk therefore costs a download, never a
//   wrong or failed restore. Objects no manifest names are always read from the remote.
// - The local copy keeps the objects of the newest `keep_checkpoints` checkpoints whose
//   manifests were committed through this storage (or found locally at open): each manifest
//   commit prunes the local objects in checkpoint folders up to the newest kept one that no kept
//   manifest names. Files an incremental checkpoint shares with its chain are named by its
//   manifest, so they stay. Objects in folders of newer checkpoints (being written) and objects
//   outside checkpoint folders are never pruned.
//
// Thread-safety: as CheckpointStorage (any number of threads). Only one LocalRecoveryStorage
// (one process) may use a local path at a time; the remote may be shared as usual.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "streamstate/checkpoint_storage.h"
#include "streamstate/status.h"

namespace streamstate {

struct LocalRecoveryOptions {
  // The local directory that holds the copy; created when missing. Required.
  std::string path;
  // Checkpoints whose objects the local copy keeps, the newest ones; at least 1. Default: 1.
  size_t keep_checkpoints = 1;
  // Bytes a local writer buffers before writing them to its file. Default: 1 MiB.
  size_t write_buffer_bytes = size_t{1} << 20;
};

// Counters since the storage was opened.
struct LocalRecoveryStatistics {
  // Data-file reads (read and read_range) served by the local copy, and their bytes.
  uint64_t local_reads = 0;
  uint64_t local_bytes_read = 0;
  // Data-file reads served by the remote, and their bytes (manifests not included).
  uint64_t remote_reads = 0;
  uint64_t remote_bytes_read = 0;
  // Manifest reads (always from the remote) and their bytes.
  uint64_t manifest_reads = 0;
  uint64_t manifest_bytes_read = 0;
  // Local copies found damaged or stale (size or XXH3 not the manifest's): deleted, read remotely.
  uint64_t local_copies_rejected = 0;
  // Objects committed to the local copy, and their bytes.
  uint64_t objects_copied = 0;
  uint64_t bytes_copied = 0;
  // Local copies that could not be written (the remote write went on without them).
  uint64_t local_write_failures = 0;
  // Local objects deleted because no kept checkpoint needs them any more.
  uint64_t objects_pruned = 0;
};

class LocalRecoveryStorage : public CheckpointStorage {
 public:
  virtual LocalRecoveryStatistics statistics() const = 0;
  // The local directory (absolute).
  virtual std::string local_path() const = 0;
};

// Opens the local copy at options.path over `remote` (which the storage keeps alive). Reads the
// manifests found in the local copy (a damaged one is deleted), prunes what the newest
// `keep_checkpoints` of them do not need and removes leftovers of local writers that died.
// kInvalidArgument for a null remote, an empty path or keep_checkpoints 0; kIoError naming the
// path when the directory cannot be created or read.
Result<std::unique_ptr<LocalRecoveryStorage>> open_local_recovery_storage(std::shared_ptr<CheckpointStorage> remote,
                                                                          const LocalRecoveryOptions& options);

}  // namespace streamstate
