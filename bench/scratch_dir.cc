// Creation and removal of benchmark scratch directories.
#include "scratch_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace streamstate::bench {

Result<std::unique_ptr<ScratchDir>> ScratchDir::create(const std::string& parent) {
  std::error_code error;
  std::filesystem::path base =
      parent.empty() ? std::filesystem::temp_directory_path(error) : std::filesystem::path(parent);
  if (error) return Status::io_error("cannot find the temp directory: " + error.message() + "; pass --dir");
  std::filesystem::create_directories(base, error);
  if (error) {
    return Status::io_error("cannot create benchmark directory " + base.string() + ": " + error.message() +
                            "; pass a writable --dir");
  }
  std::string pattern = (base / "streamstate-bench-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return Status::io_error("cannot create a directory in " + base.string() + ": " + std::strerror(errno) +
                            "; pass a writable --dir");
  }
  return std::unique_ptr<ScratchDir>(new ScratchDir(std::filesystem::path(buffer.data())));
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;  // Best effort: a leftover temp directory is not worth failing over.
  std::filesystem::remove_all(path_, ignored);
}

Status ScratchDir::remove(const std::string& name) const {
  std::error_code error;
  std::filesystem::remove_all(path_ / name, error);
  if (error) return Status::io_error("cannot remove " + (path_ / name).string() + ": " + error.message());
  return Status::ok();
}

}  // namespace streamstate::bench
