// Schema versions of keyed state and the migrations between major versions.
//
// Every state descriptor carries a semantic version of its stored format. The store records
// it with the state (in the "_ss.states" column). A new minor or patch version is assumed to
// read the old bytes and is simply recorded. A different major version means the stored
// bytes must be rewritten: opening the state fails with FailedPrecondition unless a migration
// for that pair of major versions was registered with KeyedStateStore::register_migration;
// then the store rewrites every stored value of the state with it before the state is used.
//
// Thread-safety: plain value types; a SchemaMigration is called from the thread that opens
// the state.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate {

struct SchemaVersion {
  uint32_t major = 1;
  uint32_t minor = 0;
  uint32_t patch = 0;

  // "2.1.0".
  std::string to_string() const {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  }

  friend auto operator<=>(const SchemaVersion&, const SchemaVersion&) = default;
};

// Rewrites one stored value (its codec bytes, without any expiry header) from the old major
// version's format to the new one's. Applied to values of value, reducing and aggregating
// state, to the values (not the keys) of map state and to the elements of list state.
// Return Corruption (or any error) to stop the migration; nothing is changed then.
using SchemaMigration = std::function<Result<std::string>(BytesView old_payload)>;

}  // namespace streamstate
