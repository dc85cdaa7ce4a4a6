#include "conformance/backend_conformance.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>

namespace streamstate::testing {

namespace {

// The pid and a random word separate processes (ctest runs tests in parallel processes, and a
// Redis server may outlive a run); the counter separates the tests of one process.
std::string next_unique_id() {
  static const uint32_t process_word = std::random_device{}();
  static std::atomic<uint64_t> counter{0};
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "cf-%ld-%08x-%llu", static_cast<long>(getpid()), process_word,
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return buffer;
}

}  // namespace

BackendTestScratch::BackendTestScratch() : unique_id_(next_unique_id()) {}

const std::filesystem::path& BackendTestScratch::directory() {
  if (!directory_) directory_ = std::make_unique<TempDir>();
  return directory_->path();
}

Entries scan_entries(StateColumn& column, BytesView prefix) {
  Entries entries;
  Status status = column.scan(prefix, [&](BytesView key, BytesView value) {
    entries.emplace_back(std::string(key), std::string(value));
    return true;
  });
  EXPECT_TRUE(status.is_ok()) << "scan of column " << column.name() << " with prefix " << printable(prefix)
                              << ": " << status.to_string();
  return entries;
}

Entries snapshot_entries(BackendSnapshot& snapshot, std::string_view column, BytesView prefix) {
  Entries entries;
  Result<std::unique_ptr<SnapshotIterator>> iterator = snapshot.iterate(column, prefix);
  EXPECT_TRUE(iterator.is_ok()) << "iterate(" << column << ", " << printable(prefix)
                                << "): " << iterator.status().to_string();
  if (!iterator.is_ok()) return entries;
  SnapshotIterator& it = **iterator;
  for (; it.valid(); it.next()) entries.emplace_back(std::string(it.key()), std::string(it.value()));
  EXPECT_TRUE(it.status().is_ok()) << "snapshot iterator of " << column << ": " << it.status().to_string();
  return entries;
}

Entries sorted(Entries entries) {
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::vector<std::string> keys_of(const Entries& entries) {
  std::vector<std::string> keys;
  keys.reserve(entries.size());
  for (const auto& entry : entries) keys.push_back(entry.first);
  return keys;
}

std::string printable(BytesView bytes) {
  std::string out = "\"";
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\' && c != '"') {
      out.push_back(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
      out += escaped;
    }
  }
  return out + "\"";
}

void BackendConformanceTest::SetUp() {
  const BackendFactory& factory = GetParam();
  ASSERT_TRUE(factory.open) << "factory " << factory.name << " has no open function";
  Result<std::unique_ptr<StateBackend>> opened = factory.open(scratch_);
  ASSERT_TRUE(opened.is_ok()) << "opening backend " << factory.name << ": " << opened.status().to_string();
  backend_ = std::move(opened).value();
  ASSERT_NE(backend_, nullptr);
}

void BackendConformanceTest::TearDown() {
  if (backend_) {
    EXPECT_OK(backend_->close());
    backend_.reset();
  }
}

std::shared_ptr<StateColumn> BackendConformanceTest::open_column(std::string_view name) {
  Result<std::shared_ptr<StateColumn>> column = backend_->column(name);
  EXPECT_TRUE(column.is_ok()) << "column(" << name << "): " << column.status().to_string();
  if (!column.is_ok()) return nullptr;
  EXPECT_EQ((*column)->name(), name);
  return std::move(column).value();
}

void BackendConformanceTest::close_and_reopen() {
  const BackendFactory& factory = GetParam();
  ASSERT_TRUE(factory.reopen) << "backend " << factory.name
                              << " claims capabilities().persistent but its factory has no reopen function";
  if (backend_) {
    ASSERT_OK(backend_->close());
    backend_.reset();
  }
  Result<std::unique_ptr<StateBackend>> reopened = factory.reopen(scratch_);
  ASSERT_TRUE(reopened.is_ok()) << "reopening backend " << factory.name << ": "
                                << reopened.status().to_string();
  backend_ = std::move(reopened).value();
  ASSERT_NE(backend_, nullptr);
}

}  // namespace streamstate::testing
