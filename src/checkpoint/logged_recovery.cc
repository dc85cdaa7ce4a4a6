// recover_logged_backend: the latest checkpoint, then the write-ahead log after it.
#include "streamstate/checkpoint.h"
#include "streamstate/logged_backend.h"

namespace streamstate {

Result<LoggedRecoveryInfo> recover_logged_backend(LoggedBackend& backend, CheckpointStorage& storage,
                                                  const RestoreOptions& options) {
  LoggedRecoveryInfo info;
  Wal& log = backend.wal();
  const WalStatistics log_state = log.statistics();
  std::vector<SkippedCheckpoint> skipped;
  Result<CheckpointManifest> latest = latest_checkpoint(storage, &skipped);
  uint64_t from = 0;
  if (latest.is_ok()) {
    if (!latest->log_position.has_value()) {
      return Status::failed_precondition(
          "recover_logged_backend: checkpoint " + std::to_string(latest->id) + " in " + storage.describe() +
          " has no log position (it was not taken of a LoggedBackend); restore it with restore_checkpoint and "
          "replay the log yourself, or remove it");
    }
    from = *latest->log_position + 1;
  } else if (latest.status().code() != StatusCode::kNotFound) {
    return latest.status();
  }
  // Every record from `from` on must still be in the log: a gap would be silent loss.
  // Missing: records the log has handed out (up to last_sequence) but no longer keeps (before
  // first_sequence).
  const uint64_t needed = from == 0 ? 1 : from;
  if (needed < log_state.first_sequence && needed <= log_state.last_sequence) {
    return Status::failed_precondition(
        "recover_logged_backend: records from " + std::to_string(needed) + " on are needed, but the log in " +
        log.directory() + " starts at " + std::to_string(log_state.first_sequence) +
        (latest.is_ok() ? " (after checkpoint " + std::to_string(latest->id) + ")"
                        : " and " + storage.describe() + " holds no checkpoint") +
        "; the log was truncated past a checkpoint that is gone - restore an older copy of the checkpoints");
  }
  if (latest.is_ok()) {
    Result<RestoreInfo> restored = restore_checkpoint(storage, latest->id, backend.inner(), options);
    if (!restored.is_ok()) return restored.status();
    restored->skipped = std::move(skipped);
    info.checkpoint = latest->id;
    info.restored = std::move(restored).value();
  }
  info.replayed_from = std::max<uint64_t>(from, log_state.first_sequence);
  if (info.replayed_from <= log_state.last_sequence) {
    Result<uint64_t> replayed = backend.replay(info.replayed_from);
    if (!replayed.is_ok()) return replayed.status();
    info.records_replayed = *replayed;
  }
  return info;
}

}  // namespace streamstate
