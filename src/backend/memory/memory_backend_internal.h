// Internal views of a memory backend, for tests and benchmarks that check what the backend
// does beneath its public interface.
//
// Thread-safety: as the backend's statistics().
#pragma once

#include <cstdint>

#include "streamstate/memory.h"

namespace streamstate::internal {

// Entries writers have copied for snapshots since the backend was opened: one per key changed
// (written, removed, expired, evicted or cleared) for the first time while a snapshot lived,
// per live snapshot. `backend` must come from MemoryBackend::open().
uint64_t entries_copied_for_snapshots(const MemoryBackend& backend);

}  // namespace streamstate::internal
