// Sinks of a pipeline: where results go, and the two-phase commit that makes them exactly
// once.
//
// Each sink instance writes through its own SinkWriter. An exactly-once sink (exactly_once()
// true) never publishes what it is written right away:
//   1. write() stages records (an in-progress file, a staging key);
//   2. at a checkpoint barrier the runtime calls pre_commit(id): the writer makes what it
//      staged since the last barrier durable - but still invisible - and returns a
//      committable, opaque bytes saying what to publish. The runtime stores the committables in
//      the checkpoint;
//   3. once the checkpoint is complete (every operator and sink acknowledged it and its
//      manifest is written) the runtime calls Sink::commit(committable), which publishes it
//      (renames the file, appends the staged entries);
//   4. when a pipeline starts, the runtime calls Sink::recover with the committables of the
//      checkpoint it restores (none at a first start): the sink commits them - they may or may
//      not have been committed before the crash, so commit is idempotent - and discards every
//      transaction started after that checkpoint, which no checkpoint covers and which the
//      replay will write again.
// The output a reader sees is thus exactly the output of the records up to the last completed
// checkpoint, whatever crashed when. An at-least-once sink (exactly_once() false) publishes in
// write() or pre_commit() and returns "" committables; after a crash it may repeat records.
//
// Thread-safety: a SinkWriter is used by one thread at a time (its instance's). commit() and
// recover() are called from the runtime's coordinating thread, concurrently with the writers'
// write() and pre_commit(): they must be safe to call from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "streamstate/status.h"

namespace streamstate {

// What the runtime tells a writer about its place in the pipeline.
struct SinkWriterContext {
  std::string sink_name;
  uint32_t instance = 0;     // this writer's instance, 0-based
  uint32_t parallelism = 1;  // instances of the sink
};

// A record's event time when it has none.
inline constexpr int64_t kNoEventTime = INT64_MIN;

template <typename T>
class SinkWriter {
 public:
  virtual ~SinkWriter() = default;
  // Stages (exactly-once) or publishes (at-least-once) one record.
  virtual Status write(const T& record, int64_t event_time_millis) = 0;
  // At checkpoint `checkpoint`: makes everything written since the last call durable and
  // returns its committable ("" when nothing needs publishing). After an error the pipeline
  // fails and restarts from its last completed checkpoint.
  virtual Result<std::string> pre_commit(uint64_t checkpoint) = 0;
  // The pipeline stops. Records written since the last pre_commit are discarded by an
  // exactly-once sink (a stopping pipeline takes a last checkpoint first when it drains).
  virtual Status close() = 0;
};

template <typename T>
class Sink {
 public:
  using Record = T;
  virtual ~Sink() = default;
  virtual Result<std::unique_ptr<SinkWriter<T>>> open_writer(const SinkWriterContext& context) = 0;
  // Publishes one pre-committed transaction. Idempotent: committing one already committed is
  // OK and changes nothing.
  virtual Status commit(const std::string& committable) = 0;
  // At start, before any writer opens: commits `committables` (those of the restored
  // checkpoint, in order) and discards every staged transaction that is not among them.
  virtual Status recover(const std::vector<std::string>& committables) = 0;
  // True when the sink stages and commits (exactly once); false when it writes at once.
  virtual bool exactly_once() const = 0;
  // Where the sink writes, for messages and the status page ("files in /out").
  virtual std::string describe() const = 0;
};

}  // namespace streamstate
