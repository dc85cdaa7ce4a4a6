// A pre-committed transaction of the file sink - the part files it staged and the names they
// get when published - its committable (JSON) encoding, and publishing it.
//
// Committable: {"format":"streamstate.file-sink","version":1,"prefix":P,
//               "parts":[{"in_progress":N,"final":F,"bytes":B},...]}
// Names are file names (no directory): in-progress ones in the sink's staging folder, final
// ones in its directory, so a committable stays valid when the directory is moved.
//
// Publishing a part is idempotent: the in-progress file is renamed to its final name; a part
// whose in-progress file is gone and whose final file has the recorded size was published
// before. Any other state is an error naming the file (Corruption or DataLoss).
//
// Thread-safety: reentrant; publishing two committables naming the same files concurrently
// is the caller's to avoid (the sink serializes its commits).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "streamstate/status.h"

namespace streamstate::internal {

struct FilePart {
  std::string in_progress;  // file name in the staging folder
  std::string final_name;   // file name in the sink's directory
  uint64_t bytes = 0;
};

struct FileTransaction {
  std::string prefix;  // the sink's FileSinkOptions::prefix
  std::vector<FilePart> parts;
};

std::string encode_file_transaction(const FileTransaction& transaction);
// Corruption (naming `sink`) when `committable` is not a file sink's committable, or names a
// path instead of a file name.
Result<FileTransaction> decode_file_transaction(const std::string& committable, const std::string& sink);

// Publishes every part (renames it from `staging` into `directory`), then syncs both
// directories. Parts published before are skipped.
Status publish_file_transaction(const FileTransaction& transaction, const std::filesystem::path& staging,
                                const std::filesystem::path& directory);

}  // namespace streamstate::internal
