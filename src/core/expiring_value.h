// The "expiring value" layout shared by keyed state with a TTL and by the backends that drop
// expired entries themselves (RocksDB compaction filter, memory background cleanup):
//
//   [expires_at: fixed64 little-endian, milliseconds since the epoch][payload]
//
// kNeverExpiresMillis (INT64_MAX) means no expiry. See docs/formats.md.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "streamstate/bytes.h"

namespace streamstate::internal {

inline constexpr int64_t kNeverExpiresMillis = INT64_MAX;
inline constexpr size_t kExpiryHeaderBytes = 8;

// Appends the header and payload.
inline void append_expiring_value(std::string& out, int64_t expires_at, BytesView payload) {
  put_fixed64(out, static_cast<uint64_t>(expires_at));
  out.append(payload.data(), payload.size());
}

// The expiry time, or nullopt when the value is too short to carry one (corrupt).
inline std::optional<int64_t> read_expiry(BytesView value) {
  if (value.size() < kExpiryHeaderBytes) return std::nullopt;
  return static_cast<int64_t>(decode_fixed64(value.data()));
}

// An entry written with expiry e is visible while now < e.
inline bool is_expired_at(int64_t expires_at, int64_t now) { return now >= expires_at; }

// now + ttl, saturating at kNeverExpiresMillis.
inline int64_t expiry_after(int64_t now, int64_t ttl_millis) {
  if (ttl_millis <= 0 || now > kNeverExpiresMillis - ttl_millis) return kNeverExpiresMillis;
  return now + ttl_millis;
}

inline BytesView expiring_payload(BytesView value) { return value.substr(kExpiryHeaderBytes); }

}  // namespace streamstate::internal
