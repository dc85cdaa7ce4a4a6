// Retention of a pipeline's checkpoints: which job checkpoints to keep, and which state
// checkpoint objects ("state/<operator>/<instance>/chk-<id>/...") no kept job manifest needs -
// those of older job checkpoints and those of job checkpoints that never completed.
//
// Thread-safety: functions only; call them from the pipeline's coordinating thread (no state
// checkpoint may be in flight, or it would count as unneeded).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/status.h"

namespace streamstate::detail {

// ("state/<operator>/<instance>/", id) of a state checkpoint object; nullopt for other names.
std::optional<std::pair<std::string, CheckpointId>> state_checkpoint_of(std::string_view object_name);

// One more than the largest id of a job manifest or state checkpoint in the storage (1 when
// there is none), so a new checkpoint never reuses the id of an incomplete one.
Result<CheckpointId> next_job_checkpoint_id(CheckpointStorage& storage);

// Keeps the newest `keep` job manifests, deletes the older ones and every state checkpoint
// object no kept manifest names.
Status retain_job_checkpoints(CheckpointStorage& storage, size_t keep);

}  // namespace streamstate::detail
