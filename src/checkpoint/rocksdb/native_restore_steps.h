// The steps every restore of native RocksDB checkpoints takes: checking the target, fetching a
// checkpoint's files into a staging directory beside it (from a kept local copy or the
// storage, each checked by size and XXH3), opening a staged database, and the rename that makes
// the restored database appear whole. Internal, shared by the single and the combined restore.
//
// Thread-safety: reentrant; each restore uses its own staging directories.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/rocksdb.h"
#include "streamstate/rocksdb_checkpoint.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// options.directory without a trailing '/', once checked: absent or an empty directory, with
// an existing parent (kFailedPrecondition otherwise); bad options are kInvalidArgument.
Result<std::filesystem::path> check_native_restore_target(const RocksDbRestoreOptions& options);

// kFailedPrecondition unless every file of the checkpoint is a RocksDB file.
Status check_native_checkpoint(const CheckpointManifest& manifest);

// A fresh path beside `target`: ".<name>.restore-<pid>-<n><suffix>".
std::filesystem::path native_staging_path(const std::filesystem::path& target, std::string_view suffix = {});

// Creates `directory` and places every file of the checkpoint in it (from the kept local copy
// when options.local_directory has a matching one, else downloaded), then syncs the directory.
// Returns the bytes downloaded.
Result<uint64_t> fetch_native_files(CheckpointStorage& storage, const CheckpointManifest& manifest,
                                    const RocksDbRestoreOptions& options, const std::filesystem::path& directory);

// Opens a staged database (never creating one), with a small block cache.
Result<std::unique_ptr<RocksDbBackend>> open_staged_database(const std::filesystem::path& directory);

// The manifest's columns that hold state keys (all but "_ss.states").
std::vector<std::string> state_columns(const CheckpointManifest& manifest);

// Syncs `staging`, renames it to `target` (replacing an empty directory) and syncs the parent.
Status commit_restored_directory(const std::filesystem::path& staging, const std::filesystem::path& target);

}  // namespace streamstate::internal
