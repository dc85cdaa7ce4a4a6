// Restoring checkpoints into a backend in two phases, so a failed restore leaves the target as
// it was:
//   prepare: read the manifests, check the sources fit together and the target's columns are
//            absent or empty, read every file needed and verify every block to be restored;
//            nothing is written;
//   apply:   write the store records and the entries (WriteBatches, one per block, on
//            `threads` threads each taking key-group sub-ranges); on an error, clear the
//            restored columns again (dropping those the restore created).
// Internal; the public functions are in streamstate/checkpoint.h.
//
// Thread-safety: a RestorePlan is used by one caller; apply() starts and joins its threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_verify.h"
#include "streamstate/checkpoint.h"

namespace streamstate::internal {

struct RestorePlan {
  struct Source {
    CheckpointManifest manifest;
    KeyGroupRange key_groups;  // what is read from it: its range within the target's
    std::vector<LoadedFile> files;
  };
  std::vector<std::unique_ptr<Source>> sources;  // stable addresses (files point into manifests)
  std::set<std::string, std::less<>> columns;     // the checkpoint columns restored
  // Checkpoint column -> the target column it is written to (RestoreOptions::renames; see
  // restore_renames.h). Columns not in it keep their names.
  std::map<std::string, std::string> column_renames;
  std::map<std::string, std::string> store_records;
  std::set<std::string> existing_columns;        // target columns that existed (empty) before
  uint32_t threads = 1;
  std::function<void(const RestoreProgress&)> on_progress;
};

// Nothing is written. kCorruption/kNotFound come from the checkpoints (a caller may try an
// older one); other errors from the options or the target.
Result<RestorePlan> prepare_restore(const std::vector<RestoreSource>& sources, StateBackend& target,
                                    const RestoreOptions& options);
Result<RestoreInfo> apply_restore(RestorePlan& plan, StateBackend& target);

}  // namespace streamstate::internal
