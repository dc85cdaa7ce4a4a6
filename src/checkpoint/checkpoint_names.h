// Object names of checkpoints in a CheckpointStorage: "chk-<id>/<file>", the id in decimal
// zero-padded to 10 digits (more for larger ids), so names sort like ids up to 9,999,999,999.
// Internal.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"

namespace streamstate::internal {

inline constexpr std::string_view kCheckpointPrefix = "chk-";
inline constexpr std::string_view kSnapshotObject = "state.snap";
// The keys an incremental checkpoint deleted (CheckpointFileContent::kTombstones).
inline constexpr std::string_view kTombstonesObject = "tombstones.snap";

// The id of the checkpoint folder an object name is in ("chk-0000000007/x" -> 7); nullopt for
// names that are not in the canonical form checkpoint_folder writes.
std::optional<CheckpointId> checkpoint_id_of(std::string_view object_name);

// The id for a new checkpoint: `wanted` unless it has a manifest already (kAlreadyExists), or
// for 0 one more than the largest id found under "chk-" (committed or not).
Result<CheckpointId> choose_checkpoint_id(CheckpointStorage& storage, CheckpointId wanted);

// True for "chk-<id>/manifest.json".
bool is_manifest_name(std::string_view object_name);

}  // namespace streamstate::internal
