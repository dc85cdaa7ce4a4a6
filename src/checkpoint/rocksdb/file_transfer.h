// Moving the files of a native RocksDB checkpoint between a local directory and a
// CheckpointStorage, each checked by size and XXH3, and a small parallel runner for doing
// several at once. Internal, shared by the RocksDB checkpoint writer and restore.
//
// Thread-safety: reentrant; the storage is thread-safe, each call uses its own files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct UploadedFile {
  uint64_t size = 0;
  uint64_t checksum = 0;  // XXH3-64 of the bytes uploaded
};

// Streams the local file into the object `object_name` (committed) and returns what was sent.
// kIoError naming the local path or the storage's error.
Result<UploadedFile> upload_local_file(CheckpointStorage& storage, const std::filesystem::path& local,
                                       const std::string& object_name);

// Reads `file` from the storage, checks its size and XXH3 against the manifest (kCorruption
// naming the object; kNotFound when it is missing) and writes it to `destination` (created,
// must not exist), synced. Returns the bytes read.
Result<uint64_t> download_checked_file(CheckpointStorage& storage, CheckpointId id, const CheckpointFile& file,
                                       const std::filesystem::path& destination);

// Local recovery: when `local` exists with the size and XXH3 `file` records, places it at
// `destination` (a hard link for a table file when possible, else a synced copy) and returns
// true; false when it is missing or differs (the caller downloads the file instead).
Result<bool> take_local_file(const std::filesystem::path& local, const CheckpointFile& file,
                             const std::filesystem::path& destination);

}  // namespace streamstate::internal
