// Wal: a write-ahead log of numbered records in a directory of segment files. A program appends
// records (a type byte and a payload) and gets back their sequence numbers; after a crash it
// opens the directory again and replays the records from a sequence number on. The memory
// backend and the runtime build their durability on it; it is also usable on its own.
//
//   WalOptions options;
//   options.directory = "/var/lib/job/wal";
//   auto wal = Wal::open(options);                       // recovers what is there
//   Result<uint64_t> sequence = (*wal)->append(1, "put k v");  // durable once it returns
//   (*wal)->replay(0, [](const WalRecordView& r) { ...; return Status::ok(); });
//   (*wal)->truncate_before(checkpointed_through + 1);     // drop segments a checkpoint covers
//
// On disk: segment files "<20-digit segment id>.wal", each a header followed by records
// [length | type | sequence | payload | XXH3 checksum] (docs/formats.md, "Write-ahead log").
// Sequence numbers start at 1 and grow by one per record across segments; the number of a
// durable record is never given to another (records that never reached the disk, or that
// recovery drops, leave their numbers to the next appends).
//
// Recovery (open): every segment is read and checked. A torn or corrupt tail of the last
// segment (an append a crash cut short, which was never acknowledged) is cut off, so new
// records never follow garbage; statistics() reports the bytes dropped, the file and the
// offset. Damage anywhere else - a bad record followed by intact ones, a gap in sequence
// numbers, a missing or damaged segment - fails open() with kCorruption naming the segment file
// and byte offset: nothing is dropped silently (unless WalOptions::recovery asks for
// point-in-time recovery). See docs/wal.md.
//
// Errors: kInvalidArgument for bad options or a record over max_record_bytes, kCorruption for
// damaged files, kIoError for operating-system failures (naming the path), kFailedPrecondition
// when another Wal has the directory open, kClosed after close(). After a failed write or sync
// the log accepts no more appends (the state of the file is unknown): reopen it, which recovers.
//
// Thread-safety: every method may be called from any number of threads at once. Concurrent
// appends are ordered by the sequence numbers they get; under kGroupCommit they share syncs.
// replay() may run beside appends and sees the records appended before it started. A replay
// callback must not call replay(), truncate_before() or close() on the same log (it could deadlock).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "streamstate/bytes.h"
#include "streamstate/durability.h"
#include "streamstate/status.h"

namespace streamstate {

// When an append is made durable (fdatasync) relative to its acknowledgement. Under every
// policy an acknowledged record has been handed to the operating system, so it survives the
// death of the process (kill -9); the policies differ in what survives a power loss or an
// operating-system crash.
enum class WalSyncPolicy : uint8_t {
  // Each append() / append_batch() call writes and fdatasyncs its records before returning:
  // one sync per call, calls from different threads take turns. Survives a power loss.
  kEveryAppend = 0,
  // Appends from concurrent threads are written together and share one fdatasync: whichever
  // waiting thread is free syncs for all of them. A call returns only once its records are
  // durable, so it guarantees what kEveryAppend does, with fewer syncs under concurrency.
  kGroupCommit = 1,
  // Appends return once written; a background thread fdatasyncs every sync_interval. A power
  // loss can cost the records of the last interval.
  kPeriodic = 2,
  // Appends return once written; the log syncs only when a segment is closed, on sync() and on
  // close(). A power loss can cost every record since then.
  kNone = 3,
};

// "every_append", "group_commit", "periodic", "none"; "unknown" outside the enum.
std::string_view wal_sync_policy_name(WalSyncPolicy policy);
// Parses wal_sync_policy_name()'s names; the error lists the valid ones.
Result<WalSyncPolicy> parse_wal_sync_policy(std::string_view name);

struct WalOptions {
  // The directory holding the segments. Required. One Wal at a time may have it open (a lock
  // file, "LOCK", is held while it is open).
  std::string directory;
  // Create the directory (and its parents) when it does not exist. Default: true.
  bool create_if_missing = true;
  // A new segment is started once the active one holds at least this many bytes; a segment
  // can exceed it by one write. Default: 64 MiB. Minimum: 4 KiB.
  uint64_t segment_bytes = 64ULL << 20;
  // Default: kGroupCommit.
  WalSyncPolicy sync = WalSyncPolicy::kGroupCommit;
  // kPeriodic only: how often the background thread syncs. Default: 100 ms. Must be positive.
  std::chrono::milliseconds sync_interval{100};
  // The largest payload append() accepts, and the largest record length recovery and replay
  // believe: a length field above it is damage, so no decoder allocates from a corrupt length.
  // Default: 16 MiB. At most 1 GiB.
  uint32_t max_record_bytes = 16U << 20;
  // What open() does with damage that is not a torn tail. kFailOnCorruption (default): fail
  // with kCorruption, change nothing. kPointInTime: keep the log up to the first damage, cut
  // the segment there and delete the segments after it (reported in statistics()); use it to
  // reopen a log written with kPeriodic or kNone after a power loss, which can leave holes in
  // the unsynced end. The first segment's header must be intact either way.
  WalRecovery recovery = WalRecovery::kFailOnCorruption;
};

// One record as replay() hands it over; the payload view is valid during the callback only.
struct WalRecordView {
  uint64_t sequence = 0;
  uint8_t type = 0;
  BytesView payload;
};

// One record of append_batch(). Type 0 is reserved (it marks zero-filled damage), so types
// are 1 to 255.
struct WalRecordInput {
  uint8_t type = 1;
  BytesView payload;
};

struct WalStatistics {
  uint64_t appends = 0;        // records appended since open
  uint64_t append_calls = 0;   // append() and append_batch() calls that succeeded
  uint64_t bytes = 0;          // bytes of records written since open (framing included)
  uint64_t syncs = 0;          // fdatasync calls that made appended records durable
  uint64_t segments = 0;       // segment files in the directory now
  uint64_t segments_created = 0;  // since open, the first one of a new log included
  uint64_t segments_removed = 0;  // by truncate_before() since open
  uint64_t first_sequence = 0;    // the oldest sequence number still in the log (or the next
                                  // one to be assigned when the log holds no record)
  uint64_t last_sequence = 0;     // the newest sequence number assigned; first_sequence - 1
                                  // when the log holds no record
  uint64_t durable_sequence = 0;  // every record up to this one has been fdatasynced
  // What recovery cut off the end of the last segment when this Wal was opened: bytes dropped,
  // the file, the byte offset where the damage began and why. 0 and empty when nothing was.
  uint64_t recovery_dropped_bytes = 0;
  std::string recovery_dropped_file;
  uint64_t recovery_dropped_offset = 0;
  std::string recovery_dropped_reason;
  // kPointInTime: whole segments deleted after the damage (their bytes are in
  // recovery_dropped_bytes).
  uint64_t recovery_removed_segments = 0;
};

class WalImpl;

class Wal {
 public:
  // Opens the log in options.directory, creating the directory and the first segment when
  // needed, and recovers it (see the file comment).
  static Result<std::unique_ptr<Wal>> open(const WalOptions& options);

