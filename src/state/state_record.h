// The store's record of each state, kept in the backend column "_ss.states" under the state's
// name, so that a state reopened later (also after a restart) is checked against what is
// stored:
//
//   [format version u8 = 1][kind u8][codec name: length-prefixed][schema major varint32]
//   [schema minor varint32][schema patch varint32][ttl u8: 1 = values carry an expiry header]
//
// While a schema migration is between its two phases, "_ss.states" also holds a marker under
// "!migration:<state name>" (never a state name: '!' is not allowed in one) whose value is
// the record the state will have afterwards. See state_migration.h and docs/keyed-state.md.
//
// The store's key-group layout is recorded under "!layout" (written by the first store that
// opens the backend, checked by every later one):
//
//   [format version u8 = 1][max_parallelism varint32][key-group hash: length-prefixed name]
//   [rescale target varint32: 0 = none, else the max_parallelism a rescale is moving to]
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "streamstate/bytes.h"
#include "streamstate/schema.h"
#include "streamstate/state_descriptor.h"
#include "streamstate/status.h"

namespace streamstate::internal {

inline constexpr std::string_view kStatesColumn = "_ss.states";
inline constexpr std::string_view kReservedColumnPrefix = "_ss.";
inline constexpr uint8_t kStateRecordFormat = 1;

struct StateRecord {
  StateKind kind = StateKind::kValue;
  std::string codec_name;
  SchemaVersion schema;
  bool ttl = false;

  friend bool operator==(const StateRecord&, const StateRecord&) = default;
};

std::string encode_state_record(const StateRecord& record);
// Corruption naming the state for truncated or malformed bytes; FailedPrecondition for a
// format version written by a newer streamstate.
Result<StateRecord> decode_state_record(std::string_view state_name, BytesView bytes);

std::string migration_marker_key(std::string_view state_name);

// Keys of "_ss.states" that are not state names start with this ('!' is not allowed in one).
inline constexpr char kStatesMetaPrefix = '!';
inline constexpr std::string_view kLayoutKey = "!layout";
inline constexpr uint8_t kLayoutRecordFormat = 1;
// The identity of the key-group function key_group_for_key (key_group.h): XXH3-64 with seed 0,
// taken modulo max_parallelism. A build that changed it would record another name.
inline constexpr std::string_view kKeyGroupHashName = "xxh3-64-seed0-mod";

struct LayoutRecord {
  uint32_t max_parallelism = 0;
  std::string key_group_hash{kKeyGroupHashName};
  // Non-zero while rescale_keyed_state moves the keys to this max_parallelism.
  uint32_t rescale_target = 0;

  friend bool operator==(const LayoutRecord&, const LayoutRecord&) = default;
};

std::string encode_layout_record(const LayoutRecord& record);
// Corruption for truncated or malformed bytes; FailedPrecondition for a newer format version.
Result<LayoutRecord> decode_layout_record(BytesView bytes);

// "value state (codec 'i64', schema 1.0.0, with TTL)".
std::string describe_state_record(const StateRecord& record);

}  // namespace streamstate::internal
