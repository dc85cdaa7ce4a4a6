#include <string>

#include "streamstate/backend.h"

namespace streamstate {

Status validate_column_name(std::string_view name) {
  constexpr size_t kMaxLength = 200;
  if (name.empty()) {
    return Status::invalid_argument("column name is empty: use 1 to 200 characters of [A-Za-z0-9_.-]");
  }
  if (name.size() > kMaxLength) {
    return Status::invalid_argument("column name '" + std::string(name.substr(0, 40)) + "...' has " +
                                    std::to_string(name.size()) + " characters; the limit is 200");
  }
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '_' || c == '.' || c == '-';
    if (!allowed) {
      return Status::invalid_argument("column name '" + std::string(name) +
                                      "' contains a character outside [A-Za-z0-9_.-]; rename the state");
    }
  }
  return Status::ok();
}

}  // namespace streamstate
