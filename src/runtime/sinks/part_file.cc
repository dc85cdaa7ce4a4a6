#include "runtime/sinks/part_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "wal/file_io.h"

namespace streamstate::internal {
namespace {

// Large enough that a write(2) carries many lines, small enough per open part.
constexpr size_t kBufferBytes = 256 * 1024;

}  // namespace

Result<PartFile> PartFile::create(const std::filesystem::path& path, int64_t opened_at_millis) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return wal::os_error("cannot create the in-progress part file", path, errno);
  return PartFile(fd, path, opened_at_millis);
}

PartFile::PartFile(PartFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      opened_at_millis_(other.opened_at_millis_),
      bytes_(other.bytes_),
      buffer_(std::move(other.buffer_)) {}

PartFile& PartFile::operator=(PartFile&& other) noexcept {
  if (this != &other) {
    close_descriptor();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    opened_at_millis_ = other.opened_at_millis_;
    bytes_ = other.bytes_;
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

PartFile::~PartFile() { close_descriptor(); }

void PartFile::close_descriptor() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status PartFile::append_line(std::string_view line) {
  if (fd_ < 0) return Status::failed_precondition("the part file " + path_.string() + " is already finished");
  buffer_.append(line);
  buffer_.push_back('\n');
  bytes_ += line.size() + 1;
  return buffer_.size() >= kBufferBytes ? flush() : Status::ok();
}

Status PartFile::flush() {
  if (buffer_.empty()) return Status::ok();
  Status written = wal::write_all(fd_, buffer_.data(), buffer_.size(), path_);
  buffer_.clear();
  return written;
}

Status PartFile::finish() {
  if (fd_ < 0) return Status::failed_precondition("the part file " + path_.string() + " is already finished");
  Status status = flush();
  if (status.is_ok()) status = wal::data_sync(fd_, path_);
  int closed = ::close(fd_);
  fd_ = -1;
  if (status.is_ok() && closed != 0) status = wal::os_error("cannot close the part file", path_, errno);
  return status;
}

}  // namespace streamstate::internal
