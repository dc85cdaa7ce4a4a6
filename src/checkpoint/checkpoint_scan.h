// One pass over a storage's checkpoints for listing, restore and garbage collection: every
// object under "chk-", and for each folder with a manifest object whether the checkpoint is
// usable (manifest verifies, its id matches the folder, every file it names exists with the
// recorded size) or why not. Internal.
//
// Thread-safety: pure functions over a storage (which is thread-safe).
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct ScannedCheckpoint {
  CheckpointId id = 0;
  std::optional<CheckpointManifest> manifest;  // set when the checkpoint is usable
  Status problem;                              // why it is not, otherwise
};

struct CheckpointScan {
  std::vector<StoredObject> objects;                     // every object under "chk-", sorted by name
  std::map<CheckpointId, ScannedCheckpoint> checkpoints;  // folders with a manifest object
};

// Storage errors other than a manifest vanishing between list and read fail the scan: a
// checkpoint is only declared unusable for what its own bytes say.
Result<CheckpointScan> scan_checkpoints(CheckpointStorage& storage);

// The manifest of `id`, checked like parse_manifest and for its id.
Result<CheckpointManifest> read_manifest(CheckpointStorage& storage, CheckpointId id);

}  // namespace streamstate::internal
