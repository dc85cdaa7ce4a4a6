// Values in the expiry-carrying layout (core/expiring_value.h) and the column options that
// declare them, for tests of columns opened with ColumnOptions::values_carry_expiry.
// Functions are pure and safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expiring_value.h"
#include "streamstate/backend.h"

namespace streamstate::testing {

// `payload` behind an expiry header saying it expires at `expires_at` (milliseconds).
inline std::string expiring(int64_t expires_at, std::string_view payload) {
  std::string out;
  internal::append_expiring_value(out, expires_at, payload);
  return out;
}

// Options for a column whose values carry an expiry header.
inline ColumnOptions carrying_expiry() {
  ColumnOptions options;
  options.values_carry_expiry = true;
  return options;
}

}  // namespace streamstate::testing
