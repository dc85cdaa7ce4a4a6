// Renaming and dropping states on restore (RestoreOptions::renames and ::drops): checks the
// options against the checkpoint and turns a RestorePlan selected under the checkpoint's names
// into one that writes under the new names and leaves dropped states out. Internal.
//
// A state's data is its column (named as the state) and its "_ss.states" record (keyed by the
// state's name; the record's bytes do not hold the name). A state caught between the two phases
// of a schema migration also has a "!migration:<name>" marker and a staging column
// "_ss.migration.<16 hex digits of hash_key(name)>": a rename moves both to the new name's key
// and column, a drop leaves them out.
//
// Thread-safety: pure functions over a plan owned by the caller.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/restore.h"

namespace streamstate::internal {

// After select_columns: checks options.renames and options.drops against the states the
// checkpoints hold (`available` columns and the store records' state names) and applies them
// to plan.columns (the checkpoint columns read), plan.column_renames and plan.store_records.
// kInvalidArgument, naming the option and the state, for: a name the checkpoint does not hold,
// a state both renamed and dropped (or dropped and named in RestoreOptions::states), a new name
// that is not a valid state name, and two states restored under one name.
Status apply_state_renames(RestorePlan& plan, const RestoreOptions& options,
                           const std::set<std::string, std::less<>>& available);

// The checks of renames and drops that every restore shares (the generic one above and native
// RocksDB restores), against `held` (the states the checkpoint holds) and `restored` (the states
// the restore selects, by checkpoint name); messages name the options as `options_type`
// ("RestoreOptions"). kInvalidArgument for: a dropped or renamed name not held, a state both
// renamed and dropped or both in `states` and dropped, a new name that is not a valid state
// name, and two states restored under one name.
Status check_state_renames(std::string_view options_type, const std::set<std::string>& held,
                           const std::set<std::string>& restored, const std::vector<std::string>& states,
                           const std::map<std::string, std::string>& renames, const std::set<std::string>& drops);

// The name checkpoint column `column` is written under.
const std::string& target_column(const RestorePlan& plan, const std::string& column);
// Every column the restore writes, under the names it writes them.
std::set<std::string, std::less<>> target_columns(const RestorePlan& plan);

}  // namespace streamstate::internal
