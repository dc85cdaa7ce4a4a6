// Internal helpers for propagating Status and Result<T> without boilerplate.
#pragma once

#include "streamstate/status.h"

#define STREAMSTATE_CONCAT_INNER(a, b) a##b
#define STREAMSTATE_CONCAT(a, b) STREAMSTATE_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define STREAMSTATE_RETURN_IF_ERROR(expr)                 \
  do {                                                    \
    ::streamstate::Status streamstate_status_ = (expr);   \
    if (!streamstate_status_.is_ok()) return streamstate_status_; \
  } while (false)

// Evaluates a Result<T> expression; on error returns its Status, else moves the value into lhs.
//   STREAMSTATE_ASSIGN_OR_RETURN(auto column, backend->column("counts"));
#define STREAMSTATE_ASSIGN_OR_RETURN(lhs, expr) \
  STREAMSTATE_ASSIGN_OR_RETURN_IMPL(STREAMSTATE_CONCAT(streamstate_result_, __LINE__), lhs, expr)
#define STREAMSTATE_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                      \
  if (!result.is_ok()) return result.status();               \
  lhs = std::move(result).value()
