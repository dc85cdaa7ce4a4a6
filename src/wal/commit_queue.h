// The group-commit machinery of the write-ahead log: appending threads encode their records
// into one shared buffer in sequence order, and whichever waiting thread finds no write in
// progress becomes the writer for everyone - it takes the whole buffer, writes it with one
// call and, when its caller needs durability, syncs once for every record in it. The others
// wait until their records are written (kWritten) or durable (kDurable). kOwnSync gives each
// call a write and a sync of its own (the every-append policy).
//
// Only the thread holding the writer role calls `flush`, so everything `flush` touches (the
// active segment, rotation) needs no other lock. After a failed flush the queue refuses all
// further work with that error: the file's state is unknown until the log is reopened.
//
// Thread-safety: all methods may be called from any number of threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate::wal {

class CommitQueue {
 public:
  // Writes the encoded records first..last (none when `records` is empty) and, when `sync`,
  // makes every record written so far durable.
  using Flush = std::function<Status(BytesView records, uint64_t first_sequence, uint64_t last_sequence, bool sync)>;
  // Appends the encoded records of one call to `out`, numbered from `first_sequence`.
  using Encode = std::function<void(std::string& out, uint64_t first_sequence)>;

  // kQueued: return as soon as the records are numbered and buffered (wait_for() waits later).
  enum class Wait : uint8_t { kWritten, kDurable, kOwnSync, kQueued };

  // Every record before next_sequence is taken to be durable already.
  CommitQueue(uint64_t next_sequence, Flush flush) : next_(next_sequence), written_(next_sequence - 1),
                                                     durable_(next_sequence - 1), flush_(std::move(flush)) {}

  // Numbers `count` records, encodes them and returns the first sequence number once `wait`
  // holds for all of them.
  Result<uint64_t> submit(uint64_t count, const Encode& encode, Wait wait);
  // Returns once record `sequence` (and every earlier one) is written (kWritten) or durable
  // (kDurable, kOwnSync), taking the writer role when it is free. kInvalidArgument for a
  // sequence never submitted.
  Status wait_for(uint64_t sequence, Wait wait);
  // Writes whatever is buffered and syncs everything written (no sync when nothing is new).
  Status sync_all();
  // Makes the records written so far durable by calling `sync` (which must sync everything
  // written before it was called) without taking the writer role, so appends go on meanwhile.
  // The periodic syncer's tick. OK without calling `sync` when nothing new was written.
  Status sync_written(const std::function<Status()>& sync);
  // Refuses further submissions with kClosed (naming `what`), then writes and syncs what was
  // submitted before. A second call returns OK.
  Status close(const std::string& what);

  struct Counters {
    uint64_t next_sequence = 0;
    uint64_t written_sequence = 0;
    uint64_t durable_sequence = 0;
    uint64_t records = 0;
    uint64_t calls = 0;
    uint64_t bytes = 0;
    uint64_t syncs = 0;
  };
  Counters counters() const;

 private:
  // Called with the writer role taken and `lock` held; returns with the lock held and the
  // role given back.
  void write_pending(std::unique_lock<std::mutex>& lock, bool sync);
  // With `lock` held: waits until `sequence` reached `wait` (kWritten or kDurable), becoming the
  // writer when the role is free; the queue's error when a write failed.
  Status wait_locked(std::unique_lock<std::mutex>& lock, uint64_t sequence, Wait wait);
  // Waits for the writer role, then write_pending(lock, true); returns the queue's error.
  Status write_and_sync(std::unique_lock<std::mutex>& lock);
  bool reached(uint64_t sequence, Wait wait) const {
    return (wait == Wait::kWritten ? written_ : durable_) >= sequence;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t next_;
  uint64_t written_;
  uint64_t durable_;
  std::string pending_;  // encoded records written_ + 1 .. next_ - 1
  std::string writing_;  // the buffer the writer is writing (kept for its capacity)
  bool writer_busy_ = false;
  bool closed_ = false;
  std::string closed_what_;
  Status failed_;
  uint64_t records_ = 0;
  uint64_t calls_ = 0;
  uint64_t bytes_ = 0;
  uint64_t syncs_ = 0;
  Flush flush_;
};

}  // namespace streamstate::wal
