// Conformance: write batches (last write wins, all or nothing, across columns), put_entries
// (bulk puts: every entry lands, later duplicates win) and update().
#include <optional>
#include <string>
#include <vector>

#include "conformance/backend_conformance.h"
#include "streamstate/write_batch.h"

namespace streamstate::testing {
namespace {

TEST_P(BackendConformanceTest, BatchLastWriteWinsPerKey) {
  auto column = open_column("batch");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("removed-then-put", "old"));
  ASSERT_OK(column->put("put-then-removed", "old"));
  WriteBatch batch;
  batch.put("batch", "k", "v1");
  batch.put("batch", "k", "v2");
  batch.put("batch", "k", "v3");
  batch.remove("batch", "removed-then-put");
  batch.put("batch", "removed-then-put", "new");
  batch.put("batch", "put-then-removed", "new");
  batch.remove("batch", "put-then-removed");
  batch.put("batch", "fresh-then-removed", "x");
  batch.remove("batch", "fresh-then-removed");
  batch.remove("batch", "absent");  // removing an absent key in a batch is fine too
  ASSERT_OK(backend().write(batch));
  EXPECT_EQ(sorted(scan_entries(*column)), (Entries{{"k", "v3"}, {"removed-then-put", "new"}}));
}

TEST_P(BackendConformanceTest, PutEntriesWritesEveryEntry) {
  auto column = open_column("bulk");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("k7", "old"));
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (int i = 0; i < 500; ++i) {
    keys.push_back("k" + std::to_string(i));
    values.push_back(std::string(static_cast<size_t>(i % 40), 'v') + std::to_string(i));
  }
  std::vector<std::pair<BytesView, BytesView>> entries;
  for (int i = 0; i < 500; ++i) entries.emplace_back(keys[static_cast<size_t>(i)], values[static_cast<size_t>(i)]);
  entries.emplace_back("k3", "last");  // a later entry of the same key wins
  ASSERT_OK(backend().put_entries("bulk", entries));
  Entries expected;
  for (int i = 0; i < 500; ++i) expected.emplace_back(keys[static_cast<size_t>(i)], values[static_cast<size_t>(i)]);
  for (auto& [key, value] : expected) {
    if (key == "k3") value = "last";
  }
  EXPECT_EQ(sorted(scan_entries(*column)), sorted(expected));
  EXPECT_STATUS(backend().put_entries("no-such-column", entries), StatusCode::kNotFound, "no-such-column");
  ASSERT_OK(backend().put_entries("bulk", {}));
}

TEST_P(BackendConformanceTest, BatchIsAllOrNothing) {
  auto column = open_column("atomic");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("existing", "old"));
  ASSERT_OK(column->put("to-remove", "still here"));
  const Entries before = sorted(scan_entries(*column));

  // The unknown column comes first, in the middle, and last: no operation may be applied.
  for (int position = 0; position < 3; ++position) {
    SCOPED_TRACE("unknown column at position " + std::to_string(position));
    WriteBatch batch;
    if (position == 0) batch.put("missing-column", "x", "y");
    batch.put("atomic", "existing", "new");
    batch.put("atomic", "added", "1");
    if (position == 1) batch.remove("missing-column", "x");
    batch.remove("atomic", "to-remove");
    if (position == 2) batch.put("missing-column", "x", "y");
    EXPECT_STATUS(backend().write(batch), StatusCode::kNotFound, "missing-column");
    EXPECT_EQ(sorted(scan_entries(*column)), before) << "a failed batch was partly applied";
  }
  CONFORMANCE_ASSIGN_OR_FAIL(auto names, backend().list_columns());
  EXPECT_EQ(names, (std::vector<std::string>{"atomic"})) << "a batch must not create columns";

  // The backend is still usable after the rejected batch.
  WriteBatch good;
  good.put("atomic", "existing", "new");
  ASSERT_OK(backend().write(good));
  CONFORMANCE_ASSIGN_OR_FAIL(auto value, column->get("existing"));
  EXPECT_EQ(value, std::optional<std::string>("new"));
}

TEST_P(BackendConformanceTest, BatchAcrossColumns) {
  auto a = open_column("a");
  auto b = open_column("b");
  auto c = open_column("c");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  ASSERT_OK(c->put("gone", "x"));
  ASSERT_OK(c->put("stays", "y"));
  WriteBatch batch;
  batch.put("a", "k", "in-a");
  batch.put("b", "k", "in-b");
  batch.put("b", std::string("bin\0key", 7), std::string("\0\xff", 2));
  batch.put("a", "empty", "");
  batch.remove("c", "gone");
  EXPECT_EQ(batch.size(), 5u);
  ASSERT_OK(backend().write(batch));
  EXPECT_EQ(sorted(scan_entries(*a)), (Entries{{"empty", ""}, {"k", "in-a"}}));
  EXPECT_EQ(sorted(scan_entries(*b)),
            sorted(Entries{{"k", "in-b"}, {std::string("bin\0key", 7), std::string("\0\xff", 2)}}));
  EXPECT_EQ(sorted(scan_entries(*c)), (Entries{{"stays", "y"}}));
}

TEST_P(BackendConformanceTest, EmptyBatchIsAccepted) {
  auto column = open_column("untouched");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("k", "v"));
  EXPECT_OK(backend().write(WriteBatch()));
  EXPECT_EQ(scan_entries(*column), (Entries{{"k", "v"}}));
}

TEST_P(BackendConformanceTest, UpdateCreatesModifiesAndRemoves) {
  auto column = open_column("update");
  ASSERT_NE(column, nullptr);
  std::vector<std::optional<std::string>> seen;
  auto record_then = [&](std::optional<std::string> next) {
    return [&seen, next](std::optional<BytesView> current) {
      seen.push_back(current ? std::optional<std::string>(std::string(*current)) : std::nullopt);
      return next;
    };
  };
  const std::string binary("one\0two", 7);
  ASSERT_OK(column->update("k", record_then(binary)));                 // create
  ASSERT_OK(column->update("k", record_then(std::string("second"))));  // modify
  ASSERT_OK(column->update("k", record_then(std::string(""))));        // modify to empty
  ASSERT_OK(column->update("k", record_then(std::nullopt)));           // remove
  ASSERT_OK(column->update("k", record_then(std::nullopt)));           // absent stays absent
  const std::vector<std::optional<std::string>> expected_seen = {std::nullopt, binary, "second", "",
                                                                 std::nullopt};
  EXPECT_EQ(seen, expected_seen) << "update() passed a wrong current value";
  CONFORMANCE_ASSIGN_OR_FAIL(auto value, column->get("k"));
  EXPECT_EQ(value, std::nullopt);
  CONFORMANCE_ASSIGN_OR_FAIL(bool contained, column->contains("k"));
  EXPECT_FALSE(contained);

  // An update sees what put wrote, and put sees what update wrote.
  ASSERT_OK(column->put("counter", "41"));
  ASSERT_OK(column->update("counter", [](std::optional<BytesView> current) -> std::optional<std::string> {
    if (!current) return std::string("missing");
    return std::to_string(std::stoi(std::string(*current)) + 1);
  }));
  CONFORMANCE_ASSIGN_OR_FAIL(auto counter, column->get("counter"));
  EXPECT_EQ(counter, std::optional<std::string>("42"));
  EXPECT_EQ(sorted(scan_entries(*column)), (Entries{{"counter", "42"}}));
}

}  // namespace
}  // namespace streamstate::testing
