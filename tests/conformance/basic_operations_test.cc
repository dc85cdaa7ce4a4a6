// Conformance: get, put, remove, contains, clear, and the byte-exactness of keys and values.
#include <cstddef>
#include <string>
#include <vector>

#include "conformance/backend_conformance.h"

namespace streamstate::testing {
namespace {

// All 256 byte values, twice, so a value holds zero bytes, high bytes and every escape-worthy byte.
std::string every_byte_twice() {
  std::string bytes;
  for (int round = 0; round < 2; ++round) {
    for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  }
  return bytes;
}

TEST_P(BackendConformanceTest, GetPutRemoveContains) {
  auto column = open_column("basic");
  ASSERT_NE(column, nullptr);
  CONFORMANCE_ASSIGN_OR_FAIL(auto absent, column->get("k"));
  EXPECT_EQ(absent, std::nullopt);
  CONFORMANCE_ASSIGN_OR_FAIL(bool contained, column->contains("k"));
  EXPECT_FALSE(contained);

  ASSERT_OK(column->put("k", "v"));
  ASSERT_OK(column->put("other", "w"));
  CONFORMANCE_ASSIGN_OR_FAIL(auto present, column->get("k"));
  EXPECT_EQ(present, std::optional<std::string>("v"));
  CONFORMANCE_ASSIGN_OR_FAIL(contained, column->contains("k"));
  EXPECT_TRUE(contained);
  std::string into = "stale contents";
  CONFORMANCE_ASSIGN_OR_FAIL(bool found, column->get_into("k", into));
  EXPECT_TRUE(found);
  EXPECT_EQ(into, "v") << "get_into must replace, not append to, the output string";

  ASSERT_OK(column->remove("k"));
  CONFORMANCE_ASSIGN_OR_FAIL(auto removed, column->get("k"));
  EXPECT_EQ(removed, std::nullopt);
  CONFORMANCE_ASSIGN_OR_FAIL(contained, column->contains("k"));
  EXPECT_FALSE(contained);
  CONFORMANCE_ASSIGN_OR_FAIL(found, column->get_into("k", into));
  EXPECT_FALSE(found);
  CONFORMANCE_ASSIGN_OR_FAIL(auto kept, column->get("other"));
  EXPECT_EQ(kept, std::optional<std::string>("w"));
}

TEST_P(BackendConformanceTest, EmptyValueIsStoredAndDistinctFromAbsent) {
  auto column = open_column("empty");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("k", ""));
  CONFORMANCE_ASSIGN_OR_FAIL(auto value, column->get("k"));
  ASSERT_TRUE(value.has_value()) << "an empty value reads back as absent";
  EXPECT_EQ(*value, "");
  CONFORMANCE_ASSIGN_OR_FAIL(bool contained, column->contains("k"));
  EXPECT_TRUE(contained);
  EXPECT_EQ(scan_entries(*column), (Entries{{"k", ""}}));
  // And a non-empty value can be shrunk to empty.
  ASSERT_OK(column->put("j", "not empty"));
  ASSERT_OK(column->put("j", ""));
  CONFORMANCE_ASSIGN_OR_FAIL(auto shrunk, column->get("j"));
  EXPECT_EQ(shrunk, std::optional<std::string>(""));
}

TEST_P(BackendConformanceTest, BinaryKeysAndValuesWithZeroBytes) {
  auto column = open_column("binary");
  ASSERT_NE(column, nullptr);
  const std::string every_byte = every_byte_twice();
  const std::vector<std::string> keys = {
      std::string("\0", 1),       std::string("\0\0", 2),
      std::string("a", 1),        std::string("a\0", 2),
      std::string("a\0b", 3),     std::string("\0a", 2),
      std::string("\xff\xff", 2), std::string("\xff\x00\xff", 3),
      std::string("\x80", 1),     every_byte,
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string value = std::string("v\0", 2) + std::to_string(i) + every_byte;
    ASSERT_OK(column->put(keys[i], value));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(printable(keys[i]));
    CONFORMANCE_ASSIGN_OR_FAIL(auto value, column->get(keys[i]));
    ASSERT_TRUE(value.has_value());
    EXPECT_TRUE(*value == std::string("v\0", 2) + std::to_string(i) + every_byte)
        << "value of " << value->size() << " bytes differs";
  }
  // Keys that differ only after a zero byte, or by a trailing zero byte, are distinct entries.
  Entries all = sorted(scan_entries(*column));
  ASSERT_EQ(all.size(), keys.size()) << "keys collapsed at a zero byte";
  ASSERT_OK(column->remove(std::string("a\0", 2)));
  CONFORMANCE_ASSIGN_OR_FAIL(auto a, column->get("a"));
  EXPECT_TRUE(a.has_value()) << "removing \"a\\0\" removed \"a\"";
  CONFORMANCE_ASSIGN_OR_FAIL(auto a0b, column->get(std::string("a\0b", 3)));
  EXPECT_TRUE(a0b.has_value()) << "removing \"a\\0\" removed \"a\\0b\"";
  CONFORMANCE_ASSIGN_OR_FAIL(auto a0, column->get(std::string("a\0", 2)));
  EXPECT_FALSE(a0.has_value());
}

TEST_P(BackendConformanceTest, SixteenMebibyteValue) {
  auto column = open_column("large");
  ASSERT_NE(column, nullptr);
  const size_t size = size_t{16} << 20;
  std::string large(size, '\0');
  // A pattern with a period that is not a power of two, so a misplaced chunk is detected.
  for (size_t i = 0; i < size; ++i) large[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
  ASSERT_OK(column->put("large", large));
  ASSERT_OK(column->put("after", "small"));

  std::string read;
  CONFORMANCE_ASSIGN_OR_FAIL(bool found, column->get_into("large", read));
  ASSERT_TRUE(found);
  ASSERT_EQ(read.size(), size);
  EXPECT_TRUE(read == large) << "the 16 MiB value came back with different bytes";
  size_t visited = 0;
  ASSERT_OK(column->scan("large", [&](BytesView key, BytesView value) {
    ++visited;
    EXPECT_EQ(key, "large");
    EXPECT_TRUE(value == large) << "scan returned " << value.size() << " different bytes";
    return true;
  }));
  EXPECT_EQ(visited, 1u);
  CONFORMANCE_ASSIGN_OR_FAIL(auto after, column->get("after"));
  EXPECT_EQ(after, std::optional<std::string>("small"));
  ASSERT_OK(column->put("large", "now small"));
  CONFORMANCE_ASSIGN_OR_FAIL(auto shrunk, column->get("large"));
  EXPECT_EQ(shrunk, std::optional<std::string>("now small"));
}

TEST_P(BackendConformanceTest, OverwriteKeepsOneEntryWithTheLastValue) {
  auto column = open_column("overwrite");
  ASSERT_NE(column, nullptr);
  ASSERT_OK(column->put("k", "first"));
  ASSERT_OK(column->put("k", "a much longer second value"));
  ASSERT_OK(column->put("k", "3rd"));
  CONFORMANCE_ASSIGN_OR_FAIL(auto value, column->get("k"));
  EXPECT_EQ(value, std::optional<std::string>("3rd"));
  EXPECT_EQ(scan_entries(*column), (Entries{{"k", "3rd"}}));
  // A removed key that is written again is live again.
  ASSERT_OK(column->remove("k"));
  ASSERT_OK(column->put("k", "4th"));
  CONFORMANCE_ASSIGN_OR_FAIL(auto revived, column->get("k"));
  EXPECT_EQ(revived, std::optional<std::string>("4th"));
}

TEST_P(BackendConformanceTest, RemovingAnAbsentKeyIsNotAnError) {
  auto column = open_column("remove");
  ASSERT_NE(column, nullptr);
  EXPECT_OK(column->remove("never-written"));
  ASSERT_OK(column->put("k", "v"));
  EXPECT_OK(column->remove("k"));
  EXPECT_OK(column->remove("k"));
  EXPECT_OK(column->remove("k-prefix-of-nothing"));
  ASSERT_OK(column->put("kept", "v"));
  EXPECT_OK(column->remove("kep"));
  EXPECT_EQ(scan_entries(*column), (Entries{{"kept", "v"}}));
}

TEST_P(BackendConformanceTest, ClearEmptiesOnlyThatColumn) {
  auto a = open_column("a");
  auto b = open_column("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(a->put("k" + std::to_string(i), "a"));
    ASSERT_OK(b->put("k" + std::to_string(i), "b"));
  }
  ASSERT_OK(a->clear());
  EXPECT_TRUE(scan_entries(*a).empty());
  CONFORMANCE_ASSIGN_OR_FAIL(auto cleared, a->get("k7"));
  EXPECT_EQ(cleared, std::nullopt);
  EXPECT_EQ(scan_entries(*b).size(), 50u);
  CONFORMANCE_ASSIGN_OR_FAIL(auto kept, b->get("k7"));
  EXPECT_EQ(kept, std::optional<std::string>("b"));
  // The column still exists and takes writes.
  CONFORMANCE_ASSIGN_OR_FAIL(auto names, backend().list_columns());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  ASSERT_OK(a->put("again", "x"));
  EXPECT_EQ(scan_entries(*a), (Entries{{"again", "x"}}));
  EXPECT_OK(a->clear());
  EXPECT_OK(a->clear());  // clearing an empty column is fine
}

}  // namespace
}  // namespace streamstate::testing
