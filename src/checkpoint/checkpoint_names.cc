#include "checkpoint/checkpoint_names.h"

#include <cstdio>

#include "checkpoint/manifest.h"

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

}  // namespace streamstate::internal
