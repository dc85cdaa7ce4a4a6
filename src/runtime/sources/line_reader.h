// Reads a file line by line through a large buffer (pread), from any byte offset, keeping the
// offset of each line so that a file source can report and resume from exact positions.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/status.h"

namespace streamstate::internal {

class LineReader {
 public:
  // Opens `path` for reading from offset 0. NotFound when it does not exist, InvalidArgument
  // when it is not a regular file, IoError when it cannot be opened; each names the path.
  // A line longer than `max_line_bytes` fails next().
  static Result<std::unique_ptr<LineReader>> open(const std::string& path, size_t buffer_bytes,
                                                  size_t max_line_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Continues at byte `offset` (the start of a line).
  void seek(uint64_t offset);
  // The next line, without its "\n" nor a "\r" before it, in `line` (valid until the next call
  // to next() or seek()); false at the end of the file. A last line without "\n" is a line;
  // a UTF-8 byte order mark at the start of the file is dropped.
  Result<bool> next(std::string_view& line);
  // The offset where the line last returned starts, and the offset after it (and its "\n").
  uint64_t line_start() const { return line_start_; }
  uint64_t offset() const { return base_ + begin_; }
  // The file's size when it was opened.
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  LineReader(std::string path, int fd, uint64_t size, size_t buffer_bytes, size_t max_line_bytes);
  // Reads more bytes after end_, compacting or growing the buffer first. Sets eof_ at the end.
  Status fill();

  std::string path_;
  int fd_;
  uint64_t size_;
  size_t max_line_bytes_;
  std::vector<char> buffer_;
  uint64_t base_ = 0;  // file offset of buffer_[0]
  size_t begin_ = 0;   // unread bytes are buffer_[begin_, end_)
  size_t end_ = 0;
  bool eof_ = false;
  uint64_t line_start_ = 0;
};

// The 1-based number of the line starting at byte `offset` of `path` (counts the newlines
// before it). For error messages.
Result<uint64_t> line_number_at(const std::string& path, uint64_t offset);

// OK when byte `offset` of `path` starts a line (0, or just after a "\n", or the end of the
// file); InvalidArgument naming the file and offset otherwise.
Status check_line_start(const std::string& path, uint64_t offset, uint64_t size);

}  // namespace streamstate::internal
