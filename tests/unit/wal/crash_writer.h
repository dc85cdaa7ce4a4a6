// What the kill -9 test's writer process (crash_writer_main.cc) appends and acknowledges, shared
// with the test that checks it: each record is named by (round, thread, counter) and its
// payload is derived from that name, so the checker can rebuild what an acknowledged record
// must hold.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace streamstate::testing {

// Written to the pipe, whole (smaller than PIPE_BUF, so a write is atomic), after the append
// of the record returned OK.
struct CrashAck {
  uint64_t sequence = 0;
  uint32_t round = 0;
  uint32_t thread = 0;
  uint64_t counter = 0;
};

inline constexpr uint8_t kCrashRecordType = 7;

// 16 bytes naming the record, then 0 to 999 bytes derived from the name.
inline std::string crash_payload(uint32_t round, uint32_t thread, uint64_t counter) {
  std::string out(16, '\0');
  uint64_t name = (static_cast<uint64_t>(round) << 32) | thread;
  std::memcpy(out.data(), &name, 8);
  std::memcpy(out.data() + 8, &counter, 8);
  uint64_t x = name * 0x9E3779B97F4A7C15ULL + counter * 0xC2B2AE3D27D4EB4FULL + 1;
  out.resize(16 + static_cast<size_t>(x % 1000));
  for (size_t i = 16; i < out.size(); ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    out[i] = static_cast<char>(x >> 56);
  }
  return out;
}

}  // namespace streamstate::testing
