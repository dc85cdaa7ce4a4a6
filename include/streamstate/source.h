// Sources of a pipeline: where records come from, and how a source remembers where it is so
// that a restored pipeline continues exactly after the records its checkpoint covered.
//
// A source is divided into splits - the units that can be read independently and that carry
// their own position: a file, a Redis stream key, one partition of a generator. At the first
// start the runtime asks the Source for its splits (discover_splits) and deals them out to the
// source's instances (split i to instance i % parallelism). Each instance reads its splits
// through a SourceReader on its own thread. At a checkpoint the runtime stores every split's
// position (SourceReader::splits) in the checkpoint; a restored pipeline deals the stored
// splits out again - to any parallelism - and each reader resumes from its split's position.
// A position is opaque to the runtime: a byte offset, a stream entry id, a record count.
//
// Replaying from a position must give the same records in the same order as the first time
// (the generator is seeded; files and streams are immutable before their end), which is what
// makes exactly-once processing possible.
//
// Thread-safety: discover_splits and open_reader are called from the thread that starts the
// pipeline; a SourceReader is used by one thread at a time (its instance's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/status.h"

namespace streamstate {

// One independently readable part of a source and how far it has been read. `id` is stable
// across restarts (a path, a stream key, "partition-3"); `position` is what the reader needs
// to continue after the records returned so far ("" = from the beginning).
struct SourceSplit {
  std::string id;
  std::string position;
  friend bool operator==(const SourceSplit&, const SourceSplit&) = default;
};

// What to do with a malformed record: a line a file source cannot parse (the poll fails naming
// the file, line, byte offset and the parser's message, or the line is skipped and counted by
// FileSource::skipped_records), or a record key_by cannot extract a key from
// (OperatorOptions::malformed_records: the pipeline fails naming the operator, the record, the
// source's position and the cause, or the record is dropped and counted).
enum class MalformedRecords : uint8_t {
  kFail,
  kSkip,
};

// Where a poll left the reader.
enum class SourcePoll : uint8_t {
  kMore,  // records may be available right away: poll again
  kIdle,  // nothing now (an unbounded source waiting for data): the runtime polls again soon
  kEnd,   // every split is exhausted: a bounded source is done
};

// Collects the records of one poll. A record may carry its event time (milliseconds since the
// epoch); records without one get the source's timestamp assigner's, if any.
//
// Watermarks per split: a reader that reads several splits side by side says which split the
// records it emits come from (select_split, an index into its splits()) and when a split is
// exhausted (finish_split). The instance's watermark then follows the lowest of its own
// watermarks over the splits that emitted records and did not finish, so a split that lags
// behind another (after a restore, say) never makes its records late. A reader that never
// calls select_split gets one watermark over all its records: right for a reader that emits
// in event-time order across its splits (the generator) or reads one split after another
// (files).
template <typename T>
class SourceOutput {
 public:
  virtual ~SourceOutput() = default;
  virtual void emit(T record) = 0;
  virtual void emit(T record, int64_t event_time_millis) = 0;
  virtual void select_split(size_t split_index) = 0;
  virtual void finish_split(size_t split_index) = 0;
};

// What the runtime tells a reader about its place in the pipeline.
struct SourceReaderContext {
  std::string source_name;
  uint32_t instance = 0;     // this reader's instance, 0-based
  uint32_t parallelism = 1;  // instances of the source
};

// Reads the splits of one source instance.
template <typename T>
class SourceReader {
 public:
  virtual ~SourceReader() = default;
  // Emits up to about `max_records` records (a hint) and says whether more may follow.
  // Errors fail the pipeline, naming the source: say which split and position failed.
  virtual Result<SourcePoll> poll(SourceOutput<T>& out, size_t max_records) = 0;
  // Every split of this reader with its position after the records emitted so far. Called
  // between polls, when a checkpoint barrier passes the source.
  virtual std::vector<SourceSplit> splits() const = 0;
};

template <typename T>
class Source {
 public:
  using Record = T;
  virtual ~Source() = default;
  // The splits of a first start, each with its starting position (usually "").
  virtual Result<std::vector<SourceSplit>> discover_splits() = 0;
  // A reader over `splits` (from discover_splits or from a restored checkpoint); it continues
  // after each split's position. kInvalidArgument for a position it cannot read, naming it.
  virtual Result<std::unique_ptr<SourceReader<T>>> open_reader(std::vector<SourceSplit> splits,
                                                               const SourceReaderContext& context) = 0;
  // What the source reads, for messages and the status page ("files /data/*.jsonl").
  virtual std::string describe() const = 0;
};

}  // namespace streamstate
