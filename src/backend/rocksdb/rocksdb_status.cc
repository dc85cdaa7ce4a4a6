#include "backend/rocksdb/rocksdb_status.h"


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

}  // namespace

Status from_rocksdb(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return Status::ok();
  std::string message(context);
  message += ": ";
  message += status.ToString();
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
