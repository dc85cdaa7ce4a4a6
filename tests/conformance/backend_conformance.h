// The backend conformance suite: one parameterized GoogleTest fixture whose cases every
// StateBackend must pass (built-in and user-defined alike). A backend joins the suite with a
// BackendFactory and one INSTANTIATE_TEST_SUITE_P line (see backend_instantiations.cc and
// examples/custom_backend/README.md).
//
// Each test gets a fresh, empty backend that no other test can see, and its own
// BackendTestScratch (a temporary directory and a unique id) that lives for the whole test, so
// a persistent backend can be closed and reopened on the same data.
//
// Cases that depend on a capability (ordered_scan, persistent, thread_safe) are skipped, with
// a message, for backends that do not claim it: the suite checks what a backend promises.
//
// Thread-safety: fixtures are used by one test thread; the concurrent cases start their own
// threads and join them before returning.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/status.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate::testing {

// Per-test resources a factory may use to place its data.
class BackendTestScratch {
 public:
  BackendTestScratch();
  // A temporary directory, created on first use and removed after the test.
  const std::filesystem::path& directory();
  // Unique across tests and processes; 1..40 characters of [A-Za-z0-9-] (fits a Redis key
  // prefix or a file name).
  const std::string& unique_id() const { return unique_id_; }

 private:
  std::unique_ptr<TempDir> directory_;
  std::string unique_id_;
};

using BackendOpenFunction = std::function<Result<std::unique_ptr<StateBackend>>(BackendTestScratch& scratch)>;

// How the suite gets a backend to test.
struct BackendFactory {
  // The instantiation's name; shows in test names ("memory", "rocksdb", ...).
  std::string name;
  // Opens a fresh, empty backend whose data no other test sees.
  BackendOpenFunction open;
  // For backends that claim capabilities().persistent: opens the data written through a backend
  // previously opened with the same scratch (the suite closes that one first). For backends
  // that claim shared_between_processes, the suite also calls it while the first backend is
  // still open, to get a second client of the same data. Empty otherwise.
  BackendOpenFunction reopen;
};

// So that GoogleTest prints the factory's name rather than its bytes.
inline void PrintTo(const BackendFactory& factory, std::ostream* out) { *out << factory.name; }

// Turns a factory's Result<std::unique_ptr<SomeBackend>> into the Result the suite expects.
template <typename Backend>
Result<std::unique_ptr<StateBackend>> as_state_backend(Result<std::unique_ptr<Backend>> opened) {
  if (!opened.is_ok()) return opened.status();
  return std::unique_ptr<StateBackend>(std::move(opened).value());
}

// Key-value pairs in the order a scan or an iterator produced them.
using Entries = std::vector<std::pair<std::string, std::string>>;

// Every entry of `column` under `prefix`, in visit order. A failed scan is a test failure.
Entries scan_entries(StateColumn& column, BytesView prefix = {});
// Every entry of a snapshot's column under `prefix`, in iteration order. A failed iterate() or
// a non-OK iterator status is a test failure.
Entries snapshot_entries(BackendSnapshot& snapshot, std::string_view column, BytesView prefix = {});
// `entries` sorted bytewise by key (for comparing with backends that scan unordered).
Entries sorted(Entries entries);
// The keys of `entries`, in the same order.
std::vector<std::string> keys_of(const Entries& entries);
// A readable form of a binary key for failure messages: printable bytes as is, others as \xNN.
std::string printable(BytesView bytes);

class BackendConformanceTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  StateBackend& backend() { return *backend_; }
  BackendCapabilities capabilities() const { return backend_->capabilities(); }

  // Opens (creating) a column; a failure is a test failure and returns nullptr, so callers use
  //   auto column = open_column("a"); ASSERT_NE(column, nullptr);
  std::shared_ptr<StateColumn> open_column(std::string_view name);

  // Closes the backend and opens the same data again through the factory's reopen function.
  // Only for persistent backends; a failure is a test failure and leaves no backend open.
  void close_and_reopen();

  std::unique_ptr<StateBackend> backend_;
  BackendTestScratch scratch_;
};

}  // namespace streamstate::testing

// Evaluates a Result<T>; on error fails the test (and returns from it), else moves the value
// into `lhs`.   CONFORMANCE_ASSIGN_OR_FAIL(auto snapshot, backend().snapshot());
#define CONFORMANCE_CONCAT_INNER(a, b) a##b
#define CONFORMANCE_CONCAT(a, b) CONFORMANCE_CONCAT_INNER(a, b)
#define CONFORMANCE_ASSIGN_OR_FAIL(lhs, expr) \
  CONFORMANCE_ASSIGN_OR_FAIL_IMPL(CONFORMANCE_CONCAT(conformance_result_, __LINE__), lhs, expr)
#define CONFORMANCE_ASSIGN_OR_FAIL_IMPL(result, lhs, expr)                     \
  auto result = (expr);                                                        \
  ASSERT_TRUE(result.is_ok()) << #expr << ": " << result.status().to_string(); \
  lhs = std::move(result).value()
