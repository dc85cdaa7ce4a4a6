// GoogleTest helpers that check the specific error, not just "not ok".
//   EXPECT_OK(column->put("k", "v"));
//   EXPECT_STATUS(backend->column("bad name"), StatusCode::kInvalidArgument, "bad name");
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "streamstate/status.h"

namespace streamstate::testing {

inline const Status& status_of(const Status& status) { return status; }
template <typename T>
const Status& status_of(const Result<T>& result) { return result.status(); }

}  // namespace streamstate::testing

// Each macro evaluates `expr` once.
#define EXPECT_OK(expr)                                                                    \
  do {                                                                                     \
    const auto& streamstate_v_ = (expr);                                                   \
    const ::streamstate::Status& streamstate_s_ = ::streamstate::testing::status_of(streamstate_v_); \
    EXPECT_TRUE(streamstate_s_.is_ok()) << streamstate_s_.to_string();                      \
  } while (false)
#define ASSERT_OK(expr)                                                                    \
  do {                                                                                     \
    const auto& streamstate_v_ = (expr);                                                   \
    const ::streamstate::Status& streamstate_s_ = ::streamstate::testing::status_of(streamstate_v_); \
    ASSERT_TRUE(streamstate_s_.is_ok()) << streamstate_s_.to_string();                      \
  } while (false)

// Checks the code and that the message contains `fragment`.
#define EXPECT_STATUS(expr, expected_code, fragment)                                      \
  do {                                                                                    \
    const auto& streamstate_v_ = (expr);                                                 \
    const ::streamstate::Status& streamstate_s_ = ::streamstate::testing::status_of(streamstate_v_); \
    EXPECT_EQ(streamstate_s_.code(), (expected_code)) << streamstate_s_.to_string();       \
    EXPECT_NE(streamstate_s_.message().find(fragment), std::string::npos)                  \
        << "message \"" << streamstate_s_.message() << "\" lacks \"" << (fragment) << "\""; \
  } while (false)
