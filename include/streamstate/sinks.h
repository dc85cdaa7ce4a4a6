// The sinks a pipeline can write to (the Sink interface is in streamstate/sink.h):
//   - file_sink: exactly once. Part files are written in a hidden staging folder and become
//     visible, by rename, only when the checkpoint covering them completes. Rolls parts by size
//     and age. JSON lines, CSV or any line format.
//   - redis_stream_sink (when streamstate is built with Redis): exactly once. Entries are staged
//     in a Redis list and appended to the stream by one atomic script that also records the
//     transaction, so a repeated commit appends nothing.
//   - stdout_sink / ostream_sink: at least once; lines are written at once.
// docs/sinks.md describes the guarantees, the file layouts, the options and the errors.
//
// Each sink has a byte-level core - a Sink<std::string> of lines, or a Sink<RedisStreamFields>
// of stream entries - and the typed factories wrap it with a formatter that turns a record into
// a line or an entry. A formatter that throws fails the write with InvalidArgument (the
// pipeline then fails naming the record); nothing is thrown across the API.
//
//   auto sink = file_sink<nlohmann::json>({.directory = "/data/out", .prefix = "clicks"});
//   auto rows = file_sink<Click>(options, [](const Click& c, std::string& line) {
//     append_csv_row({c.user, std::to_string(c.count)}, line);
//   });
//
// The option structs have a default for every field, so designated initializers may name only
// the fields they set.
//
// Thread-safety: as streamstate/sink.h says - a writer is used by one thread at a time;
// commit() and recover() may be called from any thread, concurrently with the writers.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "streamstate/clock.h"
#include "streamstate/config.h"
#include "streamstate/sink.h"
#include "streamstate/status.h"

namespace streamstate {

// ---------------------------------------------------------------------------------------------
// Formatters

// Appends one record as one line to `line` (empty on entry), without the line terminator: the
// sink adds '\n'. May throw; the write then fails with InvalidArgument.
template <typename T>
using LineFormatter = std::function<void(const T& record, std::string& line)>;

// The fields of one Redis stream entry, in order (XADD field value ...).
using RedisStreamFields = std::vector<std::pair<std::string, std::string>>;
// Appends the fields of one record to `fields` (empty on entry). At least one field.
template <typename T>
using EntryFormatter = std::function<void(const T& record, RedisStreamFields& fields)>;

// A string is its own line.
LineFormatter<std::string> string_lines();
// A JSON value as compact JSON text (JSON lines); invalid UTF-8 fails the write.
LineFormatter<nlohmann::json> json_lines();
// A vector of fields as one CSV row (RFC 4180).
LineFormatter<std::vector<std::string>> csv_lines();
// Appends `fields` to `line` as one CSV row: separated by commas, a field quoted (and its
// quotes doubled) when it holds a comma, quote, CR, LF or leading/trailing space.
void append_csv_row(const std::vector<std::string>& fields, std::string& line);

// A JSON object's members as the entry's fields: string members as they are, others as compact
// JSON text. A value that is not an object becomes one field named "json".
EntryFormatter<nlohmann::json> json_fields();

// True for the record types that have a default line formatter.
template <typename T>
inline constexpr bool has_default_line_formatter =
    std::is_same_v<T, std::string> || std::is_same_v<T, nlohmann::json> || std::is_same_v<T, std::vector<std::string>>;

// The formatter a typed factory uses when given none: string_lines() for std::string,
// json_lines() for nlohmann::json, csv_lines() for std::vector<std::string>.
template <typename T>
LineFormatter<T> default_line_formatter() {
  static_assert(has_default_line_formatter<T>, "no default line formatter for this record type: pass a LineFormatter<T>");
  if constexpr (std::is_same_v<T, std::string>) {
    return string_lines();
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return json_lines();
  } else {
    return csv_lines();
  }
}

// ---------------------------------------------------------------------------------------------
// Adapting a byte-level sink to records of type T

namespace internal {

// Formats each record into a reused buffer and hands it to the core writer.
template <typename T, typename Line>
class FormattingSinkWriter final : public SinkWriter<T> {
 public:
  FormattingSinkWriter(std::unique_ptr<SinkWriter<Line>> core, std::function<void(const T&, Line&)> format,
                       std::string sink)
      : core_(std::move(core)), format_(std::move(format)), sink_(std::move(sink)) {}

