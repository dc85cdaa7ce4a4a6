// Segment creation (temp file, sync, rename, directory sync) and appends.
#include "wal/segment_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "util/status_macros.h"
#include "wal/file_io.h"

namespace streamstate::wal {

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::create(const std::filesystem::path& directory,
                                                             const SegmentHeader& header) {
  std::filesystem::path path = directory / segment_file_name(header.segment_id);
  std::filesystem::path temp = path;
  temp += std::string(kTempSuffix);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("cannot create WAL segment", temp, errno);
  std::string bytes = encode_segment_header(header);
  Status status = write_all(fd, bytes.data(), bytes.size(), temp);
  if (status.is_ok()) status = full_sync(fd, temp);
  if (status.is_ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = os_error("cannot rename " + temp.string() + " to", path, errno);
  }
  if (status.is_ok()) status = sync_directory(directory);
  if (!status.is_ok()) {
    ::close(fd);
    ::unlink(temp.c_str());
    return status;
  }
  return std::unique_ptr<SegmentWriter>(new SegmentWriter(std::move(path), header, fd, bytes.size()));
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::open_for_append(const std::filesystem::path& path,
                                                                      const SegmentHeader& header, uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open WAL segment", path, errno);
  if (::lseek(fd, static_cast<off_t>(size), SEEK_SET) < 0) {
    Status status = os_error("cannot seek in WAL segment", path, errno);
    ::close(fd);
    return status;
  }
  return std::unique_ptr<SegmentWriter>(new SegmentWriter(path, header, fd, size));
}

SegmentWriter::~SegmentWriter() { ::close(fd_); }

Status SegmentWriter::write(BytesView data) {
  STREAMSTATE_RETURN_IF_ERROR(write_all(fd_, data.data(), data.size(), path_));
  size_ += data.size();
  return Status::ok();
}

Status SegmentWriter::sync() { return data_sync(fd_, path_); }

}  // namespace streamstate::wal
