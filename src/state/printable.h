// How state code shows keys in error messages: quoted, with core's escaping (printable ASCII as
// is, other bytes as \xNN, at most 64 bytes), so a binary or huge key can neither garble nor
// flood a message. A stored keyed-state key is never shown as its bytes but decoded into what
// the user gave: the user key, its key group and the namespace (and the map key or list
// position for map and list state).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>

#include "core/printable.h"
#include "streamstate/bytes.h"
#include "streamstate/state_descriptor.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// 'user-17', '\x00\x05ab', or the first 64 bytes then "... (N bytes)", in quotes.
inline std::string printable_bytes(BytesView bytes) { return "'" + escape_bytes(bytes) + "'"; }

// A stored keyed-state key (state_key.h) of a state of `kind`, or a prefix of one as scanned
// by map and list state:
//   "user key 'user-248' (key group 21, namespace 'w1')"
//   "user key 'user-248' (key group 21, namespace '', map key '\x03abc')"
//   "user key 'user-248' (key group 21, namespace '', list element 7)"
// Without a kind the namespace part is shown as it is stored. Bytes that are not a state key:
// "stored key '...' (not a keyed-state key)".
std::string describe_state_key(BytesView stored_key, std::optional<StateKind> kind = std::nullopt);

// `cause` with every quoted occurrence of `stored_key`'s bytes (as backends print keys)
// replaced by describe_state_key(stored_key, kind), and "state '<name>': " in front.
Status with_state_key(const Status& cause, std::string_view state_name, BytesView stored_key,
                      std::optional<StateKind> kind);

}  // namespace streamstate::internal
