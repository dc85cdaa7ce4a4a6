// A buffered line reader over pread (line_reader.h).

#include "runtime/sources/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace streamstate::internal {

namespace {

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

LineReader::LineReader(std::string path, int fd, uint64_t size, size_t buffer_bytes, size_t max_line_bytes)
    : path_(std::move(path)), fd_(fd), size_(size), max_line_bytes_(max_line_bytes),
      buffer_(std::max<size_t>(buffer_bytes, 64)) {}

LineReader::~LineReader() { ::close(fd_); }

Result<std::unique_ptr<LineReader>> LineReader::open(const std::string& path, size_t buffer_bytes,
                                                     size_t max_line_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return Status::not_found("file " + path + " does not exist");
    return Status::io_error("cannot open " + path + " for reading: " + errno_text(error));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return Status::io_error("cannot stat " + path + ": " + errno_text(error));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::invalid_argument(path + " is not a regular file (a file source reads files, not directories)");
  }
  return std::unique_ptr<LineReader>(
      new LineReader(path, fd, static_cast<uint64_t>(info.st_size), buffer_bytes, max_line_bytes));
}

void LineReader::seek(uint64_t offset) {
  base_ = offset;
  begin_ = 0;
  end_ = 0;
  eof_ = false;
}

Status LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    base_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  for (;;) {
    const ssize_t n = ::pread(fd_, buffer_.data() + end_, buffer_.size() - end_, static_cast<off_t>(base_ + end_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::io_error("cannot read " + path_ + " at byte offset " + std::to_string(base_ + end_) + ": " +
                              errno_text(errno));
    }
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    return Status::ok();
  }
}

Result<bool> LineReader::next(std::string_view& line) {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    size_t length = 0;
    if (newline != nullptr) {
      length = static_cast<size_t>(newline - start);
    } else if (eof_) {
      if (begin_ == end_) return false;
      length = end_ - begin_;
    } else if (end_ - begin_ > max_line_bytes_) {
      return Status::invalid_argument(path_ + ": the line at byte offset " + std::to_string(base_ + begin_) +
                                      " is longer than FileSourceOptions::max_record_bytes (" +
                                      std::to_string(max_line_bytes_) + "); raise it if the line is valid");
    } else {
      Status filled = fill();
      if (!filled.is_ok()) return filled;
      continue;
    }
    if (length > max_line_bytes_) {
      return Status::invalid_argument(path_ + ": the line at byte offset " + std::to_string(base_ + begin_) +
                                      " is longer than FileSourceOptions::max_record_bytes (" +
                                      std::to_string(max_line_bytes_) + "); raise it if the line is valid");
    }
    line_start_ = base_ + begin_;
    begin_ += length + (newline != nullptr ? 1 : 0);
    if (length > 0 && start[length - 1] == '\r') --length;
    line = std::string_view(start, length);
    // A UTF-8 byte order mark (as spreadsheets write) is not part of the first line.
    constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
    if (line_start_ == 0 && line.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
      line.remove_prefix(kByteOrderMark.size());
    }
    return true;
  }
}

Result<uint64_t> line_number_at(const std::string& path, uint64_t offset) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error("cannot open " + path + " to count its lines: " + errno_text(errno));
  std::vector<char> buffer(size_t{1} << 20);
  uint64_t lines = 1;
  uint64_t at = 0;
  Status failure;
  while (at < offset) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), offset - at));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failure = Status::io_error("cannot read " + path + " to count its lines: " + errno_text(errno));
    if (n <= 0) break;
    lines += static_cast<uint64_t>(std::count(buffer.data(), buffer.data() + n, '\n'));
    at += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (!failure.is_ok()) return failure;
  return lines;
}

Status check_line_start(const std::string& path, uint64_t offset, uint64_t size) {
  if (offset == 0 || offset == size) return Status::ok();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error("cannot open " + path + ": " + errno_text(errno));
  char before = 0;
  ssize_t n = 0;
  do {
    n = ::pread(fd, &before, 1, static_cast<off_t>(offset - 1));
  } while (n < 0 && errno == EINTR);
  const int error = errno;
  ::close(fd);
  if (n < 0) return Status::io_error("cannot read " + path + ": " + errno_text(error));
  if (n == 1 && before == '\n') return Status::ok();
  return Status::invalid_argument("position " + std::to_string(offset) + " of " + path +
                                  " is not the start of a line: the checkpoint does not belong to this file "
                                  "(was it replaced or rewritten?)");
}

}  // namespace streamstate::internal
