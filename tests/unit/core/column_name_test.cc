// Tests of the column name rule shared by every backend: 1..200 characters of
// [A-Za-z0-9_.-]; anything else is InvalidArgument and the message names the column.
#include <gtest/gtest.h>

#include <string>

#include "streamstate/backend.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using namespace std::string_literals;

TEST(ColumnNameTest, AcceptsTheAllowedAlphabet) {
  EXPECT_OK(validate_column_name("a"));
  EXPECT_OK(validate_column_name("counts"));
  EXPECT_OK(validate_column_name("Counts_2024.v1-final"));
  EXPECT_OK(validate_column_name("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"));
  EXPECT_OK(validate_column_name("_"));
  EXPECT_OK(validate_column_name("."));
  EXPECT_OK(validate_column_name("-"));
  EXPECT_OK(validate_column_name("0"));
}

TEST(ColumnNameTest, EveryByteIsCheckedAgainstTheAlphabet) {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                         ch == '_' || ch == '.' || ch == '-';
    const std::string name = "col" + std::string(1, ch) + "x";
    const Status status = validate_column_name(name);
    if (allowed) {
      EXPECT_TRUE(status.is_ok()) << "byte " << c << ": " << status.to_string();
    } else {
      EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << "byte " << c << " accepted";
    }
  }
}

TEST(ColumnNameTest, LengthLimits) {
  EXPECT_OK(validate_column_name(std::string(200, 'x')));
  EXPECT_OK(validate_column_name("c" + std::string(199, '9')));

  const std::string too_long = "col_" + std::string(197, 'y');
  ASSERT_EQ(too_long.size(), 201u);
  EXPECT_STATUS(validate_column_name(too_long), StatusCode::kInvalidArgument, "col_yyyy");
  EXPECT_STATUS(validate_column_name(std::string(5000, 'z')), StatusCode::kInvalidArgument, "");
}

TEST(ColumnNameTest, RejectsEmpty) {
  EXPECT_STATUS(validate_column_name(""), StatusCode::kInvalidArgument, "");
}

TEST(ColumnNameTest, RejectsBadCharactersNamingTheColumn) {
  EXPECT_STATUS(validate_column_name("bad name"), StatusCode::kInvalidArgument, "bad name");
  EXPECT_STATUS(validate_column_name(" lead"), StatusCode::kInvalidArgument, " lead");
  EXPECT_STATUS(validate_column_name("a/b"), StatusCode::kInvalidArgument, "a/b");
  EXPECT_STATUS(validate_column_name("../etc"), StatusCode::kInvalidArgument, "../etc");
  EXPECT_STATUS(validate_column_name("ns:col"), StatusCode::kInvalidArgument, "ns:col");
  EXPECT_STATUS(validate_column_name("caf\xC3\xA9"), StatusCode::kInvalidArgument, "caf");
  EXPECT_STATUS(validate_column_name("tab\there"), StatusCode::kInvalidArgument, "tab");
  EXPECT_STATUS(validate_column_name("new\nline"), StatusCode::kInvalidArgument, "new");
  EXPECT_STATUS(validate_column_name("a\\b"), StatusCode::kInvalidArgument, "a\\b");
  EXPECT_STATUS(validate_column_name("star*"), StatusCode::kInvalidArgument, "star");
}

TEST(ColumnNameTest, RejectsEmbeddedZeroByte) {
  // A name is a view, not a C string: bytes after a zero must be checked too.
  EXPECT_STATUS(validate_column_name("good\0bad"s), StatusCode::kInvalidArgument, "good");
  EXPECT_STATUS(validate_column_name("\0"s), StatusCode::kInvalidArgument, "");
}

}  // namespace
}  // namespace streamstate
