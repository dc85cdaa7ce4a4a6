// Pieces of the names exactly-once sinks give their staged transactions (in-progress files,
// staging keys): a writer's random token, which keeps two runs of one sink instance apart, and
// a sink name made safe for file and key names.
//
// Thread-safety: reentrant.
#pragma once

#include <string>

namespace streamstate::internal {

// 16 random hex digits.
std::string random_writer_token();
// `name` with every character outside [A-Za-z0-9_] replaced by '_' ("sink" when empty).
std::string safe_name_part(const std::string& name);

}  // namespace streamstate::internal
