#include "checkpoint/checkpoint_scan.h"

#include <unordered_map>

#include "checkpoint/checkpoint_names.h"
#include "checkpoint/manifest.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

bool is_damage(const Status& status) {
  return status.code() == StatusCode::kCorruption || status.code() == StatusCode::kNotFound ||
         status.code() == StatusCode::kFailedPrecondition;
}

Status check_files(const CheckpointManifest& manifest, const std::unordered_map<std::string, uint64_t>& sizes,
                   const std::string& where) {
  for (const CheckpointFile& file : manifest.files) {
    auto found = sizes.find(file.name);
    if (found == sizes.end()) {
      return Status::not_found("checkpoint " + std::to_string(manifest.id) + ": file '" + file.name +
                               "' named by its manifest is missing from " + where);
    }
    if (found->second != file.size) {
      return Status::corruption("checkpoint " + std::to_string(manifest.id) + ": file '" + file.name + "' has " +
                                std::to_string(found->second) + " bytes in " + where + ", its manifest says " +
                                std::to_string(file.size));
    }
  }
  return Status::ok();
}

}  // namespace

Result<CheckpointManifest> read_manifest(CheckpointStorage& storage, CheckpointId id) {
  const std::string name = checkpoint_manifest_name(id);
  Result<std::string> bytes = storage.read(name);
  if (!bytes.is_ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return Status::not_found("checkpoint " + std::to_string(id) + " does not exist in " + storage.describe() +
                               " (no object '" + name + "')");
    }
    return bytes.status();
  }
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointManifest manifest, parse_manifest(name, *bytes));
  if (manifest.id != id) {
    return Status::corruption("checkpoint manifest '" + name + "' records id " + std::to_string(manifest.id) +
                              ", not the id of its folder; the checkpoint cannot be used");
  }
  return manifest;
}

Result<CheckpointScan> scan_checkpoints(CheckpointStorage& storage) {
  CheckpointScan scan;
  STREAMSTATE_ASSIGN_OR_RETURN(scan.objects, storage.list(kCheckpointPrefix));
  std::unordered_map<std::string, uint64_t> sizes;
  for (const StoredObject& object : scan.objects) sizes.emplace(object.name, object.size);
  const std::string where = storage.describe();
  for (const StoredObject& object : scan.objects) {
    if (!is_manifest_name(object.name)) continue;
    ScannedCheckpoint checkpoint;
    checkpoint.id = *checkpoint_id_of(object.name);
    Result<CheckpointManifest> manifest = read_manifest(storage, checkpoint.id);
    if (manifest.is_ok()) {
      checkpoint.problem = check_files(*manifest, sizes, where);
      if (checkpoint.problem.is_ok()) checkpoint.manifest = std::move(manifest).value();
    } else if (is_damage(manifest.status())) {
      checkpoint.problem = manifest.status();
    } else {
      return manifest.status();
    }
    scan.checkpoints.emplace(checkpoint.id, std::move(checkpoint));
  }
  return scan;
}

}  // namespace streamstate::internal
