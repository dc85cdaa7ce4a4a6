// Restore of one native RocksDB checkpoint: fetch its files into a staging directory, trim key
// groups when asked, then one rename makes the database appear whole.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "checkpoint/checkpoint_verify.h"
#include "checkpoint/rocksdb/native_catalog.h"
#include "checkpoint/rocksdb/native_restore_steps.h"
#include "checkpoint/rocksdb/native_state_selection.h"
#include "streamstate/rocksdb_checkpoint.h"
#include "util/status_macros.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;

// The key groups to keep, or nullopt for the checkpoint's whole range.
Result<std::optional<KeyGroupRange>> narrowed(const CheckpointManifest& manifest,
                                              const RocksDbRestoreOptions& options) {
  if (!options.key_groups || *options.key_groups == manifest.key_groups) return std::optional<KeyGroupRange>();
  const KeyGroupRange& keep = *options.key_groups;
  if (keep.empty() || manifest.key_groups.intersect(keep) != keep) {
    return Status::invalid_argument("RocksDbRestoreOptions::key_groups " + keep.to_string() +
                                    " is empty or not within key groups " + manifest.key_groups.to_string() +
                                    " of checkpoint " + std::to_string(manifest.id));
  }
  return std::optional<KeyGroupRange>(keep);
}

// Opens the restored database once: drops the other key groups from every state column (when
// `keep` is set), then selects, renames and drops states as the options say; sets `columns` to
// the columns the database ends with.
Status edit_staged_database(const fs::path& directory, const CheckpointManifest& manifest,
                            const std::optional<KeyGroupRange>& keep, const RocksDbRestoreOptions& options,
                            std::vector<std::string>& columns) {
  internal::NativeCatalog catalog;  // which columns carry expiry headers, for renamed states
  if (internal::selects_states(options)) {
    STREAMSTATE_ASSIGN_OR_RETURN(catalog, internal::read_native_catalog(directory.string()));
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> db, internal::open_staged_database(directory));
  Status edited = keep ? db->retain_key_groups(*keep, internal::state_columns(manifest)) : Status::ok();
  if (edited.is_ok()) edited = internal::apply_native_selection(*db, catalog, manifest, options);
  if (edited.is_ok()) {
    Result<std::vector<std::string>> listed = db->list_columns();
    edited = listed.status();
    if (listed.is_ok()) columns = std::move(listed).value();
  }
  Status closed = db->close();
  STREAMSTATE_RETURN_IF_ERROR(edited);
  std::sort(columns.begin(), columns.end());
  return closed;
}

// Everything after the target was checked; `staging` is removed by the caller on failure.
Result<RestoreInfo> restore_into(CheckpointStorage& storage, const CheckpointManifest& manifest,
                                 const RocksDbRestoreOptions& options, const fs::path& target,
                                 const fs::path& staging) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<KeyGroupRange> keep, narrowed(manifest, options));
  STREAMSTATE_RETURN_IF_ERROR(internal::check_native_selection(manifest, options));
  RestoreInfo info;
  info.columns = manifest.columns;
  STREAMSTATE_ASSIGN_OR_RETURN(info.bytes_read, internal::fetch_native_files(storage, manifest, options, staging));
  if (keep || internal::selects_states(options)) {
    STREAMSTATE_RETURN_IF_ERROR(edit_staged_database(staging, manifest, keep, options, info.columns));
  }
  STREAMSTATE_RETURN_IF_ERROR(internal::commit_restored_directory(staging, target));
  info.ids.push_back(manifest.id);
  return info;
}

Result<RestoreInfo> restore_manifest(CheckpointStorage& storage, const CheckpointManifest& manifest,
                                     const RocksDbRestoreOptions& options, const fs::path& target) {
  STREAMSTATE_RETURN_IF_ERROR(internal::check_native_checkpoint(manifest));
  const fs::path staging = internal::native_staging_path(target);
  Result<RestoreInfo> info = restore_into(storage, manifest, options, target, staging);
  if (!info.is_ok()) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
  }
  return info;
}

}  // namespace

Result<RestoreInfo> restore_rocksdb_checkpoint(CheckpointStorage& storage, CheckpointId id,
                                               const RocksDbRestoreOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(fs::path target, internal::check_native_restore_target(options));
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointManifest manifest, read_checkpoint(storage, id));
  return restore_manifest(storage, manifest, options, target);
}

Result<RestoreInfo> restore_latest_rocksdb_checkpoint(CheckpointStorage& storage,
                                                      const RocksDbRestoreOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(fs::path target, internal::check_native_restore_target(options));
  std::vector<SkippedCheckpoint> skipped;
  STREAMSTATE_ASSIGN_OR_RETURN(auto candidates, internal::restore_candidates(storage, std::nullopt, &skipped));
  for (const CheckpointManifest& candidate : candidates) {
    Status native = internal::check_native_checkpoint(candidate);
    if (!native.is_ok()) {
      skipped.push_back({candidate.id, std::move(native)});
      continue;
    }
    Result<RestoreInfo> info = restore_manifest(storage, candidate, options, target);
    if (info.is_ok()) {
      info->skipped = std::move(skipped);
      return info;
    }
    const StatusCode code = info.status().code();
    if (code != StatusCode::kCorruption && code != StatusCode::kNotFound) return info.status();
    skipped.push_back({candidate.id, info.status()});
  }
  return Status::not_found("no native RocksDB checkpoint in " + storage.describe() +
                           " could be restored; the newest failed: " + skipped.back().reason.message());
}

}  // namespace streamstate
