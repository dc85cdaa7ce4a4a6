// Helpers shared by the backend registry tests: unique names, bounded waits, expiring values
// and small column utilities.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "core/expiring_value.h"
#include "streamstate/backend.h"
#include "testutil/status_matchers.h"

namespace streamstate::registry_test {

inline constexpr int64_t kStart = 1'700'000'000'000;

inline std::string unique_name(const std::string& base) {
  static std::atomic<int> counter{0};
  return base + "-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

// Waits (bounded) until `done` holds; the condition, not the time, is what the test checks.
template <typename Predicate>
bool eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

inline std::string with_expiry(int64_t expires_at, std::string_view payload) {
  std::string value;
  internal::append_expiring_value(value, expires_at, payload);
  return value;
}

inline std::shared_ptr<StateColumn> column_of(StateBackend& backend, const std::string& name, bool expiring_values) {
  ColumnOptions options;
  options.values_carry_expiry = expiring_values;
  auto column = backend.column_with_options(name, options);
  EXPECT_OK(column);
  return column.is_ok() ? column.value() : nullptr;
}

inline size_t entry_count(StateColumn& column) {
  size_t count = 0;
  EXPECT_OK(column.scan("", [&count](BytesView, BytesView) {
    ++count;
    return true;
  }));
  return count;
}


}  // namespace streamstate::registry_test
