// How state code shows stored keys in error messages: text when the bytes are printable
// ASCII, hex otherwise, shortened past a limit so a huge key cannot flood a log.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "streamstate/bytes.h"

namespace streamstate::internal {

// 'user-17' or 0x00ff12... (at most 64 bytes shown, then "...(N bytes)").
std::string printable_bytes(BytesView bytes);

}  // namespace streamstate::internal
