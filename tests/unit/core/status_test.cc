// Tests of the error vocabulary: Status codes, names, formatting and context, and Result<T>
// built from a value, from an error and (by mistake) from an OK Status.
#include "streamstate/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

struct CodeCase {
  StatusCode code;
  std::string_view name;
  Status (*factory)(std::string);
};

// Every code with its documented name and its factory, in enum order.
std::vector<CodeCase> all_error_codes() {
  return {
      {StatusCode::kNotFound, "NotFound", &Status::not_found},
      {StatusCode::kInvalidArgument, "InvalidArgument", &Status::invalid_argument},
      {StatusCode::kCorruption, "Corruption", &Status::corruption},
      {StatusCode::kIoError, "IoError", &Status::io_error},
      {StatusCode::kUnavailable, "Unavailable", &Status::unavailable},
      {StatusCode::kClosed, "Closed", &Status::closed},
      {StatusCode::kAlreadyExists, "AlreadyExists", &Status::already_exists},
      {StatusCode::kFailedPrecondition, "FailedPrecondition", &Status::failed_precondition},
      {StatusCode::kTimeout, "Timeout", &Status::timeout},
      {StatusCode::kOutOfRange, "OutOfRange", &Status::out_of_range},
      {StatusCode::kInternal, "Internal", &Status::internal},
      {StatusCode::kDataLoss, "DataLoss", &Status::data_loss},
  };
}

TEST(StatusTest, DefaultAndOkAreOk) {
  Status status;
  EXPECT_TRUE(status.is_ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_TRUE(status.message().empty());
  EXPECT_TRUE(Status::ok().is_ok());
  EXPECT_EQ(Status::ok(), Status());
}

TEST(StatusTest, CodeValuesAreStable) {
  // The numeric values may be stored or sent over the wire; pin them.
  EXPECT_EQ(static_cast<int>(StatusCode::kOk), 0);
  EXPECT_EQ(static_cast<int>(StatusCode::kNotFound), 1);
  EXPECT_EQ(static_cast<int>(StatusCode::kInvalidArgument), 2);
  EXPECT_EQ(static_cast<int>(StatusCode::kCorruption), 3);
  EXPECT_EQ(static_cast<int>(StatusCode::kIoError), 4);
  EXPECT_EQ(static_cast<int>(StatusCode::kUnavailable), 5);
  EXPECT_EQ(static_cast<int>(StatusCode::kClosed), 6);
  EXPECT_EQ(static_cast<int>(StatusCode::kAlreadyExists), 7);
  EXPECT_EQ(static_cast<int>(StatusCode::kFailedPrecondition), 8);
  EXPECT_EQ(static_cast<int>(StatusCode::kTimeout), 9);
  EXPECT_EQ(static_cast<int>(StatusCode::kOutOfRange), 10);
  EXPECT_EQ(static_cast<int>(StatusCode::kInternal), 11);
  EXPECT_EQ(static_cast<int>(StatusCode::kDataLoss), 12);
}

TEST(StatusTest, CodeNames) {
  EXPECT_EQ(status_code_name(StatusCode::kOk), "OK");
  for (const CodeCase& c : all_error_codes()) {
    EXPECT_EQ(status_code_name(c.code), c.name);
  }
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  for (const CodeCase& c : all_error_codes()) {
    Status status = c.factory("column 'counts': broken");
    EXPECT_FALSE(status.is_ok()) << c.name;
    EXPECT_EQ(status.code(), c.code) << c.name;
    EXPECT_EQ(status.message(), "column 'counts': broken") << c.name;
    EXPECT_EQ(status, Status(c.code, "column 'counts': broken")) << c.name;
  }
}

TEST(StatusTest, ToStringIsNameColonMessage) {
  EXPECT_EQ(Status::corruption("checkpoint 7: block 3 checksum mismatch").to_string(),
            "Corruption: checkpoint 7: block 3 checksum mismatch");
  for (const CodeCase& c : all_error_codes()) {
    EXPECT_EQ(c.factory("m").to_string(), std::string(c.name) + ": m");
  }
}

TEST(StatusTest, OkToStringIsOK) {
  EXPECT_EQ(Status::ok().to_string(), "OK");
  EXPECT_EQ(Status().to_string(), "OK");
}

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(Status::not_found("a"), Status::not_found("a"));
  EXPECT_FALSE(Status::not_found("a") == Status::not_found("b"));
  EXPECT_FALSE(Status::not_found("a") == Status::invalid_argument("a"));
  EXPECT_FALSE(Status::not_found("") == Status::ok());
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status inner = Status::io_error("disk full");
  Status outer = inner.with_context("writing checkpoint 3");
  EXPECT_EQ(outer.code(), StatusCode::kIoError);
  EXPECT_EQ(outer.message(), "writing checkpoint 3: disk full");
  EXPECT_EQ(outer.to_string(), "IoError: writing checkpoint 3: disk full");
  // The original is a value and is left alone.
  EXPECT_EQ(inner.message(), "disk full");

  Status twice = outer.with_context("restore");
  EXPECT_EQ(twice.message(), "restore: writing checkpoint 3: disk full");
  EXPECT_EQ(twice.code(), StatusCode::kIoError);
}

