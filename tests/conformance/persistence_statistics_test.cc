// Conformance: data survives close and reopen (persistent backends), and statistics count the
// operations the contract says they count.
#include <string>
#include <vector>

#include "conformance/backend_conformance.h"
#include "streamstate/state_key.h"
#include "streamstate/write_batch.h"

namespace streamstate::testing {
namespace {

using Names = std::vector<std::string>;

TEST_P(BackendConformanceTest, DataSurvivesCloseAndReopen) {
  if (!capabilities().persistent) GTEST_SKIP() << GetParam().name << " does not claim persistent";
  std::string large(size_t{1} << 20, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i % 253);
  {
    auto a = open_column("a");
    auto b = open_column("b");
    auto cleared = open_column("cleared");
    auto dropped = open_column("dropped");
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    ASSERT_NE(cleared, nullptr);
    ASSERT_NE(dropped, nullptr);
    ASSERT_OK(a->put(make_state_key(256, "user", "ns"), std::string("v\0al", 4)));
    ASSERT_OK(a->put("empty", ""));
    ASSERT_OK(a->put("large", large));
    ASSERT_OK(a->put("removed", "x"));
    ASSERT_OK(a->remove("removed"));
    ASSERT_OK(a->put("overwritten", "old"));
    ASSERT_OK(a->put("overwritten", "new"));
    ASSERT_OK(a->update("updated", [](std::optional<BytesView>) { return std::string("by update"); }));
    WriteBatch batch;
    batch.put("b", "k1", "batched");
    batch.put("b", "k2", "batched");
    batch.remove("b", "k2");
    ASSERT_OK(backend().write(batch));
    ASSERT_OK(cleared->put("k", "v"));
    ASSERT_OK(cleared->clear());
    ASSERT_OK(dropped->put("k", "v"));
    ASSERT_OK(backend().drop_column("dropped"));
  }
  const Entries expected_a = sorted(Entries{{make_state_key(256, "user", "ns"), std::string("v\0al", 4)},
                                            {"empty", ""},
                                            {"large", large},
                                            {"overwritten", "new"},
                                            {"updated", "by update"}});
  const Entries expected_b = {{"k1", "batched"}};

  ASSERT_NO_FATAL_FAILURE(close_and_reopen());
  CONFORMANCE_ASSIGN_OR_FAIL(Names names, backend().list_columns());
  EXPECT_EQ(names, (Names{"a", "b", "cleared"}));
  auto a = open_column("a");
  auto b = open_column("b");
  auto cleared = open_column("cleared");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(cleared, nullptr);
  EXPECT_TRUE(sorted(scan_entries(*a)) == expected_a) << "column a differs after reopen";
  EXPECT_EQ(sorted(scan_entries(*b)), expected_b);
  EXPECT_TRUE(scan_entries(*cleared).empty());
  CONFORMANCE_ASSIGN_OR_FAIL(auto removed, a->get("removed"));
  EXPECT_EQ(removed, std::nullopt);

  // Writes after a reopen persist too, and a snapshot of reopened data is complete.
  ASSERT_OK(b->put("k3", "second session"));
  ASSERT_OK(a->remove("large"));
  ASSERT_NO_FATAL_FAILURE(close_and_reopen());
  b = open_column("b");
  a = open_column("a");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(sorted(scan_entries(*b)), (Entries{{"k1", "batched"}, {"k3", "second session"}}));
  CONFORMANCE_ASSIGN_OR_FAIL(auto large_after, a->get("large"));
  EXPECT_EQ(large_after, std::nullopt);
  CONFORMANCE_ASSIGN_OR_FAIL(auto snapshot, backend().snapshot());
  EXPECT_EQ(snapshot->columns(), (Names{"a", "b", "cleared"}));
  EXPECT_EQ(sorted(snapshot_entries(*snapshot, "b")), (Entries{{"k1", "batched"}, {"k3", "second session"}}));
}

TEST_P(BackendConformanceTest, FlushSucceedsWhileOpen) {
  auto column = open_column("flushed");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("k", "v"));
  EXPECT_OK(backend().flush());
  EXPECT_OK(backend().flush());
  CONFORMANCE_ASSIGN_OR_FAIL(auto value, column->get("k"));
  EXPECT_EQ(value, std::optional<std::string>("v"));
}

TEST_P(BackendConformanceTest, StatisticsCountOperations) {
  const BackendStatistics initial = backend().statistics();
  EXPECT_EQ(initial.gets, 0u);
  EXPECT_EQ(initial.puts, 0u);
  EXPECT_EQ(initial.removes, 0u);

  auto column = open_column("counted");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("a", "1"));                               // puts 1
  ASSERT_OK(column->put("b", "2"));                               // puts 2
  ASSERT_OK(column->put("a", "3"));                               // puts 3 (an overwrite is a put)
  CONFORMANCE_ASSIGN_OR_FAIL(auto hit1, column->get("a"));        // gets 1, hits 1
  CONFORMANCE_ASSIGN_OR_FAIL(auto hit2, column->get("b"));        // gets 2, hits 2
  CONFORMANCE_ASSIGN_OR_FAIL(auto miss1, column->get("zz"));      // gets 3, misses 1
  CONFORMANCE_ASSIGN_OR_FAIL(bool hit3, column->contains("a"));   // gets 4, hits 3
  CONFORMANCE_ASSIGN_OR_FAIL(bool miss2, column->contains("q"));  // gets 5, misses 2
  std::string into;
  CONFORMANCE_ASSIGN_OR_FAIL(bool miss3, column->get_into("y", into));  // gets 6, misses 3
  EXPECT_TRUE(hit1 && hit2 && hit3);
  EXPECT_FALSE(miss1.has_value() || miss2 || miss3);
  ASSERT_OK(column->remove("b"));       // removes 1
  ASSERT_OK(column->remove("absent"));  // removes 2 (remove calls count, found or not)
  WriteBatch batch;
  batch.put("counted", "c", "4");  // puts 4
  batch.put("counted", "d", "5");  // puts 5
  batch.remove("counted", "c");    // removes 3
  ASSERT_OK(backend().write(batch));
  ASSERT_OK(column->update("e", [](std::optional<BytesView>) { return std::string("6"); }));  // puts 6
  ASSERT_OK(column->update("e", [](std::optional<BytesView>) { return std::nullopt; }));      // removes 4
  // An update that finds nothing and stores nothing neither puts nor removes.
  ASSERT_OK(column->update("f", [](std::optional<BytesView>) { return std::nullopt; }));
  EXPECT_EQ(scan_entries(*column).size(), 2u);  // "a" and "d"

  const BackendStatistics stats = backend().statistics();
  EXPECT_EQ(stats.gets, 6u);
  EXPECT_EQ(stats.hits, 3u);
  EXPECT_EQ(stats.misses, 3u);
  EXPECT_EQ(stats.puts, 6u);
  EXPECT_EQ(stats.removes, 4u);
  EXPECT_DOUBLE_EQ(stats.hit_rate(), 0.5);
  // Counters a backend cannot know are 0; when it reports them they must be right.
  EXPECT_TRUE(stats.scans == 0 || stats.scans == 1) << stats.scans << " scans counted after one scan";
  EXPECT_TRUE(stats.batches == 0 || stats.batches == 1) << stats.batches << " batches counted after one write";
}

}  // namespace
}  // namespace streamstate::testing
