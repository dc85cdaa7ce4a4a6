// How state code shows keys in error messages: quoted, with core's escaping (printable ASCII as
// is, other bytes as \xNN, at most 64 bytes), so a binary or huge key can neither garble nor
// flood a message.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "core/printable.h"
#include "streamstate/bytes.h"

namespace streamstate::internal {

// 'user-17', '\x00\x05ab', or the first 64 bytes then "... (N bytes)", in quotes.
inline std::string printable_bytes(BytesView bytes) { return "'" + escape_bytes(bytes) + "'"; }

}  // namespace streamstate::internal
