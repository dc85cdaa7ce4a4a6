// A fresh directory for a suite's on-disk data, removed with everything in it when the
// ScratchDir is destroyed. It is created inside BenchOptions::dir (or the system temp
// directory) with a unique name, so it never touches data that was there before.
//
// Thread-safety: not shared between threads.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "streamstate/status.h"

namespace streamstate::bench {

class ScratchDir {
 public:
  // Creates `parent` if needed and a new directory streamstate-bench-XXXXXX inside it.
  static Result<std::unique_ptr<ScratchDir>> create(const std::string& parent);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name as a string; the caller creates it.
  std::string subdirectory(const std::string& name) const { return (path_ / name).string(); }
  // Removes path() / name and everything in it.
  Status remove(const std::string& name) const;

 private:
  explicit ScratchDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace streamstate::bench