  // Closes the log (close(), errors ignored).
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends one record and returns its sequence number once the sync policy is satisfied.
  // type: 1 to 255. payload: at most max_record_bytes.
  Result<uint64_t> append(uint8_t type, BytesView payload);
  // Appends the records in one write with at most one fdatasync (a segment never splits a
  // batch) and returns the sequence number of the first; record i gets first + i. Not empty.
  Result<uint64_t> append_batch(std::span<const WalRecordInput> records);
  // The two halves of append(), for callers that must fix the order of their records under a
  // lock of their own and wait for durability outside it (so one slow fdatasync does not hold
  // that lock): enqueue() numbers and buffers the record and returns its sequence number at
  // once, without writing it; wait_for(sequence) returns once that record and every earlier
  // one meet the sync policy (durable under kEveryAppend and kGroupCommit - enqueued records
  // share one write and one fdatasync, as in group commit - written under kPeriodic and
  // kNone), writing and syncing itself when no other thread is. A record is not acknowledged
  // until wait_for returned OK for it; nothing enqueued is written before someone waits, syncs
  // or closes. kInvalidArgument for a sequence number never handed out.
  Result<uint64_t> enqueue(uint8_t type, BytesView payload);
  Result<uint64_t> enqueue_batch(std::span<const WalRecordInput> records);
  Status wait_for(uint64_t sequence);
  // Makes every record appended so far durable, whatever the policy.
  Status sync();

  // Calls `visit` with every record whose sequence number is at least from_sequence, in order
  // (from_sequence 0: from the oldest record kept). Stops at the first non-OK status `visit`
  // returns and returns it. kOutOfRange when from_sequence is below the oldest record kept
  // (truncate_before() removed the ones asked for); kCorruption naming the file and offset of
  // damaged bytes.
  Status replay(uint64_t from_sequence, const std::function<Status(const WalRecordView&)>& visit);

  // Deletes, oldest first, every segment whose records all have sequence numbers below
  // `sequence` (a checkpoint that covers everything through sequence C calls it with C + 1).
  // The active segment is never deleted. Returns the number of segments deleted.
  Result<uint64_t> truncate_before(uint64_t sequence);

  WalStatistics statistics() const;

  // Writes and syncs what is pending, stops the periodic syncer and closes the files. Further
  // calls return kClosed. Calling it again returns OK.
  Status close();

  const std::string& directory() const;

 private:
  explicit Wal(std::unique_ptr<WalImpl> impl);
  std::unique_ptr<WalImpl> impl_;
};

}  // namespace streamstate
