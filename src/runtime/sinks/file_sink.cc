// The exactly-once file sink (streamstate/sinks.h): options, the staging folder, commit and
// recover. The writers are in file_sink_writer.cc, a transaction's publishing in
// file_transaction.cc.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>
#include <utility>

#include "runtime/sinks/file_sink_writer.h"
#include "runtime/sinks/file_transaction.h"
#include "streamstate/sinks.h"
#include "util/status_macros.h"
#include "wal/file_io.h"

namespace streamstate {
namespace {

using internal::FileLineWriter;
using internal::FileSinkLayout;
using internal::FileTransaction;

constexpr const char* kStagingSuffix = ".in-progress";

Status validate(const FileSinkOptions& options) {
  if (options.directory.empty()) {
    return Status::invalid_argument("FileSinkOptions::directory is empty; name the directory the part files go to");
  }
  const std::string& prefix = options.prefix;
  bool plain = !prefix.empty() && prefix.size() <= 100 && prefix[0] != '.';
  for (char c : prefix) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-' || c == '.');
  }
  if (!plain) {
    return Status::invalid_argument("FileSinkOptions::prefix \"" + prefix +
                                    "\" must be 1..100 characters of [A-Za-z0-9_.-], not starting with '.'");
  }
  if (options.suffix.find('/') != std::string::npos || options.suffix.find('\0') != std::string::npos) {
    return Status::invalid_argument("FileSinkOptions::suffix \"" + options.suffix + "\" must not contain '/'");
  }
  if (options.roll_bytes == 0) return Status::invalid_argument("FileSinkOptions::roll_bytes must be > 0");
  if (options.roll_millis < 0) return Status::invalid_argument("FileSinkOptions::roll_millis must be >= 0");
  if (options.header.find('\n') != std::string::npos) {
    return Status::invalid_argument("FileSinkOptions::header must be one line, without '\\n'");
  }
  return Status::ok();
}

// Creates `folder` (and its parents) when missing; IoError naming it and saying what to do.
Status create_folder(const std::filesystem::path& folder, const char* role) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error || !std::filesystem::is_directory(folder)) {
    return Status::io_error(std::string("cannot create the file sink's ") + role + " " + folder.string() + ": " +
                            (error ? error.message() : "a file of that name is in the way") +
                            "; create it, make its parent writable, or set FileSinkOptions::directory to a "
                            "directory this process may write");
  }
  return Status::ok();
}

// Creates and removes a file in `folder`, so that an unwritable directory fails now, not at the
// first record.
Status check_writable(const std::filesystem::path& folder) {
  const std::filesystem::path probe = folder / (".write-check-" + std::to_string(::getpid()));
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const std::string reason = std::error_code(errno, std::generic_category()).message();
    return Status::io_error("the file sink directory " + folder.parent_path().string() +
                            " is not writable (cannot create a file in " + folder.string() + ": " + reason +
                            "); give this process write permission there or set FileSinkOptions::directory to "
                            "another directory");
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return Status::ok();
}

class FileLineSink final : public Sink<std::string> {
 public:
  explicit FileLineSink(std::shared_ptr<const FileSinkLayout> layout) : layout_(std::move(layout)) {}

  Result<std::unique_ptr<SinkWriter<std::string>>> open_writer(const SinkWriterContext& context) override {
    STREAMSTATE_RETURN_IF_ERROR(create_folder(layout_->staging, "staging folder"));
    STREAMSTATE_RETURN_IF_ERROR(check_writable(layout_->staging));
    return std::unique_ptr<SinkWriter<std::string>>(new FileLineWriter(layout_, context));
  }

  Status commit(const std::string& committable) override {
    if (committable.empty()) return Status::ok();
    STREAMSTATE_ASSIGN_OR_RETURN(FileTransaction transaction, internal::decode_file_transaction(committable, describe()));
    if (transaction.prefix != layout_->prefix) {
      return Status::invalid_argument("file sink " + describe() + ": the committable is of the sink with prefix \"" +
                                      transaction.prefix + "\", this one's is \"" + layout_->prefix + "\"");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return internal::publish_file_transaction(transaction, layout_->staging, layout_->directory);
  }

  Status recover(const std::vector<std::string>& committables) override {
    for (const std::string& committable : committables) {
      STREAMSTATE_RETURN_IF_ERROR(commit(committable).with_context("recovering"));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return discard_staged();
  }

  bool exactly_once() const override { return true; }
  std::string describe() const override {
    return "files " + layout_->directory.string() + "/" + layout_->prefix + "-*" + layout_->suffix;
  }

 private:
  // Removes every file left in the staging folder: after the commits of recover() none of them
  // belongs to a transaction the restored checkpoint covers.
  Status discard_staged() {
    std::error_code error;
    if (!std::filesystem::exists(layout_->staging, error)) return Status::ok();
    std::vector<std::filesystem::path> staged;
    for (auto it = std::filesystem::directory_iterator(layout_->staging, error);
         !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
      staged.push_back(it->path());
    }
    if (error) {
      return Status::io_error("cannot list the staging folder " + layout_->staging.string() + ": " + error.message());
    }
    for (const std::filesystem::path& path : staged) {
      std::filesystem::remove(path, error);
      if (error) {
        return Status::io_error("cannot remove the uncommitted part file " + path.string() + ": " + error.message());
      }
    }
    return staged.empty() ? Status::ok() : wal::sync_directory(layout_->staging);
  }

  std::shared_ptr<const FileSinkLayout> layout_;
  std::mutex mutex_;  // one commit or recover at a time
};

}  // namespace

Result<std::unique_ptr<Sink<std::string>>> file_line_sink(const FileSinkOptions& options) {
  STREAMSTATE_RETURN_IF_ERROR(validate(options));
  auto layout = std::make_shared<FileSinkLayout>();
  layout->directory = std::filesystem::path(options.directory).lexically_normal();
  if (!layout->directory.has_filename() && layout->directory.has_parent_path()) {
    layout->directory = layout->directory.parent_path();  // "out/" -> "out"
  }
  layout->staging = layout->directory / ("." + options.prefix + kStagingSuffix);
  layout->prefix = options.prefix;
  layout->suffix = options.suffix;
  layout->roll_bytes = options.roll_bytes;
  layout->roll_millis = options.roll_millis;
  layout->header = options.header;
  layout->clock = options.clock != nullptr ? options.clock : system_clock();
  STREAMSTATE_RETURN_IF_ERROR(create_folder(layout->directory, "directory"));
  STREAMSTATE_RETURN_IF_ERROR(create_folder(layout->staging, "staging folder"));
  STREAMSTATE_RETURN_IF_ERROR(check_writable(layout->staging));
  return std::unique_ptr<Sink<std::string>>(new FileLineSink(std::move(layout)));
}

}  // namespace streamstate
