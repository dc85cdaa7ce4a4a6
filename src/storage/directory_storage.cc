// The local-directory CheckpointStorage: temp file, fsync, rename, fsync the directories.
#include "storage/directory_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "storage/object_name.h"
#include "util/status_macros.h"

namespace streamstate::storage {
namespace fs = std::filesystem;
namespace {

std::string error_text(int error) { return std::error_code(error, std::generic_category()).message(); }

Status os_error(std::string_view what, const fs::path& path, int error) {
  return Status::io_error(std::string(what) + " " + path.string() + ": " + error_text(error));
}

Status write_all(int fd, const char* data, size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot write", path, errno);
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return Status::ok();
}

Status sync_fd(int fd, const fs::path& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return os_error("cannot fsync", path, errno);
  }
  return Status::ok();
}

Status sync_directory(const fs::path& directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open directory", directory, errno);
  Status status = sync_fd(fd, directory);
  ::close(fd);
  return status;
}

bool is_incomplete_file(const fs::path& path) { return path.filename().native().starts_with(kIncompleteMarker); }

}  // namespace

// Writes to ".incomplete.<file>.<pid>.<n>" beside the final file; commit renames it.
class DirectoryWriter final : public StorageWriter {
 public:
  DirectoryWriter(DirectoryStorage* storage, std::string name, fs::path final_path, fs::path temp_path, int fd)
      : storage_(storage), name_(std::move(name)), final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)), fd_(fd) {}
  DirectoryWriter(const DirectoryWriter&) = delete;
  DirectoryWriter& operator=(const DirectoryWriter&) = delete;

  ~DirectoryWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!state_.committed()) ::unlink(temp_path_.c_str());
    storage_->release_temp(temp_path_.native());
  }

  Status append(BytesView data) override {
    STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
    size_ += data.size();
    if (buffer_.size() + data.size() <= storage_->write_buffer_bytes_) {
      buffer_.append(data);
      return Status::ok();
    }
    STREAMSTATE_RETURN_IF_ERROR(state_.fail(flush()));
    if (data.size() >= storage_->write_buffer_bytes_) {
      return state_.fail(write_all(fd_, data.data(), data.size(), temp_path_));
    }
    buffer_.append(data);
    return Status::ok();
  }

  Status sync() override {
    STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
    STREAMSTATE_RETURN_IF_ERROR(state_.fail(flush()));
    return state_.fail(sync_fd(fd_, temp_path_));
  }

  Status commit() override {
    STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
    STREAMSTATE_RETURN_IF_ERROR(state_.fail(flush()));
    STREAMSTATE_RETURN_IF_ERROR(state_.fail(sync_fd(fd_, temp_path_)));
    int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) return state_.fail(os_error("cannot close", temp_path_, errno));
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      return state_.fail(os_error("cannot rename " + temp_path_.string() + " to", final_path_, errno));
    }
    // From here the object is visible; the directory syncs make the rename durable.
    state_.mark_committed();
    return storage_->sync_directories_up_to_root(final_path_.parent_path())
        .with_context("committing " + object_label(name_));
  }

  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }

 private:
  Status flush() {
    Status status = write_all(fd_, buffer_.data(), buffer_.size(), temp_path_);
    buffer_.clear();
    return status;
  }

  DirectoryStorage* storage_;
  std::string name_;
  fs::path final_path_;
  fs::path temp_path_;
  int fd_;
  std::string buffer_;
  uint64_t size_ = 0;
  WriterState state_;
};

Result<std::unique_ptr<DirectoryStorage>> DirectoryStorage::open(const DirectoryStorageOptions& options) {
  if (options.path.empty()) {
    return Status::invalid_argument("DirectoryStorageOptions::path is empty; set it to the checkpoint directory");
  }
  std::error_code error;
  fs::path root = fs::absolute(options.path, error).lexically_normal();
  if (error) return Status::io_error("cannot resolve checkpoint directory " + options.path + ": " + error.message());
  if (!root.has_filename() && root.has_parent_path() && root != root.root_path()) root = root.parent_path();
  fs::file_status status = fs::status(root, error);
  if (!fs::exists(status)) {
    if (!options.create_if_missing) {
      return Status::not_found("checkpoint directory " + root.string() +
                               " does not exist; create it or set DirectoryStorageOptions::create_if_missing");
    }
    fs::create_directories(root, error);
    if (error) return Status::io_error("cannot create checkpoint directory " + root.string() + ": " + error.message());
    STREAMSTATE_RETURN_IF_ERROR(sync_directory(root.parent_path()));
  } else if (!fs::is_directory(status)) {
    return Status::invalid_argument("checkpoint directory " + root.string() + " exists but is not a directory");
  }
  size_t buffer = std::max<size_t>(options.write_buffer_bytes, 1);
  return std::unique_ptr<DirectoryStorage>(new DirectoryStorage(std::move(root), buffer));
}

Result<std::unique_ptr<StorageWriter>> DirectoryStorage::create(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  fs::path final_path = root_ / fs::path(name);
  fs::path directory = final_path.parent_path();
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) {
    return Status::io_error("cannot create directory " + directory.string() + " for " + object_label(name) + ": " +
                            error.message());
  }
  fs::path temp_path;
  {
    std::lock_guard lock(mutex_);
    temp_path = directory / (std::string(kIncompleteMarker) + final_path.filename().string() + "." +
                             std::to_string(::getpid()) + "." + std::to_string(next_temp_id_++));
    live_temps_.insert(temp_path.native());
  }
  int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    Status status = os_error("cannot create", temp_path, errno).with_context("writing " + object_label(name));
    release_temp(temp_path.native());
    return status;
  }
  return std::unique_ptr<StorageWriter>(
      new DirectoryWriter(this, std::string(name), std::move(final_path), std::move(temp_path), fd));
}

