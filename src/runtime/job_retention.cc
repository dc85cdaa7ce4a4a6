#include "runtime/job_retention.h"

#include <algorithm>
#include <set>
#include <vector>

#include "checkpoint/checkpoint_names.h"
#include "runtime/job_manifest.h"
#include "util/status_macros.h"

namespace streamstate::detail {

std::optional<std::pair<std::string, CheckpointId>> state_checkpoint_of(std::string_view object_name) {
  constexpr std::string_view kState = "state/";
  if (!object_name.starts_with(kState)) return std::nullopt;
  size_t slash = object_name.find('/', kState.size());  // after <operator>
  if (slash != std::string_view::npos) slash = object_name.find('/', slash + 1);  // after <instance>
  if (slash == std::string_view::npos) return std::nullopt;
  std::optional<CheckpointId> id = internal::checkpoint_id_of(object_name.substr(slash + 1));
  if (!id) return std::nullopt;
  return std::make_pair(std::string(object_name.substr(0, slash + 1)), *id);
}

Result<CheckpointId> next_job_checkpoint_id(CheckpointStorage& storage) {
  CheckpointId next = 1;
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<CheckpointId> ids, list_job_checkpoints(storage));
  if (!ids.empty()) next = std::max(next, ids.back() + 1);
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, storage.list("state/"));
  for (const StoredObject& object : objects) {
    if (auto state = state_checkpoint_of(object.name)) next = std::max(next, state->second + 1);
  }
  return next;
}

Status retain_job_checkpoints(CheckpointStorage& storage, size_t keep) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<CheckpointId> ids, list_job_checkpoints(storage));
  std::set<std::pair<std::string, CheckpointId>> referenced;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string name = job_manifest_name(ids[i]);
    if (i + keep < ids.size()) {
      STREAMSTATE_RETURN_IF_ERROR(storage.remove(name));
      continue;
    }
    Result<std::string> bytes = storage.read(name);
    if (!bytes.is_ok()) continue;
    Result<JobManifest> manifest = parse_job_manifest(name, *bytes);
    if (!manifest.is_ok()) continue;
    for (const JobStateCheckpoint& state : manifest->states) referenced.emplace(state.prefix, state.id);
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, storage.list("state/"));
  for (const StoredObject& object : objects) {
    std::optional<std::pair<std::string, CheckpointId>> state = state_checkpoint_of(object.name);
    if (!state || referenced.contains(*state)) continue;
    STREAMSTATE_RETURN_IF_ERROR(storage.remove(object.name));
  }
  return Status::ok();
}

}  // namespace streamstate::detail
