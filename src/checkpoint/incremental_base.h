// Choosing what an incremental checkpoint builds on: the checkpoint a backend's ChangeTracker
// last confirmed (named by the label kept with the confirmed epoch), if it is in the same
// storage, still readable, of the same key-group layout, and its chain is still short and
// small enough; otherwise the checkpoint is written in full, and the reason says why.
// Internal to checkpoints (checkpoint_writer.cc).
//
// Thread-safety: pure functions, plus reads of the storage.
#pragma once

#include <optional>
#include <string>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"

namespace streamstate::internal {

// The label confirm_changes() keeps for checkpoint `id` of `storage`: "<storage.describe()>#<id>".
std::string change_base_label(const CheckpointStorage& storage, CheckpointId id);

struct IncrementalBase {
  std::optional<CheckpointManifest> parent;  // the checkpoint to build on, or none: write in full
  std::string full_reason;                   // why none (empty when there is a parent)
};

// `label`: TrackedSnapshot::base_label (empty when the tracker has no confirmed base).
IncrementalBase choose_incremental_base(CheckpointStorage& storage, const std::string& label,
                                        const IncrementalOptions& options, uint32_t max_parallelism,
                                        KeyGroupRange key_groups);

}  // namespace streamstate::internal
