// Resolving a file source's files and checking restored positions (file_splits.h).

#include "runtime/sources/file_splits.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <system_error>

#include "runtime/sources/line_reader.h"

namespace streamstate::internal {

namespace {

// The size of the regular file `path`, or the error naming it.
Result<uint64_t> regular_file_size(const std::string& path, std::string_view source) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    const int error = errno;
    if (error == ENOENT) {
      return Status::not_found(std::string(source) + ": file " + path +
                               " does not exist (check FileSourceOptions::paths)");
    }
    return Status::io_error(std::string(source) + ": cannot stat " + path + ": " + std::strerror(error));
  }
  if (!S_ISREG(info.st_mode)) {
    return Status::invalid_argument(std::string(source) + ": " + path +
                                    " is not a regular file (a file source reads files, not directories)");
  }
  return static_cast<uint64_t>(info.st_size);
}

}  // namespace

Status check_file_options(const FileSourceOptions& options, std::string_view source) {
  if (options.paths.empty() && options.globs.empty()) {
    return Status::invalid_argument(std::string(source) +
                                    ": no file to read: set FileSourceOptions::paths or FileSourceOptions::globs");
  }
  if (options.read_buffer_bytes == 0) {
    return Status::invalid_argument(std::string(source) + ": FileSourceOptions::read_buffer_bytes is 0");
  }
  if (options.max_record_bytes == 0) {
    return Status::invalid_argument(std::string(source) + ": FileSourceOptions::max_record_bytes is 0");
  }
  return Status::ok();
}

Result<std::vector<std::string>> resolve_files(const FileSourceOptions& options, std::string_view source) {
  Status valid = check_file_options(options, source);
  if (!valid.is_ok()) return valid;
  std::vector<std::string> files;
  for (const std::string& path : options.paths) {
    Result<uint64_t> size = regular_file_size(path, source);
    if (!size.is_ok()) return size.status();
    files.push_back(path);
  }
  for (const std::string& pattern : options.globs) {
    glob_t matches{};
    const int result = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &matches);
    if (result == GLOB_NOMATCH) {
      globfree(&matches);
      return Status::not_found(std::string(source) + ": glob pattern '" + pattern +
                               "' matches no file (check FileSourceOptions::globs)");
    }
    if (result != 0) {
      globfree(&matches);
      return Status::io_error(std::string(source) + ": cannot expand glob pattern '" + pattern + "'" +
                              (result == GLOB_ABORTED ? ": a directory could not be read" : ""));
    }
    size_t regular = 0;
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      const std::string path = matches.gl_pathv[i];
      struct stat info {};
      if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
        files.push_back(path);
        ++regular;
      }
    }
    globfree(&matches);
    if (regular == 0) {
      return Status::not_found(std::string(source) + ": glob pattern '" + pattern +
                               "' matches no regular file (check FileSourceOptions::globs)");
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

Result<uint64_t> restored_offset(const SourceSplit& split, std::string_view source) {
  Result<uint64_t> size = regular_file_size(split.id, source);
  if (!size.is_ok()) return size.status();
  uint64_t offset = 0;
  if (!split.position.empty()) {
    const char* end = split.position.data() + split.position.size();
    auto [ptr, error] = std::from_chars(split.position.data(), end, offset);
    if (error != std::errc() || ptr != end) {
      return Status::invalid_argument(std::string(source) + ": position '" + split.position + "' of " + split.id +
                                      " is not a byte offset (a decimal number)");
    }
  }
  if (offset > *size) {
    return Status::invalid_argument(std::string(source) + ": position " + split.position + " of " + split.id +
                                    " is beyond the file's size (" + std::to_string(*size) +
                                    " bytes): the file was truncated or replaced since the checkpoint");
  }
  Status line_start = check_line_start(split.id, offset, *size);
  if (!line_start.is_ok()) return line_start.with_context(source);
  return offset;
}

std::string describe_files(const FileSourceOptions& options) {
  std::string text;
  auto add = [&text](const std::vector<std::string>& names, const char* label) {
    if (names.empty()) return;
    if (!text.empty()) text += " and ";
    text += label;
    for (size_t i = 0; i < names.size(); ++i) text += (i == 0 ? " " : ", ") + names[i];
  };
  add(options.paths, "files");
  add(options.globs, "globs");
  return text;
}

}  // namespace streamstate::internal
