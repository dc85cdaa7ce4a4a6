// Reading the JSON committables of the exactly-once sinks: every committable is an object with
// "format" (which sink wrote it) and "version", then the sink's own fields.
//
// Thread-safety: reentrant.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "streamstate/status.h"

namespace streamstate::internal {

// The member `key` of `object`, or null when `object` is not an object or lacks it.
const nlohmann::json* json_member(const nlohmann::json& object, const char* key);

// Parses `committable` and checks its format and version. Corruption starting with `context`
// (e.g. "file sink files /out/part-*.jsonl: a committable ") when it is not JSON, is another
// sink's, or of another version.
Result<nlohmann::json> parse_committable(const std::string& committable, const std::string& format, int version,
                                         const std::string& context);

}  // namespace streamstate::internal
