// Object-name validation and the error wording shared by the storage implementations.
#include "storage/object_name.h"

#include <string>

#include "streamstate/checkpoint_storage.h"

namespace streamstate {
namespace {

constexpr size_t kMaxNameBytes = 1024;
// A file name holds a segment plus the temporary-name decoration within 255 bytes.
constexpr size_t kMaxSegmentBytes = 200;

Status bad_name(std::string_view name, std::string_view why) {
  std::string shown(name);
  for (char& c : shown) {
    if (c == '\0') c = '?';
  }
  return Status::invalid_argument("checkpoint object name '" + shown + "' " + std::string(why));
}

}  // namespace

Status validate_object_name(std::string_view name) {
  if (name.empty()) return bad_name(name, "is empty; give the object a name such as 'chk-1/manifest.json'");
  if (name.size() > kMaxNameBytes) return bad_name(name.substr(0, 64), "is longer than 1024 bytes");
  if (name.find('\0') != std::string_view::npos) return bad_name(name, "contains a NUL byte");
  if (name.front() == '/') return bad_name(name, "starts with '/'; names are relative to the storage");
  if (name.back() == '/') return bad_name(name, "ends with '/'; a name must end with an object, not a folder");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view segment = name.substr(start, end - start);
    if (segment.empty()) return bad_name(name, "has an empty segment ('//'); remove the doubled '/'");
    if (segment.size() > kMaxSegmentBytes) return bad_name(name, "has a segment longer than 200 bytes; add '/'");
    if (segment == "." || segment == "..") return bad_name(name, "has a '.' or '..' segment; use plain names");
    if (segment.starts_with(storage::kIncompleteMarker)) {
      return bad_name(name, "has a segment starting with '.incomplete.', which marks objects being written");
    }
    start = end + 1;
  }
  return Status::ok();
}

Status validate_object_prefix(std::string_view prefix) {
  if (prefix.find('\0') != std::string_view::npos) {
    return Status::invalid_argument("checkpoint object prefix contains a NUL byte");
  }
  if (prefix.starts_with('/')) {
    return Status::invalid_argument("checkpoint object prefix '" + std::string(prefix) +
                                    "' starts with '/'; prefixes are relative to the storage");
  }
  return Status::ok();
}

namespace storage {

std::string object_label(std::string_view name) { return "checkpoint object '" + std::string(name) + "'"; }

Status object_not_found(std::string_view name, std::string_view where) {
  return Status::not_found(object_label(name) + " not found in " + std::string(where));
}

Status range_past_end(std::string_view name, uint64_t offset, uint64_t length, uint64_t size,
                      std::string_view where) {
  return Status::out_of_range("range of " + std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                              " reaches past the end of " + object_label(name) + " (" + std::to_string(size) +
                              " bytes) in " + std::string(where));
}

Status WriterState::check_open(std::string_view name) const {
  if (committed_) {
    return Status::failed_precondition(object_label(name) + " was already committed; create a new writer");
  }
  if (!failure_.is_ok()) {
    return Status::failed_precondition(object_label(name) + " cannot be written further after an earlier failure (" +
                                       failure_.to_string() + "); create a new writer");
  }
  return Status::ok();
}

Status WriterState::fail(Status status) {
  if (failure_.is_ok()) failure_ = status;
  return status;
}

}  // namespace storage
}  // namespace streamstate
