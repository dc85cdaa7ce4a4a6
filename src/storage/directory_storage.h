// CheckpointStorage over a local directory (see open_directory_storage in
// streamstate/checkpoint_storage.h for the contract and the crash-safety protocol).
//
// Thread-safety: as CheckpointStorage. The set of temporary files owned by live writers is
// guarded by a mutex so that remove_incomplete() never deletes a file being written here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/checkpoint_storage.h"

namespace streamstate::storage {

class DirectoryStorage final : public CheckpointStorage {
 public:
  static Result<std::unique_ptr<DirectoryStorage>> open(const DirectoryStorageOptions& options);

  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override;
  Result<std::string> read(std::string_view name) override;
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override;
  Result<std::vector<StoredObject>> list(std::string_view prefix) override;
  Result<bool> exists(std::string_view name) override;
  Status remove(std::string_view name) override;
  Status remove_incomplete() override;
  std::string describe() const override;

  const std::filesystem::path& root() const { return root_; }

 private:
  friend class DirectoryWriter;
  DirectoryStorage(std::filesystem::path root, size_t write_buffer_bytes)
      : root_(std::move(root)), write_buffer_bytes_(write_buffer_bytes) {}

  // fsyncs `directory`, and the parent of each folder from there up to the root whose entry
  // this storage has not made durable yet.
  Status sync_directories_up_to_root(const std::filesystem::path& directory);
  Status read_span(std::string_view name, uint64_t offset, std::optional<uint64_t> length, std::string& out);
  void release_temp(const std::string& temp_path);

  std::filesystem::path root_;
  size_t write_buffer_bytes_;
  uint64_t next_temp_id_ = 0;      // guarded by mutex_
  std::mutex mutex_;
  std::set<std::string> live_temps_;  // guarded by mutex_
  // Folders below the root whose entries in their parents were fsynced (folders are never
  // deleted by the storage, so this stays true). Guarded by mutex_.
  std::set<std::string> durable_folders_;
};

}  // namespace streamstate::storage
