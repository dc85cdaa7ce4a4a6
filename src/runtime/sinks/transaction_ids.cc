#include "runtime/sinks/transaction_ids.h"

#include <cstdint>
#include <cstdio>
#include <random>

namespace streamstate::internal {

std::string random_writer_token() {
  std::random_device device;
  const uint64_t value = (static_cast<uint64_t>(device()) << 32) ^ device();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::string safe_name_part(const std::string& name) {
  std::string safe;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    safe.push_back(plain ? c : '_');
  }
  return safe.empty() ? "sink" : safe;
}

}  // namespace streamstate::internal
