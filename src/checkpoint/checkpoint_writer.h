// Internal entry to the checkpoint writer for checkpoints written on behalf of another one (the
// merger writes a chain's state as a full checkpoint that keeps the chain's backend kind and log
// position). The public functions are in streamstate/checkpoint.h.
//
// Thread-safety: as start_checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "streamstate/checkpoint.h"

namespace streamstate::internal {

struct CheckpointOverrides {
  std::optional<std::string> backend_kind;  // instead of backend.kind()
  std::optional<uint64_t> log_position;     // instead of the snapshot's
};

// kInvalidArgument naming the first CheckpointOptions member out of range (the coordinator
// checks its options with it at start).
Status validate_checkpoint_options(const CheckpointOptions& options);

Result<PendingCheckpoint> start_checkpoint_with(StateBackend& backend, CheckpointStorage& storage,
                                                CheckpointOptions options, const CheckpointOverrides& overrides);

}  // namespace streamstate::internal
