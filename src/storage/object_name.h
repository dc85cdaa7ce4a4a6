// Internal helpers shared by the CheckpointStorage implementations: the reserved marker of
// incomplete objects, writer state bookkeeping and the wording of common errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "streamstate/status.h"

namespace streamstate::storage {

// Every segment of an incomplete (being written) object starts with this; object names may not.
inline constexpr std::string_view kIncompleteMarker = ".incomplete.";

// "checkpoint object 'chk-7/manifest.json'"
std::string object_label(std::string_view name);
// NotFound "checkpoint object 'x' not found in <where>"
Status object_not_found(std::string_view name, std::string_view where);
// OutOfRange for a range [offset, offset + length) that reaches past an object of `size` bytes.
Status range_past_end(std::string_view name, uint64_t offset, uint64_t length, uint64_t size,
                      std::string_view where);

// The life of a writer: open, then committed or failed; both end states refuse further calls.
class WriterState {
 public:
  // OK while the writer is open, else FailedPrecondition naming the object and why.
  Status check_open(std::string_view name) const;
  // Records the first failure and passes it through.
  Status fail(Status status);
  void mark_committed() { committed_ = true; }
  bool committed() const { return committed_; }

 private:
  bool committed_ = false;
  Status failure_;
};

}  // namespace streamstate::storage
