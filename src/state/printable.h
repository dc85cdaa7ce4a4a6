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
// (Built by appending: GCC 12 warns falsely, -Wrestrict, about "'" + std::string at -O3.)
inline std::string printable_bytes(BytesView bytes) {
  std::string text = "'";
  text += escape_bytes(bytes);
  text += '\'';
  return text;
}

}  // namespace streamstate::internal