TEST(StatusTest, WithContextOnOkStaysOk) {
  Status status = Status::ok().with_context("anything");
  EXPECT_TRUE(status.is_ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_TRUE(status.message().empty());
  EXPECT_EQ(status.to_string(), "OK");
}

TEST(ResultTest, FromValue) {
  Result<int> result = 42;
  EXPECT_TRUE(result.is_ok());
  EXPECT_TRUE(result.status().is_ok());
  EXPECT_EQ(result.value(), 42);
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(result.value_or(7), 42);

  result.value() = 43;
  EXPECT_EQ(*result, 43);
}

TEST(ResultTest, FromError) {
  Result<std::string> result = Status::not_found("key 'k' in column 'c'");
  EXPECT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(result.status().message(), "key 'k' in column 'c'");
  EXPECT_EQ(result.value_or("fallback"), "fallback");
  EXPECT_STATUS(result, StatusCode::kNotFound, "key 'k'");
}

TEST(ResultTest, ValueOnErrorThrowsBadResultAccessCarryingTheStatus) {
  Result<int> result = Status::corruption("block 3");
  try {
    (void)result.value();
    FAIL() << "value() on a failed Result did not throw";
  } catch (const BadResultAccess& e) {
    EXPECT_NE(std::string(e.what()).find("Corruption: block 3"), std::string::npos) << e.what();
  }
  const Result<int>& const_ref = result;
  EXPECT_THROW((void)const_ref.value(), BadResultAccess);
  EXPECT_THROW((void)*result, BadResultAccess);
  EXPECT_THROW((void)std::move(result).value(), BadResultAccess);
  // BadResultAccess is a logic_error, so generic handlers see it too.
  Result<int> other = Status::internal("x");
  EXPECT_THROW((void)other.value(), std::logic_error);
}

TEST(ResultTest, ArrowOnErrorThrows) {
  Result<std::string> result = Status::closed("backend closed");
  EXPECT_THROW((void)result->size(), BadResultAccess);
}

TEST(ResultTest, FromOkStatusBecomesInternalError) {
  Result<int> result = Status::ok();
  EXPECT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_FALSE(result.status().message().empty());
  EXPECT_THROW((void)result.value(), BadResultAccess);
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(5);
  ASSERT_TRUE(result.is_ok());
  EXPECT_EQ(**result, 5);
  std::unique_ptr<int> taken = std::move(result).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
}

TEST(ResultTest, ArrowReachesMembers) {
  Result<std::string> result = std::string("abc");
  EXPECT_EQ(result->size(), 3u);
  const Result<std::string>& const_ref = result;
  EXPECT_EQ(const_ref->front(), 'a');
}

TEST(ResultTest, FromEveryErrorCodeKeepsTheCode) {
  // Building from each error code keeps that code (none is mistaken for OK).
  for (const CodeCase& c : all_error_codes()) {
    Result<int> result = c.factory("x");
    EXPECT_FALSE(result.is_ok()) << c.name;
    EXPECT_EQ(result.status().code(), c.code) << c.name;
  }
}

}  // namespace
}  // namespace streamstate
