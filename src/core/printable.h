// How the library shows keys and other raw bytes in error messages: printable ASCII as is,
// every other byte (and the backslash) as \xNN, at most 64 bytes, so that a binary or huge key
// can neither garble nor flood a message or a log.
//
// Thread-safety: pure function.
#pragma once

#include <string>

#include "streamstate/bytes.h"

namespace streamstate::internal {

// "user-7", "\x00\x05ab", or the first 64 bytes followed by "... (N bytes)".
std::string escape_bytes(BytesView bytes);

}  // namespace streamstate::internal
