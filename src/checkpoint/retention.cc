// Retention and garbage collection: which objects are needed is derived from the retained
// manifests alone, every time.
#include <algorithm>
#include <set>

#include "checkpoint/checkpoint_names.h"
#include "checkpoint/checkpoint_scan.h"
#include "streamstate/checkpoint.h"
#include "util/status_macros.h"

namespace streamstate {
namespace {

// Objects that are neither referenced by a usable manifest nor a manifest nor in a damaged
// checkpoint's folder.
std::vector<std::string> orphans_of(const internal::CheckpointScan& scan) {
  std::set<std::string> referenced;
  for (const auto& [id, checkpoint] : scan.checkpoints) {
    if (!checkpoint.manifest) continue;
    for (const CheckpointFile& file : checkpoint.manifest->files) referenced.insert(file.name);
  }
  std::vector<std::string> orphans;
  for (const StoredObject& object : scan.objects) {
    if (referenced.contains(object.name) || internal::is_manifest_name(object.name)) continue;
    std::optional<CheckpointId> id = internal::checkpoint_id_of(object.name);
    if (id) {
      auto found = scan.checkpoints.find(*id);
      if (found != scan.checkpoints.end() && !found->second.manifest) continue;  // damaged: left for a human
    }
    orphans.push_back(object.name);
  }
  return orphans;
}

}  // namespace

Result<std::vector<std::string>> find_orphans(CheckpointStorage& storage) {
  STREAMSTATE_ASSIGN_OR_RETURN(internal::CheckpointScan scan, internal::scan_checkpoints(storage));
  return orphans_of(scan);
}

Result<GarbageCollectionReport> collect_garbage(CheckpointStorage& storage, const GarbageCollectionOptions& options) {
  if (options.retain_last == 0) {
    return Status::invalid_argument("GarbageCollectionOptions::retain_last is 0; keep at least 1 checkpoint");
  }
  if (!options.dry_run) STREAMSTATE_RETURN_IF_ERROR(storage.remove_incomplete());
  STREAMSTATE_ASSIGN_OR_RETURN(internal::CheckpointScan scan, internal::scan_checkpoints(storage));
  GarbageCollectionReport report;
  std::vector<CheckpointId> usable;
  for (const auto& [id, checkpoint] : scan.checkpoints) {
    if (checkpoint.manifest) usable.push_back(id);
  }
  size_t keep_from = usable.size() > options.retain_last ? usable.size() - options.retain_last : 0;
  report.retained.assign(usable.begin() + static_cast<ptrdiff_t>(keep_from), usable.end());
  const CheckpointId oldest_retained = report.retained.empty() ? 0 : report.retained.front();

  std::set<std::string> needed;
  for (CheckpointId id : report.retained) {
    needed.insert(checkpoint_manifest_name(id));
    for (const CheckpointFile& file : scan.checkpoints.at(id).manifest->files) needed.insert(file.name);
  }
  // Checkpoints to remove: usable ones older than the retained, damaged ones older than the
  // oldest retained (a newer damaged one is left for inspection).
  std::set<CheckpointId> removed;
  for (const auto& [id, checkpoint] : scan.checkpoints) {
    if (id < oldest_retained) removed.insert(id);
  }
  report.removed.assign(removed.begin(), removed.end());
  report.orphans = orphans_of(scan);

  std::vector<std::string> manifests;
  std::set<std::string> files;
  for (CheckpointId id : removed) {
    manifests.push_back(checkpoint_manifest_name(id));
    const internal::ScannedCheckpoint& checkpoint = scan.checkpoints.at(id);
    if (checkpoint.manifest) {
      for (const CheckpointFile& file : checkpoint.manifest->files) files.insert(file.name);
    } else {
      for (const StoredObject& object : scan.objects) {
        if (internal::checkpoint_id_of(object.name) == id && !internal::is_manifest_name(object.name)) {
          files.insert(object.name);
        }
      }
    }
  }
  if (options.remove_orphans) files.insert(report.orphans.begin(), report.orphans.end());
  for (const std::string& name : needed) files.erase(name);

  // Manifests first: a checkpoint disappears as a whole before any file it names does.
  for (const std::string& name : manifests) {
    if (!options.dry_run) STREAMSTATE_RETURN_IF_ERROR(storage.remove(name));
    report.deleted_objects.push_back(name);
  }
  for (const std::string& name : files) {
    if (!options.dry_run) STREAMSTATE_RETURN_IF_ERROR(storage.remove(name));
    report.deleted_objects.push_back(name);
  }
  std::sort(report.deleted_objects.begin(), report.deleted_objects.end());
  return report;
}

}  // namespace streamstate
