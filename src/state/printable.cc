#include "state/printable.h"

namespace streamstate::internal {

namespace {
constexpr size_t kMaxShownBytes = 64;
}  // namespace

std::string printable_bytes(BytesView bytes) {
  const BytesView shown = bytes.substr(0, kMaxShownBytes);
  bool text = true;
  for (char c : shown) {
    if (c < 0x20 || c > 0x7e) {
      text = false;
      break;
    }
  }
  std::string out;
  if (text) {
    out = "'" + std::string(shown) + "'";
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    out = "0x";
    for (char c : shown) {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  if (bytes.size() > shown.size()) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace streamstate::internal
