// Appends to one segment file. create() makes a new segment crash-safely: the header is
// written to "<name>.tmp", synced, renamed to its name and the directory synced, so a segment
// visible under its name always has a complete header. open_for_append() continues a segment
// recovery has checked (and cut) at `size` bytes.
//
// Thread-safety: write() is called by one thread at a time (the Wal's current writer);
// sync() may run beside write() from another thread (fdatasync of the same file is safe).
// The file stays open until the SegmentWriter is destroyed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "streamstate/bytes.h"
#include "streamstate/status.h"
#include "wal/segment_format.h"

namespace streamstate::wal {

class SegmentWriter {
 public:
  static Result<std::unique_ptr<SegmentWriter>> create(const std::filesystem::path& directory,
                                                       const SegmentHeader& header);
  static Result<std::unique_ptr<SegmentWriter>> open_for_append(const std::filesystem::path& path,
                                                                const SegmentHeader& header, uint64_t size);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Appends the bytes at the end of the file.
  Status write(BytesView data);
  // fdatasync.
  Status sync();

  const std::filesystem::path& path() const { return path_; }
  const SegmentHeader& header() const { return header_; }
  // Bytes in the file (header included) after the writes that returned.
  uint64_t size() const { return size_; }

 private:
  SegmentWriter(std::filesystem::path path, const SegmentHeader& header, int fd, uint64_t size)
      : path_(std::move(path)), header_(header), fd_(fd), size_(size) {}

  std::filesystem::path path_;
  SegmentHeader header_;
  int fd_;
  uint64_t size_;
};

}  // namespace streamstate::wal