  Status write(const T& record, int64_t event_time_millis) override {
    buffer_.clear();
    try {
      format_(record, buffer_);
    } catch (const std::exception& error) {
      return Status::invalid_argument(sink_ + ": the formatter failed on a record: " + error.what());
    } catch (...) {
      return Status::invalid_argument(sink_ + ": the formatter failed on a record (not a std::exception)");
    }
    return core_->write(buffer_, event_time_millis);
  }
  Result<std::string> pre_commit(uint64_t checkpoint) override { return core_->pre_commit(checkpoint); }
  Status close() override { return core_->close(); }

 private:
  std::unique_ptr<SinkWriter<Line>> core_;
  std::function<void(const T&, Line&)> format_;
  std::string sink_;
  Line buffer_;
};

template <typename T, typename Line>
class FormattingSink final : public Sink<T> {
 public:
  FormattingSink(std::unique_ptr<Sink<Line>> core, std::function<void(const T&, Line&)> format)
      : core_(std::move(core)), format_(std::move(format)) {}

  Result<std::unique_ptr<SinkWriter<T>>> open_writer(const SinkWriterContext& context) override {
    Result<std::unique_ptr<SinkWriter<Line>>> core = core_->open_writer(context);
    if (!core.is_ok()) return core.status();
    return std::unique_ptr<SinkWriter<T>>(
        new FormattingSinkWriter<T, Line>(std::move(core).value(), format_, "sink " + core_->describe()));
  }
  Status commit(const std::string& committable) override { return core_->commit(committable); }
  Status recover(const std::vector<std::string>& committables) override { return core_->recover(committables); }
  bool exactly_once() const override { return core_->exactly_once(); }
  std::string describe() const override { return core_->describe(); }

