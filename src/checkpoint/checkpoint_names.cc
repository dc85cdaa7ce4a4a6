#include "checkpoint/checkpoint_names.h"

#include <cstdio>
#include <vector>

#include "checkpoint/manifest.h"
#include "util/status_macros.h"

namespace streamstate {

std::string checkpoint_folder(CheckpointId id) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%010llu", static_cast<unsigned long long>(id));
  return std::string(internal::kCheckpointPrefix) + digits;
}

std::string checkpoint_manifest_name(CheckpointId id) {
  return checkpoint_folder(id) + "/" + std::string(internal::kManifestObject);
}

}  // namespace streamstate

namespace streamstate::internal {

std::optional<CheckpointId> checkpoint_id_of(std::string_view object_name) {
  if (!object_name.starts_with(kCheckpointPrefix)) return std::nullopt;
  std::string_view rest = object_name.substr(kCheckpointPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash < 10 || slash > 20) return std::nullopt;
  CheckpointId id = 0;
  for (char c : rest.substr(0, slash)) {
    if (c < '0' || c > '9') return std::nullopt;
    if (id > (UINT64_MAX - static_cast<uint64_t>(c - '0')) / 10) return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(c - '0');
  }
  // Only the canonical spelling: "chk-00000000007/" is not checkpoint 7's folder.
  if (checkpoint_folder(id).size() != kCheckpointPrefix.size() + slash) return std::nullopt;
  return id;
}

bool is_manifest_name(std::string_view object_name) {
  std::optional<CheckpointId> id = checkpoint_id_of(object_name);
  return id.has_value() && object_name == checkpoint_manifest_name(*id);
}

Result<CheckpointId> choose_checkpoint_id(CheckpointStorage& storage, CheckpointId wanted) {
  if (wanted != 0) {
    STREAMSTATE_ASSIGN_OR_RETURN(bool exists, storage.exists(checkpoint_manifest_name(wanted)));
    if (exists) {
      return Status::already_exists("checkpoint " + std::to_string(wanted) + " already exists in " +
                                    storage.describe() + "; choose another id, or 0 for the next one");
    }
    return wanted;
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, storage.list(kCheckpointPrefix));
  CheckpointId largest = 0;
  for (const StoredObject& object : objects) {
    std::optional<CheckpointId> id = checkpoint_id_of(object.name);
    if (id && *id > largest) largest = *id;
  }
  return largest + 1;
}

}  // namespace streamstate::internal
