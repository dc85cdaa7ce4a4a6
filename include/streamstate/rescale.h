// Rescaling stored keyed state to another max_parallelism (the number of key groups).
//
// A key's key group is hash(key) mod max_parallelism and is the first part of every stored
// key, so changing max_parallelism moves (nearly) every key: a KeyedStateStore opened with
// another max_parallelism than the one recorded in the backend fails with FailedPrecondition
// rather than read nothing. rescale_keyed_state is the explicit, offline way to change it.
//
//   auto backend = RocksDbBackend::open({.path = dir}).value();
//   rescale_keyed_state(*backend, 128, 256);          // every store closed; no writers
//   auto store = KeyedStateStore::open(std::move(backend), {.max_parallelism = 256});
//
// It rewrites every key of every keyed state recorded in "_ss.states" (value, list, map,
// reducing, aggregating; values and TTLs unchanged) and then records the new max_parallelism.
// Columns that are not keyed states (ScratchState, StateAccess) are not touched. Each key is
// moved by one atomic batch (put under the new key group, remove the old), and the layout
// record says "rescaling from -> to" until the end, so after a crash or an error the call can
// simply be repeated: keys already moved are recognised by their key group and skipped, and a
// store refuses to open the backend until the rescale has finished.
//
// Preconditions: no store or other process uses the backend meanwhile (on a shared Redis
// backend, stop every process first), and no schema migration is half-done (open the state
// once to finish it). Cost: one read and one write per stored entry.
//
// Errors: InvalidArgument for an invalid or equal pair of values; FailedPrecondition when the
// backend records another max_parallelism (or another interrupted rescale), naming both;
// Corruption naming the state and user key for a stored key that belongs to neither layout.
// Returns OK at once when the backend already records `to_max_parallelism`.
//
// Thread-safety: run it alone (see preconditions).
#pragma once

#include <cstdint>

#include "streamstate/backend.h"
#include "streamstate/status.h"

namespace streamstate {

Status rescale_keyed_state(StateBackend& backend, uint32_t from_max_parallelism, uint32_t to_max_parallelism);

}  // namespace streamstate
