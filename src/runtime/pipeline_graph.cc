// The graph a Pipeline builds: the names it holds must be usable and unique.
#include <string>
#include <string_view>

#include "streamstate/detail/runtime_graph.h"

namespace streamstate::detail {

bool PipelineGraph::claim_name(const std::string& name, std::string_view what) {
  if (name.empty() || name.find('/') != std::string::npos || name.size() > 100) {
    if (build_error.is_ok()) {
      build_error = Status::invalid_argument(std::string(what) + " name '" + name +
                                             "' is not usable: give 1 to 100 characters without '/'");
    }
    return false;
  }
  if (!names.insert(name).second) {
    if (build_error.is_ok()) {
      build_error = Status::invalid_argument(std::string(what) + " name '" + name +
                                             "' is used twice in the pipeline; names identify state and "
                                             "positions in checkpoints, so each must be unique");
    }
    return false;
  }
  return true;
}

}  // namespace streamstate::detail
