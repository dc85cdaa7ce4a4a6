// Listing checkpoints, choosing the latest one (at or before a time), and verify.
#include <algorithm>

#include "checkpoint/checkpoint_scan.h"
#include "checkpoint/checkpoint_verify.h"
#include "streamstate/checkpoint.h"
#include "util/status_macros.h"

namespace streamstate {

Result<CheckpointListing> list_checkpoints(CheckpointStorage& storage) {
  STREAMSTATE_ASSIGN_OR_RETURN(internal::CheckpointScan scan, internal::scan_checkpoints(storage));
  CheckpointListing listing;
  for (auto& [id, checkpoint] : scan.checkpoints) {
    if (checkpoint.manifest) {
      listing.valid.push_back(std::move(*checkpoint.manifest));
    } else {
      listing.skipped.push_back({id, checkpoint.problem});
    }
  }
  return listing;
}

Result<CheckpointManifest> read_checkpoint(CheckpointStorage& storage, CheckpointId id) {
  return internal::read_manifest(storage, id);
}

namespace internal {

// Valid checkpoints, best candidate first: newest id, or (with a time) newest creation time at
// or before it. Skipped ones newer than the best candidate go to `skipped`.
Result<std::vector<CheckpointManifest>> restore_candidates(CheckpointStorage& storage,
                                                           std::optional<int64_t> at_or_before_millis,
                                                           std::vector<SkippedCheckpoint>* skipped) {
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointListing listing, list_checkpoints(storage));
  std::vector<CheckpointManifest> candidates;
  for (CheckpointManifest& manifest : listing.valid) {
    if (!at_or_before_millis || manifest.created_millis <= *at_or_before_millis) {
      candidates.push_back(std::move(manifest));
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const CheckpointManifest& a, const CheckpointManifest& b) {
    return a.created_millis != b.created_millis ? a.created_millis > b.created_millis : a.id > b.id;
  });
  if (!at_or_before_millis) {
    std::sort(candidates.begin(), candidates.end(),
              [](const CheckpointManifest& a, const CheckpointManifest& b) { return a.id > b.id; });
  }
  if (skipped != nullptr) {
    CheckpointId best = candidates.empty() ? 0 : candidates.front().id;
    for (SkippedCheckpoint& skip : listing.skipped) {
      if (skip.id > best) skipped->push_back(std::move(skip));
    }
  }
  if (candidates.empty()) {
    std::string when = at_or_before_millis ? " created at or before " + std::to_string(*at_or_before_millis) : "";
    std::string why = listing.skipped.empty()
                          ? ""
                          : " (" + std::to_string(listing.skipped.size()) +
                                " unusable, the newest because: " + listing.skipped.back().reason.message() + ")";
    return Status::not_found("no usable checkpoint" + when + " in " + storage.describe() + why);
  }
  return candidates;
}

}  // namespace internal

Result<CheckpointManifest> latest_checkpoint(CheckpointStorage& storage, std::vector<SkippedCheckpoint>* skipped) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto candidates, internal::restore_candidates(storage, std::nullopt, skipped));
  return std::move(candidates.front());
}

Result<CheckpointManifest> latest_checkpoint_at_or_before(CheckpointStorage& storage, int64_t at_or_before_millis,
                                                          std::vector<SkippedCheckpoint>* skipped) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto candidates, internal::restore_candidates(storage, at_or_before_millis, skipped));
  return std::move(candidates.front());
}

Status verify_checkpoint(CheckpointStorage& storage, CheckpointId id) {
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointManifest manifest, internal::read_manifest(storage, id));
  for (const CheckpointFile& file : manifest.files) {
    STREAMSTATE_ASSIGN_OR_RETURN(internal::LoadedFile loaded, internal::load_file(storage, manifest.id, file));
    if (loaded.reader) STREAMSTATE_RETURN_IF_ERROR(loaded.reader->verify());  // not for RocksDB files
  }
  return Status::ok();
}

}  // namespace streamstate
