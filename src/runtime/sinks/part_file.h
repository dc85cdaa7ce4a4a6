// One in-progress part file of the file sink: created exclusively, appended to through a
// buffer, and finished (flushed, fdatasync'ed, closed) before its transaction is pre-committed.
//
// Destroying an unfinished PartFile closes its descriptor and leaves the file as it is (as a
// crash would); the sink's recover() removes it.
//
// Thread-safety: none; one writer thread owns a PartFile.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "streamstate/status.h"

namespace streamstate::internal {

class PartFile {
 public:
  // Creates `path` (which must not exist). IoError naming the path and the system's reason.
  static Result<PartFile> create(const std::filesystem::path& path, int64_t opened_at_millis);

  PartFile(PartFile&& other) noexcept;
  PartFile& operator=(PartFile&& other) noexcept;
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;
  ~PartFile();

  // Appends `line` and a '\n'. Bytes are written when the buffer fills and at finish().
  Status append_line(std::string_view line);
  // Writes what is buffered, syncs the file's data and closes it.
  Status finish();

  // Bytes appended so far, written or buffered.
  uint64_t bytes() const { return bytes_; }
  int64_t opened_at_millis() const { return opened_at_millis_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  PartFile(int fd, std::filesystem::path path, int64_t opened_at_millis)
      : fd_(fd), path_(std::move(path)), opened_at_millis_(opened_at_millis) {}
  Status flush();
  void close_descriptor();

  int fd_ = -1;
  std::filesystem::path path_;
  int64_t opened_at_millis_ = 0;
  uint64_t bytes_ = 0;
  std::string buffer_;
};

}  // namespace streamstate::internal