void DirectoryStorage::release_temp(const std::string& temp_path) {
  std::lock_guard lock(mutex_);
  live_temps_.erase(temp_path);
}

Status DirectoryStorage::read_span(std::string_view name, uint64_t offset, std::optional<uint64_t> length,
                                   std::string& out) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  fs::path path = root_ / fs::path(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return object_not_found(name, describe());
    return os_error("cannot open", path, errno).with_context("reading " + object_label(name));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return object_not_found(name, describe());
  }
  auto size = static_cast<uint64_t>(info.st_size);
  uint64_t count = length.value_or(size);
  if (offset > size || count > size - offset) {
    ::close(fd);
    return range_past_end(name, offset, count, size, describe());
  }
  out.resize(count);
  uint64_t done = 0;
  while (done < count) {
    ssize_t got = ::pread(fd, out.data() + done, count - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      Status status = got < 0 ? os_error("cannot read", path, errno)
                              : Status::io_error("file " + path.string() + " ended while reading it");
      ::close(fd);
      return status.with_context("reading " + object_label(name));
    }
    done += static_cast<uint64_t>(got);
  }
  ::close(fd);
  return Status::ok();
}

Result<std::string> DirectoryStorage::read(std::string_view name) {
  std::string out;
  STREAMSTATE_RETURN_IF_ERROR(read_span(name, 0, std::nullopt, out));
  return out;
}

Result<std::string> DirectoryStorage::read_range(std::string_view name, uint64_t offset, uint64_t length) {
  std::string out;
  STREAMSTATE_RETURN_IF_ERROR(read_span(name, offset, length, out));
  return out;
}

Result<std::vector<StoredObject>> DirectoryStorage::list(std::string_view prefix) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_prefix(prefix));
  std::vector<StoredObject> objects;
  // Walk only below the directory the prefix's complete segments name.
  size_t slash = prefix.rfind('/');
  fs::path start = root_;
  if (slash != std::string_view::npos) {
    // A prefix whose folder part no valid name can have matches nothing (and never leaves root).
    if (!validate_object_name(prefix.substr(0, slash)).is_ok()) return objects;
    start = root_ / fs::path(prefix.substr(0, slash));
  }
  std::error_code error;
  if (!fs::is_directory(start, error)) return objects;
  fs::recursive_directory_iterator it(start, error), end;
  for (; !error && it != end; it.increment(error)) {
    const fs::directory_entry& entry = *it;
    std::error_code entry_error;
    if (!entry.is_regular_file(entry_error) || is_incomplete_file(entry.path())) continue;
    std::string name = entry.path().lexically_relative(root_).generic_string();
    if (!name.starts_with(prefix)) continue;
    uint64_t size = entry.file_size(entry_error);
    if (entry_error) continue;  // removed while listing
    objects.push_back(StoredObject{std::move(name), size});
  }
  if (error) return Status::io_error("cannot list " + start.string() + ": " + error.message());
  std::sort(objects.begin(), objects.end(),
            [](const StoredObject& a, const StoredObject& b) { return a.name < b.name; });
  return objects;
}

Result<bool> DirectoryStorage::exists(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  fs::path path = root_ / fs::path(name);
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return os_error("cannot stat", path, errno);
  }
  return S_ISREG(info.st_mode);
}

Status DirectoryStorage::remove(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  fs::path path = root_ / fs::path(name);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::ok();
    return os_error("cannot remove", path, errno).with_context("removing " + object_label(name));
  }
  return sync_directory(path.parent_path());
}

Status DirectoryStorage::remove_incomplete() {
  std::error_code error;
  fs::recursive_directory_iterator it(root_, error), end;
  for (; !error && it != end; it.increment(error)) {
    std::error_code entry_error;
    if (!it->is_regular_file(entry_error) || !is_incomplete_file(it->path())) continue;
    std::lock_guard lock(mutex_);
    if (live_temps_.contains(it->path().native())) continue;
    if (::unlink(it->path().c_str()) != 0 && errno != ENOENT) {
      return os_error("cannot remove incomplete object file", it->path(), errno);
    }
  }
  if (error) return Status::io_error("cannot list " + root_.string() + ": " + error.message());
  return Status::ok();
}

std::string DirectoryStorage::describe() const { return "directory " + root_.string(); }

Status DirectoryStorage::sync_directories_up_to_root(const fs::path& directory) {
  STREAMSTATE_RETURN_IF_ERROR(sync_directory(directory));  // the rename inside it
  // Each folder's own entry in its parent must be durable too: once per folder, top down, so
  // that a folder in durable_folders_ implies all folders above it are durable as well.
  std::vector<fs::path> pending;
  {
    std::lock_guard lock(mutex_);
    for (fs::path current = directory; current != root_ && current.has_relative_path() &&
                                       !durable_folders_.contains(current.native());
         current = current.parent_path()) {
      pending.push_back(current);
    }
  }
  for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
    STREAMSTATE_RETURN_IF_ERROR(sync_directory(it->parent_path()));
    std::lock_guard lock(mutex_);
    durable_folders_.insert(it->native());
  }
  return Status::ok();
}

}  // namespace streamstate::storage

namespace streamstate {

Result<std::unique_ptr<CheckpointStorage>> open_directory_storage(const DirectoryStorageOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto storage, storage::DirectoryStorage::open(options));
  return std::unique_ptr<CheckpointStorage>(std::move(storage));
}

}  // namespace streamstate
