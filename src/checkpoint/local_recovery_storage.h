// The LocalRecoveryStorage implementation (see streamstate/local_recovery.h for the contract).
// Internal. It sits in the checkpoint component, not beside the other storages, because it
// reads checkpoint manifests (what to keep locally, and the size and XXH3 each local copy must
// have).
//
// Thread-safety: as CheckpointStorage. mutex_ guards what is known about files and the kept
// manifests; prune_mutex_ serializes pruning (which lists and deletes local files, outside
// mutex_). Statistics are atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/directory_storage.h"
#include "streamstate/checkpoint.h"
#include "streamstate/local_recovery.h"

namespace streamstate::internal {

class LocalRecoveryStorageImpl final : public LocalRecoveryStorage {
 public:
  static Result<std::unique_ptr<LocalRecoveryStorageImpl>> open(std::shared_ptr<CheckpointStorage> remote,
                                                                const LocalRecoveryOptions& options);

  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override;
  Result<std::string> read(std::string_view name) override;
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override;
  Result<std::vector<StoredObject>> list(std::string_view prefix) override;
  Result<bool> exists(std::string_view name) override;
  Status remove(std::string_view name) override;
  Status remove_incomplete() override;
  std::string describe() const override;

  LocalRecoveryStatistics statistics() const override;
  std::string local_path() const override { return local_->root().string(); }

  // Called by a writer after its object was committed to the remote, and to the local copy
  // when `copied`. `manifest_bytes` holds the object's bytes when it is a manifest.
  void object_committed(const std::string& name, bool copied, uint64_t size,
                        const std::optional<std::string>& manifest_bytes);
  void local_write_failed() { ++stats_.local_write_failures; }
  storage::DirectoryStorage& local() { return *local_; }

 private:
  // What a manifest says a data file is; `verified` once the local copy was checked against it.
  struct ExpectedFile {
    uint64_t size = 0;
    uint64_t checksum = 0;
    bool verified = false;
  };
  struct Counters {
    std::atomic<uint64_t> local_reads{0}, local_bytes_read{0}, remote_reads{0}, remote_bytes_read{0};
    std::atomic<uint64_t> manifest_reads{0}, manifest_bytes_read{0}, local_copies_rejected{0};
    std::atomic<uint64_t> objects_copied{0}, bytes_copied{0}, local_write_failures{0}, objects_pruned{0};
  };

  LocalRecoveryStorageImpl(std::shared_ptr<CheckpointStorage> remote, std::unique_ptr<storage::DirectoryStorage> local,
                           size_t keep_checkpoints)
      : remote_(std::move(remote)), local_(std::move(local)), keep_checkpoints_(keep_checkpoints) {}

  Status load_local_manifests();
  // Records the files of `manifest` (a later manifest's word replaces an earlier one's).
  void learn_files_locked(const CheckpointManifest& manifest);
  // Adds a manifest to the kept ones, dropping the oldest beyond keep_checkpoints_.
  void keep_manifest_locked(CheckpointManifest manifest);
  // Deletes the local objects the kept manifests do not need (see local_recovery.h).
  Status prune();
  // The local copy's bytes [offset, offset + length) (the whole object when `length` is
  // nullopt), or nullopt when the object must be read from the remote.
  std::optional<std::string> read_local(std::string_view name, uint64_t offset, std::optional<uint64_t> length);
  void reject_local_copy(std::string_view name);
  Result<std::string> read_remote(std::string_view name, uint64_t offset, std::optional<uint64_t> length);

  std::shared_ptr<CheckpointStorage> remote_;
  std::unique_ptr<storage::DirectoryStorage> local_;
  const size_t keep_checkpoints_;
  mutable std::mutex mutex_;
  std::map<std::string, ExpectedFile, std::less<>> expected_;   // guarded by mutex_
  std::map<CheckpointId, CheckpointManifest> kept_;             // guarded by mutex_
  std::mutex prune_mutex_;
  Counters stats_;
};

}  // namespace streamstate::internal
