// System calls with errors turned into Status.
#include "wal/file_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace streamstate::wal {

Status os_error(std::string_view what, const std::filesystem::path& path, int error) {
  return Status::io_error(std::string(what) + " " + path.string() + ": " +
                          std::error_code(error, std::generic_category()).message());
}

Status write_all(int fd, const char* data, size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot write to", path, errno);
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return Status::ok();
}

Status data_sync(int fd, const std::filesystem::path& path) {
  while (::fdatasync(fd) != 0) {
    if (errno != EINTR) return os_error("cannot fdatasync", path, errno);
  }
  return Status::ok();
}

Status full_sync(int fd, const std::filesystem::path& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return os_error("cannot fsync", path, errno);
  }
  return Status::ok();
}

Status sync_directory(const std::filesystem::path& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open directory", directory, errno);
  Status status = full_sync(fd, directory);
  ::close(fd);
  return status;
}

Status read_exact(int fd, uint64_t offset, char* out, size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    ssize_t got = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot read", path, errno);
    }
    if (got == 0) {
      return Status::io_error("cannot read " + path.string() + ": file ended at offset " + std::to_string(offset) +
                              " (it shrank while being read)");
    }
    out += got;
    size -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return Status::ok();
}

Status truncate_and_sync(const std::filesystem::path& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open", path, errno);
  Status status;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    status = os_error("cannot truncate", path, errno);
  } else {
    status = full_sync(fd, path);
  }
  ::close(fd);
  return status;
}

Result<DirectoryLock> DirectoryLock::acquire(const std::filesystem::path& directory) {
  std::filesystem::path path = directory / "LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("cannot open lock file", path, errno);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Status::failed_precondition("write-ahead log " + directory.string() +
                                         " is already open (its LOCK file is held by this or another "
                                         "process); close the other Wal first");
    }
    return os_error("cannot lock", path, error);
  }
  return DirectoryLock(fd);
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace streamstate::wal
