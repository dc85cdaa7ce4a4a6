// The files of a file source: resolving paths and glob patterns, and checking restored
// positions (streamstate/sources.h, FileSource).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/source.h"
#include "streamstate/sources.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// InvalidArgument for options a file source cannot use; `source` names it in the message.
Status check_file_options(const FileSourceOptions& options, std::string_view source);

// The files of `options`: its paths and every match of its globs, sorted and without
// duplicates. NotFound naming a path that does not exist or a pattern that matches nothing;
// InvalidArgument for a path that is not a regular file.
Result<std::vector<std::string>> resolve_files(const FileSourceOptions& options, std::string_view source);

// The byte offset `split` asks a reader to continue at, checked against the file: NotFound for
// a missing file, InvalidArgument for a position that is not a number, is beyond the file's
// size or is not the start of a line; each message names the file and the position.
Result<uint64_t> restored_offset(const SourceSplit& split, std::string_view source);

// "paths a, b and globs /data/*.csv", for describe().
std::string describe_files(const FileSourceOptions& options);

}  // namespace streamstate::internal
