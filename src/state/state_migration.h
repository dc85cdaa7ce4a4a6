// Rewriting every stored entry of one state: for a schema migration between major versions
// and for turning a state's TTL on or off (which adds or strips the expiry headers; only with the
// caller's consent, KeyedStateStore::register_ttl_change).
//
// Crash-safe in two phases, so a failure never leaves a half-migrated state behind:
//   1. every entry of the state's column is rewritten into a staging column
//      ("_ss.migration.<hash of the name>"); a migration function's error, or a crash, stops
//      here with the state untouched (the staging column is discarded by the next attempt);
//   2. a marker with the new record is written to "_ss.states" (the commit point); the
//      state's column is dropped, recreated with its column options and filled from the
//      staging column; then the new record replaces the old one and the marker goes, in one
//      batch; the staging column is dropped.
// A store that finds a marker (a crash during phase 2) runs phase 2 again: it only copies
// final values, so repeating it is harmless.
//
// Entries whose TTL has passed are dropped on the way. Migration functions see and return
// payloads only (codec bytes); list heads are not passed to them.
//
// Thread-safety: none; run by the thread that opens the state, while nothing else writes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "state/state_record.h"
#include "streamstate/backend.h"
#include "streamstate/schema.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct StateRewrite {
  std::string state_name;
  StateRecord from;
  StateRecord to;
  // Applied in order to each payload (empty when only the TTL setting changes).
  std::vector<SchemaMigration> migrations;
  // Options of the recreated column.
  ColumnOptions column_options;
  // Time used to drop expired entries, and the expiry given to values that gain a header.
  int64_t now = 0;
  int64_t expiry_for_new_headers = 0;
};

// Both phases.
Status rewrite_state(StateBackend& backend, StateColumn& states, const StateRewrite& rewrite);

// Phase 2 only, for a state whose marker (holding `to`) was found.
Status finish_state_rewrite(StateBackend& backend, const std::string& state_name, const StateRecord& to,
                            const ColumnOptions& column_options);

// "_ss.migration.<16 hex digits of hash_key(name)>".
std::string staging_column_name(std::string_view state_name);

}  // namespace streamstate::internal
