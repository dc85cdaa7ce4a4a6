#include "streamstate/status.h"

namespace streamstate {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kCorruption: return "Corruption";
    case StatusCode::kIoError: return "IoError";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kClosed: return "Closed";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case StatusCode::kTimeout: return "Timeout";
    case StatusCode::kOutOfRange: return "OutOfRange";
    case StatusCode::kInternal: return "Internal";
    case StatusCode::kDataLoss: return "DataLoss";
    case StatusCode::kAborted: return "Aborted";
  }
  return "Unknown";
}

const std::string& Status::no_message() {
  static const std::string empty;
  return empty;
}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string text(status_code_name(code()));
  text += ": ";
  text += message();
  return text;
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  std::string text(context);
  text += ": ";
  text += message();
  return {code(), std::move(text)};
}

}  // namespace streamstate
