// Restore of native RocksDB checkpoints: download into a staging directory, check, sync, trim
// key groups, then one rename makes the database appear whole.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <system_error>

#include "checkpoint/checkpoint_verify.h"
#include "checkpoint/rocksdb/file_transfer.h"
#include "checkpoint/store_catalog.h"
#include "streamstate/rocksdb_checkpoint.h"
#include "util/status_macros.h"
#include "wal/file_io.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;

// The restore target: its path without a trailing '/', checked before anything is read.
Result<fs::path> check_target(const RocksDbRestoreOptions& options) {
  if (options.directory.empty()) {
    return Status::invalid_argument("RocksDbRestoreOptions::directory is empty; give the database directory to create");
  }
  if (options.download_threads == 0 || options.download_threads > 64) {
    return Status::invalid_argument("RocksDbRestoreOptions::download_threads " +
                                    std::to_string(options.download_threads) + " is out of range; use 1 to 64");
  }
  fs::path target = fs::path(options.directory).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  std::error_code error;
  const fs::file_status status = fs::status(target, error);
  if (fs::exists(status)) {
    if (!fs::is_directory(status) || !fs::is_empty(target, error) || error) {
      return Status::failed_precondition("restore target '" + target.string() +
                                         "' exists and is not an empty directory; give a new directory or empty it");
    }
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, error)) {
    return Status::failed_precondition("the parent directory '" + parent.string() + "' of restore target '" +
                                       target.string() + "' does not exist; create it first");
  }
  return target;
}

Status check_native(const CheckpointManifest& manifest) {
  bool native = !manifest.files.empty();
  for (const CheckpointFile& file : manifest.files) {
    native = native && file.content == CheckpointFileContent::kRocksDbFile;
  }
  if (!native) {
    return Status::failed_precondition("checkpoint " + std::to_string(manifest.id) +
                                       " is not a native RocksDB checkpoint; restore it into a backend with "
                                       "restore_checkpoint");
  }
  return Status::ok();
}

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

// Opens the restored database once and drops the other key groups from every state column.
Status trim_key_groups(const fs::path& directory, const CheckpointManifest& manifest, const KeyGroupRange& keep) {
  RocksDbBackendOptions open;
  open.path = directory.string();
  open.create_if_missing = false;
  open.block_cache_bytes = uint64_t{8} << 20;
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> db, RocksDbBackend::open(open));
  std::vector<std::string> columns;
  for (const std::string& column : manifest.columns) {
    if (column != internal::kStoreRecordsColumn) columns.push_back(column);
  }
  Status trimmed = db->retain_key_groups(keep, columns);
  Status closed = db->close();
  STREAMSTATE_RETURN_IF_ERROR(trimmed);
  return closed;
}

// Everything after the target was checked; `staging` is removed by the caller on failure.
Result<RestoreInfo> restore_into(CheckpointStorage& storage, const CheckpointManifest& manifest,
                                 const RocksDbRestoreOptions& options, const fs::path& target,
                                 const fs::path& staging) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<KeyGroupRange> keep, narrowed(manifest, options));
  std::error_code error;
  if (!fs::create_directory(staging, error) || error) {
    return Status::io_error("cannot create the staging directory '" + staging.string() +
                            "': " + (error ? error.message() : std::string("it exists")));
  }
  std::atomic<uint64_t> bytes{0};
  STREAMSTATE_RETURN_IF_ERROR(internal::run_in_parallel(manifest.files.size(), options.download_threads, [&](size_t i) {
    const CheckpointFile& file = manifest.files[i];
    if (!options.local_directory.empty()) {
      const fs::path kept = fs::path(options.local_directory) / checkpoint_folder(manifest.id) / file.local_name;
      STREAMSTATE_ASSIGN_OR_RETURN(bool taken, internal::take_local_file(kept, file, staging / file.local_name));
      if (taken) return Status::ok();
    }
    STREAMSTATE_ASSIGN_OR_RETURN(
        uint64_t read, internal::download_checked_file(storage, manifest.id, file, staging / file.local_name));
    bytes += read;
    return Status::ok();
  }));
  STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(staging));
  if (keep) {
    STREAMSTATE_RETURN_IF_ERROR(trim_key_groups(staging, manifest, *keep));
    STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(staging));
  }
  // rename(2) replaces an empty directory atomically.
  fs::rename(staging, target, error);
  if (error) {
    return Status::io_error("cannot rename the restored database '" + staging.string() + "' to '" +
                            target.string() + "': " + error.message());
  }
  STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(target.has_parent_path() ? target.parent_path() : fs::path(".")));
  RestoreInfo info;
  info.ids.push_back(manifest.id);
  info.bytes_read = bytes.load();
  info.columns = manifest.columns;
  return info;
}

Result<RestoreInfo> restore_manifest(CheckpointStorage& storage, const CheckpointManifest& manifest,
                                     const RocksDbRestoreOptions& options, const fs::path& target) {
  static std::atomic<uint64_t> counter{0};
  STREAMSTATE_RETURN_IF_ERROR(check_native(manifest));
  const fs::path staging = target.parent_path() / ("." + target.filename().string() + ".restore-" +
                                                   std::to_string(::getpid()) + "-" + std::to_string(counter++));
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
  STREAMSTATE_ASSIGN_OR_RETURN(fs::path target, check_target(options));
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointManifest manifest, read_checkpoint(storage, id));
  return restore_manifest(storage, manifest, options, target);
}

Result<RestoreInfo> restore_latest_rocksdb_checkpoint(CheckpointStorage& storage,
                                                      const RocksDbRestoreOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(fs::path target, check_target(options));
  std::vector<SkippedCheckpoint> skipped;
  STREAMSTATE_ASSIGN_OR_RETURN(auto candidates, internal::restore_candidates(storage, std::nullopt, &skipped));
  for (const CheckpointManifest& candidate : candidates) {
    Status native = check_native(candidate);
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
