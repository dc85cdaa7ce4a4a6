// RocksDbRestoreOptions::states, ::renames and ::drops: checked against a native checkpoint's
// manifest before anything is downloaded, then applied to the staged database before the
// rename that makes it appear. Internal, shared by the single and the combined restore.
//
// A state is its column (named as the state) and its "_ss.states" record (keyed by the state's
// name); mid-migration also a "!migration:<name>" marker and a staging column
// (migration_staging_column). A drop removes all of them; a rename moves them to the new name.
// RocksDB cannot rename a column family, so a renamed state's entries are copied into a column
// of the new name (bulk puts of 4,096) and the old column is dropped.
//
// Thread-safety: reentrant; each restore works on its own staged database.
#pragma once

#include <string>
#include <vector>

#include "checkpoint/rocksdb/native_catalog.h"
#include "streamstate/checkpoint.h"
#include "streamstate/rocksdb.h"
#include "streamstate/rocksdb_checkpoint.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// True when the options select, rename or drop any state.
bool selects_states(const RocksDbRestoreOptions& options);

// kInvalidArgument, naming the option and the state, for a name in `states` the checkpoint does
// not hold, what check_state_renames (restore_renames.h) refuses, and a renamed state that
// `states` leaves out.
Status check_native_selection(const CheckpointManifest& manifest, const RocksDbRestoreOptions& options);

// Applies the checked options to the staged database `db`; `catalog` is the staged directory's
// (which columns carry expiry headers).
Status apply_native_selection(RocksDbBackend& db, const NativeCatalog& catalog, const CheckpointManifest& manifest,
                              const RocksDbRestoreOptions& options);

}  // namespace streamstate::internal
