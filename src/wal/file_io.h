// The operating-system calls the write-ahead log makes, each returning a Status whose message
// names the path and the system's reason: writing all bytes, data and full syncs, directory
// syncs, positional reads, truncation, and an exclusive lock on a directory.
//
// Thread-safety: reentrant; callers own their file descriptors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "streamstate/status.h"

namespace streamstate::wal {

Status os_error(std::string_view what, const std::filesystem::path& path, int error);

// Writes all `size` bytes (retrying short writes and EINTR).
Status write_all(int fd, const char* data, size_t size, const std::filesystem::path& path);
// fdatasync: the data and the metadata needed to read it (the file size).
Status data_sync(int fd, const std::filesystem::path& path);
// fsync: data and all metadata.
Status full_sync(int fd, const std::filesystem::path& path);
// Makes the directory's entries (created, renamed, removed files) durable.
Status sync_directory(const std::filesystem::path& directory);
// Reads exactly `size` bytes at `offset`; kIoError (naming the path) when the file is shorter.
Status read_exact(int fd, uint64_t offset, char* out, size_t size, const std::filesystem::path& path);
// Cuts the file at `size` bytes and syncs it.
Status truncate_and_sync(const std::filesystem::path& path, uint64_t size);

// Holds an exclusive flock() on <directory>/LOCK for as long as it lives.
class DirectoryLock {
 public:
  // kFailedPrecondition when another holder (this process included) has it.
  static Result<DirectoryLock> acquire(const std::filesystem::path& directory);
  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace streamstate::wal
