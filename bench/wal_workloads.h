// The work the `wal` suite times: appends to a streamstate::Wal from several threads (single
// records or batches, under a given sync policy) and, as a baseline, a hand-written loop that
// writes the same framed records to a file with write() + fdatasync() per record. Each run
// starts from an empty directory and reports what it wrote to disk.
//
// Thread-safety: each function runs its own threads and joins them before returning.
#pragma once

#include <cstdint>
#include <string>

#include "dataset.h"
#include "streamstate/status.h"
#include "streamstate/wal.h"

namespace streamstate::bench {

struct WalRun {
  double seconds = 0;
  uint64_t records = 0;
  uint64_t bytes_on_disk = 0;  // segment files after the run, headers included
  uint64_t syncs = 0;          // fdatasync calls that made records durable
};

struct WalWorkload {
  std::string directory;  // created empty by the caller's scratch directory; removed after
  WalSyncPolicy sync = WalSyncPolicy::kGroupCommit;
  int threads = 1;
  uint64_t records = 0;  // in total, split evenly between the threads
  uint64_t batch = 1;    // records per append_batch(); 1 = append()
};

// Appends data.value(i) for i < records (record i by thread i % threads), timed from the
// start of all threads to the last append's return.
Result<WalRun> run_wal_appends(const WalWorkload& workload, const Dataset& data);

// The baseline of every-append sync: the same records framed as the log frames them, written
// one write() + fdatasync() each to one file that starts with a segment header.
Result<WalRun> run_raw_write_sync_loop(const std::string& directory, uint64_t records, const Dataset& data);

// Opens the log in `directory` (recovery reads and checks every record), then replays it
// from the start; `seconds` times the replay only, `open_seconds` the open. Fails unless the
// replay returns `records` records.
struct WalReplayRun {
  double open_seconds = 0;
  double seconds = 0;
  uint64_t records = 0;
  uint64_t checksum = 0;  // sum of payload sizes and first bytes, the same for the baseline
};
Result<WalReplayRun> run_wal_replay(const std::string& directory, uint64_t records);

// The baseline of replay: reads the same segment files with read() in 1 MiB pieces and checks
// each record's length and XXH3 as the log's framing says, without the log's classes.
Result<WalReplayRun> run_raw_replay(const std::string& directory, uint64_t records);

}  // namespace streamstate::bench
