// Conformance: column names, listing, dropping, and independence of columns.
#include <algorithm>
#include <string>
#include <vector>

#include "conformance/backend_conformance.h"

namespace streamstate::testing {
namespace {

using Names = std::vector<std::string>;

TEST_P(BackendConformanceTest, KindIsNamed) { EXPECT_FALSE(backend().kind().empty()); }

TEST_P(BackendConformanceTest, InvalidColumnNamesAreRejectedNamingTheColumn) {
  const std::vector<std::string> named_in_message = {
      "bad name", "a/b", "col:1", "tab\tname", "caf\xc3\xa9", std::string("nul\0byte", 8), "*"};
  for (const std::string& name : named_in_message) {
    SCOPED_TRACE(printable(name));
    EXPECT_STATUS(backend().column(name), StatusCode::kInvalidArgument, name);
  }
  EXPECT_STATUS(backend().column(""), StatusCode::kInvalidArgument, "empty");
  const std::string too_long(201, 'x');
  EXPECT_STATUS(backend().column(too_long), StatusCode::kInvalidArgument, std::string(20, 'x'));

  // None of them was created.
  CONFORMANCE_ASSIGN_OR_FAIL(Names names, backend().list_columns());
  EXPECT_TRUE(names.empty()) << names.size() << " columns exist after invalid names only";
}

TEST_P(BackendConformanceTest, ValidColumnNamesAtTheLimitsAreAccepted) {
  const Names valid = {"a", "Z", "0", "a-b_c.d", "-._", std::string(200, 'y')};
  for (const std::string& name : valid) {
    SCOPED_TRACE(name);
    auto column = open_column(name);
    ASSERT_NE(column, nullptr);
    EXPECT_OK(column->put("k", name));
  }
  for (const std::string& name : valid) {
    auto column = open_column(name);
    ASSERT_NE(column, nullptr);
    CONFORMANCE_ASSIGN_OR_FAIL(auto value, column->get("k"));
    EXPECT_EQ(value, std::optional<std::string>(name));
  }
  Names expected = valid;
  std::sort(expected.begin(), expected.end());
  CONFORMANCE_ASSIGN_OR_FAIL(Names names, backend().list_columns());
  EXPECT_EQ(names, expected);
}

TEST_P(BackendConformanceTest, ListColumnsIsSortedAndHasNoDuplicates) {
  CONFORMANCE_ASSIGN_OR_FAIL(Names initial, backend().list_columns());
  EXPECT_TRUE(initial.empty()) << "a fresh backend lists " << initial.size() << " columns";
  for (const char* name : {"b", "a", "c.d", "a", "B", "b"}) ASSERT_NE(open_column(name), nullptr);
  CONFORMANCE_ASSIGN_OR_FAIL(Names names, backend().list_columns());
  EXPECT_EQ(names, (Names{"B", "a", "b", "c.d"}));
}

TEST_P(BackendConformanceTest, DropColumnRemovesItAndItsDataOnly) {
  auto a = open_column("a");
  auto b = open_column("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->put("k1", "a1"));
  ASSERT_OK(a->put("k2", "a2"));
  ASSERT_OK(b->put("k1", "b1"));

  ASSERT_OK(backend().drop_column("a"));
  CONFORMANCE_ASSIGN_OR_FAIL(Names names, backend().list_columns());
  EXPECT_EQ(names, (Names{"b"}));
  EXPECT_STATUS(backend().drop_column("a"), StatusCode::kNotFound, "a");
  EXPECT_STATUS(backend().drop_column("never-created"), StatusCode::kNotFound, "never-created");

  // The other column is untouched; a column created again under the old name starts empty.
  CONFORMANCE_ASSIGN_OR_FAIL(auto b1, b->get("k1"));
  EXPECT_EQ(b1, std::optional<std::string>("b1"));
  auto again = open_column("a");
  ASSERT_NE(again, nullptr);
  CONFORMANCE_ASSIGN_OR_FAIL(auto old_value, again->get("k1"));
  EXPECT_EQ(old_value, std::nullopt) << "a dropped column's data came back";
  EXPECT_TRUE(scan_entries(*again).empty());
  ASSERT_OK(again->put("k3", "new"));
  CONFORMANCE_ASSIGN_OR_FAIL(Names after, backend().list_columns());
  EXPECT_EQ(after, (Names{"a", "b"}));
}

TEST_P(BackendConformanceTest, ColumnsAreIndependentKeySpaces) {
  auto a = open_column("a");
  auto b = open_column("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->put("same", "in-a"));
  ASSERT_OK(b->put("same", "in-b"));
  ASSERT_OK(a->put("only-a", "x"));
  CONFORMANCE_ASSIGN_OR_FAIL(auto in_a, a->get("same"));
  CONFORMANCE_ASSIGN_OR_FAIL(auto in_b, b->get("same"));
  EXPECT_EQ(in_a, std::optional<std::string>("in-a"));
  EXPECT_EQ(in_b, std::optional<std::string>("in-b"));
  CONFORMANCE_ASSIGN_OR_FAIL(bool b_has_only_a, b->contains("only-a"));
  EXPECT_FALSE(b_has_only_a);
  EXPECT_EQ(sorted(scan_entries(*b)), (Entries{{"same", "in-b"}}));

  // Two handles of one column see the same data.
  auto a_again = open_column("a");
  ASSERT_NE(a_again, nullptr);
  ASSERT_OK(a_again->remove("same"));
  CONFORMANCE_ASSIGN_OR_FAIL(auto removed, a->get("same"));
  EXPECT_EQ(removed, std::nullopt);
}

}  // namespace
}  // namespace streamstate::testing
