#include "backend/rocksdb/rocksdb_status.h"

#include <filesystem>
#include <system_error>

namespace streamstate::internal {
namespace {

StatusCode code_of(const rocksdb::Status& status) {
  if (status.IsNotFound()) return StatusCode::kNotFound;
  if (status.IsCorruption()) return StatusCode::kCorruption;
  if (status.IsInvalidArgument() || status.IsNotSupported()) return StatusCode::kInvalidArgument;
  if (status.IsIOError() || status.IsNoSpace() || status.IsPathNotFound()) return StatusCode::kIoError;
  if (status.IsShutdownInProgress()) return StatusCode::kClosed;
  if (status.IsTimedOut()) return StatusCode::kTimeout;
  if (status.IsBusy() || status.IsTryAgain() || status.IsIncomplete()) return StatusCode::kUnavailable;
  if (status.IsAborted()) return StatusCode::kFailedPrecondition;
  return StatusCode::kInternal;
}

// RocksDB looks for a missing table file NNNNNN.sst under its legacy name NNNNNN.ldb too and
// reports that second name, which no file of this database ever had: name the .sst instead.
std::string name_missing_tables_as_on_disk(std::string text) {
  constexpr std::string_view kLegacy = ".ldb";
  for (size_t at = text.find(kLegacy); at != std::string::npos; at = text.find(kLegacy, at + 1)) {
    size_t begin = at;
    while (begin > 0 && text[begin - 1] != ' ' && text[begin - 1] != '\'') --begin;
    const std::string legacy = text.substr(begin, at + kLegacy.size() - begin);
    const std::string table = legacy.substr(0, legacy.size() - kLegacy.size()) + ".sst";
    std::error_code error;
    if (std::filesystem::exists(legacy, error)) continue;
    text.replace(begin, legacy.size(), table);
  }
  return text;
}

}  // namespace

std::string rocksdb_message(const rocksdb::Status& status) {
  std::string text = status.ToString();
  // ToString() is "<code>: <subcode>: <message>"; the code is what our StatusCode already says
  // for these, so only the rest is kept.
  const bool same_code = status.IsNotFound() || status.IsCorruption() || status.IsInvalidArgument() ||
                         status.IsIOError() || status.IsTimedOut();
  const size_t separator = text.find(": ");
  if (same_code && separator != std::string::npos) {
    // RocksDB sometimes wraps a status of the same code in another ("Corruption: Corruption: ...").
    const std::string prefix = text.substr(0, separator + 2);
    do {
      text.erase(0, prefix.size());
    } while (text.starts_with(prefix));
  }
  return name_missing_tables_as_on_disk(std::move(text));
}

Status from_rocksdb(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return Status::ok();
  std::string message(context);
  message += ": ";
  message += rocksdb_message(status);
  return Status(code_of(status), std::move(message));
}

bool is_lock_error(const rocksdb::Status& status) {
  if (!status.IsIOError()) return false;
  // RocksDB reports "While lock file: <dir>/LOCK: ..." when another process holds the lock
  // and "lock hold by current process ..." when another DB object of this process does.
  const std::string text = status.ToString();
  return text.find("While lock file") != std::string::npos ||
         text.find("lock hold by current process") != std::string::npos;
}


}  // namespace streamstate::internal
