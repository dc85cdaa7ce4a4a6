// What a checkpoint records about the keyed-state store in a backend, read from a snapshot's
// "_ss.states" column: the raw records, the states they describe (kind, codec, TTL, schema
// version) and the "!layout" record's max_parallelism. Internal.
//
// The record formats are those of src/state/state_record.h (format version 1); they are
// decoded here again because the checkpoint component sits below the keyed-state component.
// Records this build cannot read are kept raw and left out of the list of states.
//
// Thread-safety: pure functions over a snapshot (which may be read from any thread).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/checkpoint.h"
#include "streamstate/status.h"

namespace streamstate::internal {

inline constexpr std::string_view kStoreRecordsColumn = "_ss.states";
// The "_ss.states" key that marks a state whose schema migration is under way: this prefix
// and the state's name.
inline constexpr std::string_view kMigrationMarkerPrefix = "!migration:";

// "_ss.migration.<16 hex digits of hash_key(name)>": the column where a schema migration
// stages a state (as the state library's staging_column_name names it).
std::string migration_staging_column(std::string_view state);

// True for a name a state can have (a column or "_ss.states" key of a state): not empty, not
// starting with '!' (records such as "!layout") or "_ss." (the store's own columns).
inline bool is_state_name(std::string_view name) {
  return !name.empty() && name[0] != '!' && !name.starts_with("_ss.");
}

// "'a', 'b'" (sorted), or "no states", for messages.
std::string quoted_state_names(const std::set<std::string>& names);

struct StoreCatalog {
  std::map<std::string, std::string> records;  // raw "_ss.states" entries
  std::vector<CheckpointState> states;         // sorted by name
  std::optional<uint32_t> max_parallelism;     // from "!layout"
  std::set<std::string> ttl_states;            // names of states with a TTL
};

// Empty catalog when the snapshot has no "_ss.states" column.
Result<StoreCatalog> read_store_catalog(BackendSnapshot& snapshot);

// Decodes one state record; nullopt when its bytes are not a format-1 record.
std::optional<CheckpointState> decode_state_record_bytes(const std::string& name, BytesView bytes);
// max_parallelism of a "!layout" record; nullopt when not a format-1 record.
std::optional<uint32_t> decode_layout_max_parallelism(BytesView bytes);

}  // namespace streamstate::internal
