// The key-group layout a KeyedStateStore binds its backend to: the max_parallelism keys were
// hashed with and the identity of the hash (state_record.h, "!layout" in "_ss.states").
// Keys hashed with one max_parallelism are invisible under another, so a store refuses to open
// a backend recorded with a different layout instead of silently reading nothing.
//
// Thread-safety: pure functions over a column; the first record is written with an atomic
// update, so two stores opening one empty backend at once agree on one layout.
#pragma once

#include <cstdint>

#include "streamstate/backend.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// Records `max_parallelism` in `states` ("_ss.states") when no layout is recorded yet, else
// checks it: FailedPrecondition naming both values and how to rescale when they differ (or
// the hash differs, or a rescale was interrupted).
Status check_or_record_layout(StateColumn& states, uint32_t max_parallelism);

}  // namespace streamstate::internal