 private:
  std::unique_ptr<Sink<Line>> core_;
  std::function<void(const T&, Line&)> format_;
};

// `format`, or the default formatter when it is empty and T has one. T == std::string keeps
// an empty formatter: format_with() then hands out the core itself.
template <typename T>
LineFormatter<T> or_default_line_formatter(LineFormatter<T> format) {
  if constexpr (has_default_line_formatter<T> && !std::is_same_v<T, std::string>) {
    if (!format) return default_line_formatter<T>();
  }
  return format;
}

// The core itself when T is its record type and no formatter was given, else the core wrapped.
template <typename T, typename Line>
std::unique_ptr<Sink<T>> format_with(std::unique_ptr<Sink<Line>> core, std::function<void(const T&, Line&)> format) {
  if constexpr (std::is_same_v<T, Line>) {
    if (!format) return core;
  }
  return std::make_unique<FormattingSink<T, Line>>(std::move(core), std::move(format));
}

}  // namespace internal

// ---------------------------------------------------------------------------------------------
// File sink

struct FileSinkOptions {
  // The directory committed part files appear in; created (with its parents) when missing.
  // Required.
  std::string directory{};
  // Start of every part file's name, <prefix>-<instance>-<checkpoint>-<part><suffix> (e.g.
  // part-0-00000042-0000.jsonl: checkpoint zero-padded to 8 digits, part to 4); also
  // names the staging folder (<directory>/.<prefix>.in-progress), so two file sinks may share a
  // directory only with different prefixes. 1..100 characters of [A-Za-z0-9_.-], not starting
  // with '.'. Default: "part".
  std::string prefix = "part";
  // End of every part file's name. Default: ".jsonl".
  std::string suffix = ".jsonl";
  // A part holding at least this many bytes is closed and the next record starts a new part of
  // the same transaction. Must be > 0. Default: 128 MiB.
  uint64_t roll_bytes = 128ull << 20;
  // A part open for this long (by `clock`) is closed before the next record is written; 0 =
  // never by age. Parts are closed at every checkpoint anyway. Default: 0.
  int64_t roll_millis = 0;
  // When not empty, the first line of every part file (e.g. a CSV header, without '\n').
  // Default: empty.
  std::string header{};
  // The clock that ages parts. Default: system_clock().
  std::shared_ptr<const Clock> clock{};
};

// The byte-level file sink: each record is one line. Creates the directory and its staging
// folder now and checks that a file can be written there: InvalidArgument for bad options,
// IoError naming the directory (and what to fix) when it cannot be created or written.
Result<std::unique_ptr<Sink<std::string>>> file_line_sink(const FileSinkOptions& options);

// The file sink for records of type T, formatted by `format` (when empty: the default line
// formatter of T; InvalidArgument for a T without one).
template <typename T>
Result<std::unique_ptr<Sink<T>>> file_sink(const FileSinkOptions& options, LineFormatter<T> format = {}) {
  format = internal::or_default_line_formatter<T>(std::move(format));
  if constexpr (!std::is_same_v<T, std::string>) {
    if (!format) return Status::invalid_argument("file_sink: pass a LineFormatter for this record type");
  }
  Result<std::unique_ptr<Sink<std::string>>> core = file_line_sink(options);
  if (!core.is_ok()) return core.status();
  return internal::format_with<T, std::string>(std::move(core).value(), std::move(format));
}

// ---------------------------------------------------------------------------------------------
// Standard output and streams (at least once)

// The byte-level stream sink: each record is written to `out` as one line at write(); the
// stream is flushed at pre_commit() and close(). Lines of concurrent writers never interleave.
// After a failure and restart, records since the last checkpoint are written again. `out` must
// outlive the sink. A stream in a failed state fails the write with IoError.
std::unique_ptr<Sink<std::string>> ostream_line_sink(std::ostream& out, std::string name = "a stream");

// With an empty `format`, T's default line formatter; for a T without one, every write fails
// with InvalidArgument.
template <typename T>
std::unique_ptr<Sink<T>> ostream_sink(std::ostream& out, LineFormatter<T> format = {}) {
  return internal::format_with<T, std::string>(ostream_line_sink(out),
                                               internal::or_default_line_formatter<T>(std::move(format)));
}

// ostream_sink on std::cout.
std::unique_ptr<Sink<std::string>> stdout_line_sink();
template <typename T>
std::unique_ptr<Sink<T>> stdout_sink(LineFormatter<T> format = {}) {
  return internal::format_with<T, std::string>(stdout_line_sink(),
                                               internal::or_default_line_formatter<T>(std::move(format)));
}

#if STREAMSTATE_HAS_REDIS
// ---------------------------------------------------------------------------------------------
// Redis Streams sink

struct RedisStreamSinkOptions {
  // Server address. Default: 127.0.0.1:6379.
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  // AUTH password; empty = none. Default: empty.
  std::string password{};
  // Logical database (SELECT). Default: 0.
  int database = 0;
  // The stream the entries are appended to (XADD). Required.
  std::string stream_key{};
  // Start of this sink's own keys: <key_prefix>:staging:<transaction> (a list per transaction)
  // and <key_prefix>:committed (the transactions already appended). Two pipelines writing to
  // one stream need different prefixes. Default: "<stream_key>:streamstate".
  std::string key_prefix{};
  // When > 0, every XADD trims the stream to its newest `maxlen` entries (MAXLEN =), so readers
  // slower than that lose entries. Default: 0 (never trimmed).
  uint64_t maxlen = 0;
  // Staged entries are sent to Redis when this many are buffered (and at every checkpoint).
  // Default: 512.
  uint32_t batch_entries = 512;
  // Committed transaction ids are remembered this many checkpoints after their own, so that a
  // commit repeated within that window appends nothing; an older one is refused with DataLoss
  // rather than appended twice. Default: 100000.
  uint64_t remember_checkpoints = 100000;
  // Time allowed to connect and for one command's reply. Defaults: 2 s, 5 s.
  int64_t connect_timeout_millis = 2000;
  int64_t command_timeout_millis = 5000;
};

// The byte-level Redis Streams sink. Connects now: Unavailable naming host:port when the server
// cannot be reached, InvalidArgument for bad options or a refused password.
Result<std::unique_ptr<Sink<RedisStreamFields>>> redis_stream_entry_sink(const RedisStreamSinkOptions& options);

// The Redis Streams sink for records of type T, whose fields `format` gives (json_fields() for
// nlohmann::json when empty).
template <typename T>
Result<std::unique_ptr<Sink<T>>> redis_stream_sink(const RedisStreamSinkOptions& options,
                                                   EntryFormatter<T> format = {}) {
  Result<std::unique_ptr<Sink<RedisStreamFields>>> core = redis_stream_entry_sink(options);
  if (!core.is_ok()) return core.status();
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    if (!format) format = json_fields();
  } else if constexpr (!std::is_same_v<T, RedisStreamFields>) {
    if (!format) return Status::invalid_argument("redis_stream_sink: pass an EntryFormatter for this record type");
  }
  return internal::format_with<T, RedisStreamFields>(std::move(core).value(), std::move(format));
}
#endif

}  // namespace streamstate
