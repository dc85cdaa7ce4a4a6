#include "checkpoint/rocksdb/file_transfer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "checkpoint/checkpoint_verify.h"
#include "streamstate/checksum.h"
#include "util/status_macros.h"
#include "wal/file_io.h"

namespace streamstate::internal {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;

// Closes a file descriptor on every path out.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close() may give.
  Status close(const std::filesystem::path& path) {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return wal::os_error("cannot close", path, errno);
    return Status::ok();
  }

 private:
  int fd_;
};

}  // namespace

Result<UploadedFile> upload_local_file(CheckpointStorage& storage, const std::filesystem::path& local,
                                       const std::string& object_name) {
  FileDescriptor fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return wal::os_error("cannot open", local, errno);
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StorageWriter> writer, storage.create(object_name));
  Checksum64Builder checksum;
  UploadedFile uploaded;
  std::string buffer(kChunkBytes, '\0');
  for (;;) {
    ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return wal::os_error("cannot read", local, errno);
    if (got == 0) break;
    BytesView chunk(buffer.data(), static_cast<size_t>(got));
    checksum.update(chunk);
    uploaded.size += chunk.size();
    STREAMSTATE_RETURN_IF_ERROR(writer->append(chunk));
  }
  STREAMSTATE_RETURN_IF_ERROR(writer->commit());
  uploaded.checksum = checksum.digest();
  return uploaded;
}

namespace {

// Writes `bytes` to `destination` (created, must not exist) and syncs it.
Status write_new_file(const std::filesystem::path& destination, BytesView bytes) {
  FileDescriptor fd(::open(destination.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return wal::os_error("cannot create", destination, errno);
  STREAMSTATE_RETURN_IF_ERROR(wal::write_all(fd.get(), bytes.data(), bytes.size(), destination));
  STREAMSTATE_RETURN_IF_ERROR(wal::full_sync(fd.get(), destination));
  return fd.close(destination);
}

// The whole local file, or nullopt when it cannot be read.
std::optional<std::string> read_local_file(const std::filesystem::path& path, uint64_t expected_size) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  std::string bytes(expected_size, '\0');
  size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t got = ::read(fd.get(), bytes.data() + filled, bytes.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return std::nullopt;
    filled += static_cast<size_t>(got);
  }
  char extra = 0;
  if (::read(fd.get(), &extra, 1) != 0) return std::nullopt;  // longer than recorded
  return bytes;
}

}  // namespace

Result<bool> take_local_file(const std::filesystem::path& local, const CheckpointFile& file,
                             const std::filesystem::path& destination) {
  std::error_code error;
  if (std::filesystem::file_size(local, error) != file.size || error) return false;
  std::optional<std::string> bytes = read_local_file(local, file.size);
  if (!bytes || checksum64(*bytes) != file.checksum) return false;
  // Tables are never written again once made; the other files are rewritten by RocksDB, so
  // they are copied and the kept copy stays as it was.
  if (file.local_name.ends_with(".sst") && ::link(local.c_str(), destination.c_str()) == 0) return true;
  STREAMSTATE_RETURN_IF_ERROR(write_new_file(destination, *bytes));
  return true;
}

Result<uint64_t> download_checked_file(CheckpointStorage& storage, CheckpointId id, const CheckpointFile& file,
                                       const std::filesystem::path& destination) {
  // A RocksDB file: load_file checks its size and XXH3 only.
  STREAMSTATE_ASSIGN_OR_RETURN(LoadedFile loaded, load_file(storage, id, file));
  STREAMSTATE_RETURN_IF_ERROR(write_new_file(destination, *loaded.bytes.front()));
  return loaded.bytes_fetched;
}

}  // namespace streamstate::internal
