#include "checkpoint/rocksdb/native_restore_steps.h"

#include <unistd.h>

#include <atomic>
#include <system_error>

#include "checkpoint/rocksdb/file_transfer.h"
#include "checkpoint/store_catalog.h"
#include "util/parallel.h"
#include "util/status_macros.h"
#include "wal/file_io.h"

namespace streamstate::internal {

namespace fs = std::filesystem;

Result<fs::path> check_native_restore_target(const RocksDbRestoreOptions& options) {
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

Status check_native_checkpoint(const CheckpointManifest& manifest) {
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

fs::path native_staging_path(const fs::path& target, std::string_view suffix) {
  static std::atomic<uint64_t> counter{0};
  return target.parent_path() / ("." + target.filename().string() + ".restore-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(counter++) + std::string(suffix));
}

Result<uint64_t> fetch_native_files(CheckpointStorage& storage, const CheckpointManifest& manifest,
                                    const RocksDbRestoreOptions& options, const fs::path& directory) {
  std::error_code error;
  if (!fs::create_directory(directory, error) || error) {
    return Status::io_error("cannot create the staging directory '" + directory.string() +
                            "': " + (error ? error.message() : std::string("it exists")));
  }
  std::atomic<uint64_t> bytes{0};
  STREAMSTATE_RETURN_IF_ERROR(run_parallel(manifest.files.size(), options.download_threads, [&](size_t i) {
    const CheckpointFile& file = manifest.files[i];
    if (!options.local_directory.empty()) {
      const fs::path kept = fs::path(options.local_directory) / checkpoint_folder(manifest.id) / file.local_name;
      STREAMSTATE_ASSIGN_OR_RETURN(bool taken, take_local_file(kept, file, directory / file.local_name));
      if (taken) return Status::ok();
    }
    STREAMSTATE_ASSIGN_OR_RETURN(uint64_t read,
                                 download_checked_file(storage, manifest.id, file, directory / file.local_name));
    bytes += read;
    return Status::ok();
  }));
  STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(directory));
  return bytes.load();
}

Result<std::unique_ptr<RocksDbBackend>> open_staged_database(const fs::path& directory) {
  RocksDbBackendOptions open;
  open.path = directory.string();
  open.create_if_missing = false;
  open.block_cache_bytes = uint64_t{8} << 20;
  return RocksDbBackend::open(open);
}

std::vector<std::string> state_columns(const CheckpointManifest& manifest) {
  std::vector<std::string> columns;
  for (const std::string& column : manifest.columns) {
    if (column != kStoreRecordsColumn) columns.push_back(column);
  }
  return columns;
}

Status commit_restored_directory(const fs::path& staging, const fs::path& target) {
  STREAMSTATE_RETURN_IF_ERROR(wal::sync_directory(staging));
  // rename(2) replaces an empty directory atomically.
  std::error_code error;
  fs::rename(staging, target, error);
  if (error) {
    return Status::io_error("cannot rename the restored database '" + staging.string() + "' to '" +
                            target.string() + "': " + error.message());
  }
  return wal::sync_directory(target.has_parent_path() ? target.parent_path() : fs::path("."));
}

}  // namespace streamstate::internal
