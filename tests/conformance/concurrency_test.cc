// Conformance for backends that claim capabilities().thread_safe: concurrent writers and
// readers keep every key's value exact, and update() is an atomic read-modify-write.
#include <atomic>
#include <charconv>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "conformance/backend_conformance.h"

namespace streamstate::testing {
namespace {

// Modest counts keep the whole suite fast under sanitizers and on networked backends; races
// still show up (and ThreadSanitizer sees every interleaving that happens).
constexpr int kThreads = 4;
constexpr int kOperationsPerThread = 2000;

std::string writer_key(int thread, int i) { return "w" + std::to_string(thread) + "-" + std::to_string(i); }
std::string writer_value(int thread, int i) {
  return std::to_string(thread) + ":" + std::to_string(i) + ":payload";
}

TEST_P(BackendConformanceTest, ConcurrentWritersOnDisjointKeysWithReaders) {
  if (!capabilities().thread_safe) GTEST_SKIP() << GetParam().name << " does not claim thread_safe";
  auto column = open_column("concurrent");
  ASSERT_NE(column, nullptr);
  std::atomic<int> writers_running{kThreads};
  std::atomic<int> wrong_reads{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kOperationsPerThread; ++i) {
          EXPECT_OK(column->put(writer_key(t, i), writer_value(t, i)));
          // Remove every tenth key again a little later, so removes race with reads too.
          if (i % 10 == 9) EXPECT_OK(column->remove(writer_key(t, i - 5)));
        }
        writers_running.fetch_sub(1);
      });
    }
    // Readers: a value, when present, is always the one its writer stored (never torn or mixed
    // with another key's), and scans see only well-formed entries.
    for (int r = 0; r < 2; ++r) {
      threads.emplace_back([&, r] {
        std::mt19937 rng(static_cast<uint32_t>(r + 1));
        std::string value;
        while (writers_running.load() > 0) {
          const int t = static_cast<int>(rng() % kThreads);
          const int i = static_cast<int>(rng() % kOperationsPerThread);
          Result<bool> found = column->get_into(writer_key(t, i), value);
          EXPECT_TRUE(found.is_ok()) << found.status().to_string();
          if (found.is_ok() && *found && value != writer_value(t, i)) wrong_reads.fetch_add(1);
          if (r == 0 && i % 64 == 0) {
            const std::string prefix = "w" + std::to_string(t) + "-";
            const std::string value_prefix = std::to_string(t) + ":";
            EXPECT_OK(column->scan(prefix, [&](BytesView key, BytesView scanned) {
              if (key.substr(0, prefix.size()) != prefix ||
                  scanned.substr(0, value_prefix.size()) != value_prefix) {
                wrong_reads.fetch_add(1);
              }
              return true;
            }));
          }
        }
      });
    }
  }  // joins every thread
  EXPECT_EQ(wrong_reads.load(), 0) << "readers saw values that no writer stored under that key";

  Entries expected;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kOperationsPerThread; ++i) {
      const bool removed = i % 10 == 4 && i + 5 < kOperationsPerThread;
      if (!removed) expected.emplace_back(writer_key(t, i), writer_value(t, i));
    }
  }
  const Entries actual = sorted(scan_entries(*column));
  EXPECT_EQ(actual.size(), expected.size());
  EXPECT_TRUE(actual == sorted(expected)) << "the final contents differ from what the writers wrote";
}

// Each update() reads the counter, adds one and writes it back; if two updates ever interleave,
// an increment is lost and the total comes out short.
TEST_P(BackendConformanceTest, ConcurrentUpdatesNeverLoseAnIncrement) {
  if (!capabilities().thread_safe) GTEST_SKIP() << GetParam().name << " does not claim thread_safe";
  auto column = open_column("counters");
  ASSERT_NE(column, nullptr);
  const UpdateFunction increment = [](std::optional<BytesView> current) -> std::optional<std::string> {
    uint64_t count = 0;
    if (current) {
      const auto [end, error] = std::from_chars(current->data(), current->data() + current->size(), count);
      if (error != std::errc() || end != current->data() + current->size()) return std::string("garbled");
    }
    return std::to_string(count + 1);
  };
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kOperationsPerThread; ++i) {
          EXPECT_OK(column->update("shared", increment));
          // A per-thread counter interleaved with the shared one: updates of other keys must
          // not disturb it either.
          if (i % 4 == 0) EXPECT_OK(column->update("own-" + std::to_string(t), increment));
        }
      });
    }
  }
  CONFORMANCE_ASSIGN_OR_FAIL(auto total, column->get("shared"));
  EXPECT_EQ(total, std::optional<std::string>(std::to_string(kThreads * kOperationsPerThread)));
  for (int t = 0; t < kThreads; ++t) {
    CONFORMANCE_ASSIGN_OR_FAIL(auto own, column->get("own-" + std::to_string(t)));
    EXPECT_EQ(own, std::optional<std::string>(std::to_string(kOperationsPerThread / 4)));
  }
}

}  // namespace
}  // namespace streamstate::testing
