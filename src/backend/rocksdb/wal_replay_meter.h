// WalReplayMeter: measures how much of the write-ahead log RocksDB replays at open, so that
// open() can name a damaged log file and report the bytes a recovery dropped.
//
// RocksDB does not report either figure through its API (only its LOG mentions a corruption,
// without the bytes after it), so they are measured: the log files and their sizes are listed
// before DB::Open, and a rocksdb::WalFilter installed for the open sees each record RocksDB
// replays. Records are framed in 32 KiB blocks of 7-byte-header fragments, with block tails
// shorter than a header left as padding; replaying the framing of the records seen gives the
// offset where replay of each file stopped. Bytes past that offset were dropped.
//
// Not counted: log files older than every column family's log number (RocksDB skips them,
// their writes are already in table files). Assumes RocksDB's defaults for the log format
// (no recycled log files, no log compression), which make_rocksdb_options keeps.
//
// Thread-safety: RocksDB calls the filter from the thread running DB::Open; read the results
// after DB::Open returned.
#pragma once

#include <rocksdb/wal_filter.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "streamstate/rocksdb.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// One write-ahead log file found in the database directory before open.
struct WalFile {
  uint64_t number = 0;
  std::string path;
  uint64_t size = 0;
};

// The write-ahead log files (NNNNNN.log) in `directory`, by ascending number; none when the
// directory does not exist.
Result<std::vector<WalFile>> list_wal_files(const std::string& directory);

// Where replay of a log file stopped.
struct WalReplay {
  uint64_t end_offset = 0;  // the end of the last record replayed
  uint64_t records = 0;
};

// The file at fault and how far replay got in it.
struct DamagedWal {
  std::string path;
  uint64_t replayed_bytes = 0;
  uint64_t size = 0;
};

class WalReplayMeter final : public rocksdb::WalFilter {
 public:
  explicit WalReplayMeter(std::vector<WalFile> files) : files_(std::move(files)) {}

  void ColumnFamilyLogNumberMap(const std::map<uint32_t, uint64_t>& log_number_by_family,
                                const std::map<std::string, uint32_t>& family_ids) override;
  WalProcessingOption LogRecordFound(unsigned long long log_number, const std::string& log_file_name,
                                     const rocksdb::WriteBatch& batch, rocksdb::WriteBatch* new_batch,
                                     bool* batch_changed) override;
  // No name: RocksDB records a named filter in its OPTIONS file ("wal_filter=<name>"), and
  // its tools could not load a file naming a filter they do not know.
  const char* Name() const override { return ""; }

  // The figures of the open that just ran (the wal_* fields of RocksDbStatistics).
  void fill(RocksDbStatistics& statistics) const;
  // The first replayed file whose replay stopped before its end, or an empty path (also when
  // DB::Open failed before replaying the log, e.g. on a damaged MANIFEST).
  DamagedWal first_damaged() const;

 private:
  // Files RocksDB replays: those not older than every column family's log number.
  bool replayed(const WalFile& file) const { return file.number >= oldest_needed_log_; }
  WalReplay replay_of(uint64_t number) const;

  const std::vector<WalFile> files_;
  bool replay_started_ = false;
  uint64_t oldest_needed_log_ = 0;
  std::map<uint64_t, WalReplay> replays_;
};

}  // namespace streamstate::internal
