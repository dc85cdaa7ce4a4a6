#include "core/printable.h"

namespace streamstate::internal {

std::string escape_bytes(BytesView bytes) {
  constexpr size_t kMaxShown = 64;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out.push_back(static_cast<char>(byte));
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  if (bytes.size() > kMaxShown) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace streamstate::internal
