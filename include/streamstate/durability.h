// Durability settings of backends that keep a write-ahead log (RocksDB): when a write is
// synced to disk, and what opening does with a damaged log. RocksDbBackendOptions takes them
// as enums; StateConfig carries them as text in backend_options ("sync", "wal_recovery"), so
// these are the names and their parsers. See docs/backends/rocksdb.md.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "streamstate/status.h"

namespace streamstate {

enum class SyncPolicy : uint8_t {
  // Writes reach the operating system before they are acknowledged: they survive a process
  // crash, not a power loss (RocksDB's default).
  kNone = 0,
  // Each write is fsynced before it is acknowledged: survives a power loss.
  kEveryWrite = 1,
};

// What opening does when replaying the write-ahead log finds a damaged record.
enum class WalRecovery : uint8_t {
  // Only an incomplete last record is tolerated (a write torn by a crash, which was never
  // acknowledged); a damaged record anywhere else fails open() with kCorruption naming the log
  // file, and nothing is dropped. RocksDB's kTolerateCorruptedTailRecords.
  kFailOnCorruption = 0,
  // Replays up to the first damaged record and drops the rest of that log: the database opens
  // as it was at some earlier point, and the writes after the damage are lost. The dropped bytes
  // are written to RocksDB's LOG and reported by RocksDbBackend::rocksdb_statistics().
  // RocksDB's kPointInTimeRecovery.
  kPointInTime = 1,
};

// "none", "every_write"; "unknown" for a value outside the enum.
inline std::string_view sync_policy_name(SyncPolicy policy) {
  switch (policy) {
    case SyncPolicy::kNone:
      return "none";
    case SyncPolicy::kEveryWrite:
      return "every_write";
  }
  return "unknown";
}

// "fail_on_corruption", "point_in_time"; "unknown" for a value outside the enum.
inline std::string_view wal_recovery_name(WalRecovery recovery) {
  switch (recovery) {
    case WalRecovery::kFailOnCorruption:
      return "fail_on_corruption";
    case WalRecovery::kPointInTime:
      return "point_in_time";
  }
  return "unknown";
}

// Parses sync_policy_name()'s names (exactly); the error names the valid ones.
inline Result<SyncPolicy> parse_sync_policy(std::string_view name) {
  if (name == "none") return SyncPolicy::kNone;
  if (name == "every_write") return SyncPolicy::kEveryWrite;
  return Status::invalid_argument("unknown sync policy \"" + std::string(name) +
                                  "\"; expected none or every_write");
}

// Parses wal_recovery_name()'s names (exactly); the error names the valid ones.
inline Result<WalRecovery> parse_wal_recovery(std::string_view name) {
  if (name == "fail_on_corruption") return WalRecovery::kFailOnCorruption;
  if (name == "point_in_time") return WalRecovery::kPointInTime;
  return Status::invalid_argument("unknown WAL recovery mode \"" + std::string(name) +
                                  "\"; expected fail_on_corruption or point_in_time");
}

}  // namespace streamstate
