// Ready-made replayable sources (see streamstate/source.h for the interface and docs/sources.md):
//
//   generator_source    a deterministic, seeded, rate-limitable stream computed from each
//                       record's index; splits are fixed partitions of the index space.
//   click_event_source  a generated click stream (user, page, event time) for demos and benchmarks.
//   text_lines_source,  files, one or many or a glob: one split per file, the byte offset after
//   json_lines_source,  the last record as its position.
//   csv_source
//   redis_stream_source Redis Streams (when the Redis backend is built): one split per stream
//                       key, the id of the last entry read as its position.
//
// Every source replays exactly: a reader opened on the splits another reader reported continues
// with the records that reader would have emitted next, whichever reader (and parallelism) the
// splits are dealt to. Factories never fail; bad options are reported by discover_splits and
// open_reader (InvalidArgument naming the option).
//
// Thread-safety: as source.h says: a Source's methods are called from one thread; each reader
// is used by one thread at a time. FileSource::skipped_records may be read from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "streamstate/clock.h"
#include "streamstate/config.h"
#include "streamstate/source.h"
#include "streamstate/status.h"

namespace streamstate {

// ---------------------------------------------------------------------------------------------
// Generated streams

struct GeneratorOptions {
  // Seed of the whole stream: record i depends only on (seed, i). Default: 0.
  uint64_t seed = 0;
  // Partitions of the index space: split p emits the records p, p + splits, p + 2 * splits, ...
  // Fixed for the life of a job, whatever the source's parallelism (a restore checks it).
  // Default: 4. At least 1.
  uint32_t splits = 4;
  // Records in the whole stream; 0 = unbounded. Default: 0.
  uint64_t count = 0;
  // Limit on records per second across the whole source; a reader gets the share of its
  // splits (splits it reads / splits), which its splits share evenly (a reader emits their
  // records in ascending index order). A throttled poll returns kIdle. Bursts are bounded by a
  // tenth of a second of the rate (at least one record). 0 = unlimited. Default: 0.
  double records_per_second = 0;
  // Clock of the rate limit. Default: null = system_clock().
  std::shared_ptr<const Clock> clock;
};

// The random engine a generator function gets: splitmix64, seeded per record, fast to seed
// (unlike std::mt19937_64, whose seeding costs about a microsecond). A UniformRandomBitGenerator,
// so the std distributions accept it; below() gives the same numbers on every platform.
class GeneratorRandom {
 public:
  using result_type = uint64_t;
  explicit GeneratorRandom(uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound); 0 when bound is 0.
  uint64_t below(uint64_t bound) { return multiply_high((*this)(), bound); }

 private:
  // The high 64 bits of a * b.
  static uint64_t multiply_high(uint64_t a, uint64_t b) {
    const uint64_t a_low = a & 0xFFFFFFFFULL;
    const uint64_t a_high = a >> 32;
    const uint64_t b_low = b & 0xFFFFFFFFULL;
    const uint64_t b_high = b >> 32;
    const uint64_t high_low = a_high * b_low;
    const uint64_t cross = ((a_low * b_low) >> 32) + (high_low & 0xFFFFFFFFULL) + a_low * b_high;
    return a_high * b_high + (high_low >> 32) + (cross >> 32);
  }

  uint64_t state_;
};

// The seed of record `index`'s random engine in a stream seeded `seed`.
uint64_t generator_record_seed(uint64_t seed, uint64_t index);

namespace detail {

// The non-generic part of a generator reader: its splits' progress and the rate limit.
// Defined in src/runtime/sources/generator_cursors.cc.
class GeneratorCursors {
 public:
  // InvalidArgument for bad options.
  static Status validate(const GeneratorOptions& options);
  static std::vector<SourceSplit> initial_splits(const GeneratorOptions& options);
  // InvalidArgument naming a split id or position this generator did not make.
  static Result<GeneratorCursors> open(const GeneratorOptions& options, const std::vector<SourceSplit>& splits);
  static std::string describe(const GeneratorOptions& options);

  // Fills `indexes` with the records to make now, in order (at most max_records; fewer, maybe
  // none, when throttled), and counts them as emitted.
  void next_batch(size_t max_records, std::vector<uint64_t>& indexes);
  bool done() const;
  std::vector<SourceSplit> splits() const;
  // "record 17 (split partition-1-of-4, position 4)", for messages.
  std::string describe_record(uint64_t index) const;

 private:
  struct Cursor {
    uint32_t partition;
    uint64_t emitted;
    uint64_t total;  // records of this split; UINT64_MAX when unbounded
  };
  size_t grant(size_t wanted);

  GeneratorOptions options_;
  std::vector<Cursor> cursors_;
  double reader_rate_ = 0;    // records/s of this reader; 0 = unlimited
  double tokens_ = 0;
  int64_t last_refill_millis_ = 0;
  bool refilled_once_ = false;
};

template <typename T, typename Random>
class GeneratorReader final : public SourceReader<T> {
 public:
  using Make = std::function<T(uint64_t, Random&)>;
  GeneratorReader(GeneratorCursors cursors, uint64_t seed, std::shared_ptr<const Make> make,
                  std::shared_ptr<const std::function<int64_t(const T&)>> event_time)
      : cursors_(std::move(cursors)), seed_(seed), make_(std::move(make)), event_time_(std::move(event_time)),
        random_(0) {}

  Result<SourcePoll> poll(SourceOutput<T>& out, size_t max_records) override {
    if (cursors_.done()) return SourcePoll::kEnd;
    cursors_.next_batch(max_records, indexes_);
    if (indexes_.empty()) return SourcePoll::kIdle;
    for (uint64_t index : indexes_) {
      reseed(random_, generator_record_seed(seed_, index));
      try {
        T record = (*make_)(index, random_);
        if (*event_time_) {
          const int64_t time = (*event_time_)(record);
          out.emit(std::move(record), time);
        } else {
          out.emit(std::move(record));
        }
      } catch (const std::exception& error) {
        return Status::invalid_argument("generator function failed at " + cursors_.describe_record(index) + ": " +
                                        error.what());
      } catch (...) {
        return Status::invalid_argument("generator function failed at " + cursors_.describe_record(index) +
                                        " with a non-standard exception");
      }
    }
    return cursors_.done() ? SourcePoll::kEnd : SourcePoll::kMore;
  }
  std::vector<SourceSplit> splits() const override { return cursors_.splits(); }

 private:
  // Reseeding in place: a GeneratorRandom is one word; an mt19937_64 keeps its 2.5 KB.
  static void reseed(Random& random, uint64_t seed) {
    if constexpr (std::is_same_v<Random, GeneratorRandom>) {
      random = Random(seed);
    } else {
      random.seed(seed);
    }
  }

  GeneratorCursors cursors_;
  uint64_t seed_;
  std::shared_ptr<const Make> make_;
  std::shared_ptr<const std::function<int64_t(const T&)>> event_time_;
  Random random_;
  std::vector<uint64_t> indexes_;
};

template <typename T, typename Random>
class GeneratorSource final : public Source<T> {
 public:
  using Make = std::function<T(uint64_t, Random&)>;
  GeneratorSource(GeneratorOptions options, Make make, std::function<int64_t(const T&)> event_time)
      : options_(std::move(options)), make_(std::make_shared<const Make>(std::move(make))),
        event_time_(std::make_shared<const std::function<int64_t(const T&)>>(std::move(event_time))) {}

  Result<std::vector<SourceSplit>> discover_splits() override {
    Status valid = GeneratorCursors::validate(options_);
    if (!valid.is_ok()) return valid;
    if (!*make_) return Status::invalid_argument("generator_source: the generator function is empty");
    return GeneratorCursors::initial_splits(options_);
  }
  Result<std::unique_ptr<SourceReader<T>>> open_reader(std::vector<SourceSplit> splits,
                                                       const SourceReaderContext& /*context*/) override {
    if (!*make_) return Status::invalid_argument("generator_source: the generator function is empty");
    Result<GeneratorCursors> cursors = GeneratorCursors::open(options_, splits);
    if (!cursors.is_ok()) return cursors.status();
    return std::unique_ptr<SourceReader<T>>(
        std::make_unique<GeneratorReader<T, Random>>(std::move(cursors).value(), options_.seed, make_, event_time_));
  }
  std::string describe() const override { return GeneratorCursors::describe(options_); }

 private:
  GeneratorOptions options_;
  std::shared_ptr<const Make> make_;
  std::shared_ptr<const std::function<int64_t(const T&)>> event_time_;
};

}  // namespace detail

// A generated stream: record i is make(i, random) with `random` seeded from (options.seed, i)
// only, so a replay, a restore into another parallelism or another run with the same seed gives
// the same records. `make` must be deterministic given its arguments and may be called from the
// source's instance threads concurrently (one call per thread at a time). With `event_time`,
// each record carries the time it returns. A split's position is the count of records it has
// emitted (decimal); split ids are "partition-<p>-of-<splits>".
template <typename T>
std::shared_ptr<Source<T>> generator_source(GeneratorOptions options,
                                            std::function<T(uint64_t index, GeneratorRandom& random)> make,
                                            std::function<int64_t(const T&)> event_time = nullptr) {
  return std::make_shared<detail::GeneratorSource<T, GeneratorRandom>>(std::move(options), std::move(make),
                                                                       std::move(event_time));
}
// The same with a std::mt19937_64 seeded per record (slower: about a microsecond a record).
template <typename T>
std::shared_ptr<Source<T>> generator_source(GeneratorOptions options,
                                            std::function<T(uint64_t index, std::mt19937_64& random)> make,
                                            std::function<int64_t(const T&)> event_time = nullptr) {
  return std::make_shared<detail::GeneratorSource<T, std::mt19937_64>>(std::move(options), std::move(make),
                                                                       std::move(event_time));
}

// One click of the generated click stream.
struct ClickEvent {
  std::string user;         // "user-00042": one of ClickEventOptions::users
  std::string page;         // "/home", "/search", "/cart" or "/product/<0..999>"
  int64_t time_millis = 0;  // event time, also the time the record carries
  friend bool operator==(const ClickEvent&, const ClickEvent&) = default;
};

struct ClickEventOptions {
  // Events in the stream; 0 = unbounded. Default: 1,000,000.
  uint64_t count = 1'000'000;
  // Distinct users, chosen uniformly. Default: 10,000. At least 1.
  uint32_t users = 10'000;
  // Seed of the stream. Default: 0.
  uint64_t seed = 0;
  // Event time of event 0 (ms since the epoch). Default: 1,700,000,000,000 (November 2023).
  int64_t start_millis = 1'700'000'000'000;
  // Event-time spacing: event i happens at start_millis + i * 1000 / events_per_second.
  // Default: 1,000. At least 1.
  uint64_t events_per_second = 1'000;
  // Each event's time is moved back by a uniform 0..max_out_of_order_millis. Default: 0.
  int64_t max_out_of_order_millis = 0;
  // Processing-rate limit in events per second across the source (GeneratorOptions::
  // records_per_second); 0 = unlimited. Default: 0.
  double rate = 0;
  // GeneratorOptions::splits. Default: 4.
  uint32_t splits = 4;
  // Clock of the rate limit. Default: null = system_clock().
  std::shared_ptr<const Clock> clock;
};

// Event `index` of the click stream `options` describes (what click_event_source emits).
ClickEvent make_click_event(const ClickEventOptions& options, uint64_t index, GeneratorRandom& random);
// The click stream; each event carries its time_millis as event time.
std::shared_ptr<Source<ClickEvent>> click_event_source(ClickEventOptions options);

// ---------------------------------------------------------------------------------------------
// Files

// What a file source does with a line it cannot parse: MalformedRecords (source.h).

struct FileSourceOptions {
  // Files to read. Default: none.
  std::vector<std::string> paths;
  // glob(3) patterns ("/data/clicks-*.jsonl"); each must match at least one file. Default: none.
  std::vector<std::string> globs;
  // Default: kFail.
  MalformedRecords malformed = MalformedRecords::kFail;
  // Bytes read from a file at a time. Default: 1 MiB.
  size_t read_buffer_bytes = size_t{1} << 20;
  // A longer record fails the poll (whatever `malformed` says). Default: 16 MiB.
  size_t max_record_bytes = size_t{16} << 20;
};

// A file-backed source: one split per file (id = the path, sorted by path), position = the byte
// offset after the last record emitted or skipped (decimal). A reader reads its files one after
// another in path order and ends (kEnd) after the last line of the last; a final line without
// a newline counts. A "\r" before a line's "\n" is dropped. Files must not change before the
// offsets a checkpoint holds.
template <typename T>
class FileSource : public Source<T> {
 public:
  // Malformed records skipped so far by all readers of this source (kSkip). Any thread.
  virtual uint64_t skipped_records() const = 0;
};

// Every line as it is (blank lines too).
std::shared_ptr<FileSource<std::string>> text_lines_source(FileSourceOptions options);
// One JSON value per line (JSON Lines); blank lines are ignored.
std::shared_ptr<FileSource<nlohmann::json>> json_lines_source(FileSourceOptions options);

struct CsvOptions {
  // Field separator. Default: ','. Not '"', '\r' or '\n'.
  char delimiter = ',';
  // The first line of each file names the columns, and every record must have that many
  // fields. Default: true.
  bool header = true;
};

// One CSV record.
struct CsvRecord {
  std::vector<std::string> fields;
  // The header's column names; null without a header.
  std::shared_ptr<const std::vector<std::string>> columns;
  // The field of column `column`; null when there is no such column (or no header).
  const std::string* field(std::string_view column) const;
  // Equal fields and equal column names.
  friend bool operator==(const CsvRecord& a, const CsvRecord& b);
};

// CSV (RFC 4180): fields separated by the delimiter, optionally in double quotes; inside quotes
// the delimiter and line breaks are data and "" is a quote. Blank lines are ignored. Malformed:
// a quote inside an unquoted field, text after a closing quote, a quote still open at the end of
// the file, or (with a header) a field count other than the header's.
std::shared_ptr<FileSource<CsvRecord>> csv_source(FileSourceOptions options, CsvOptions csv = {});

// ---------------------------------------------------------------------------------------------
// Redis Streams

#if STREAMSTATE_HAS_REDIS
struct RedisStreamSourceOptions {
  // Server address. Default: 127.0.0.1:6379.
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  // AUTH password; empty = none. Default: empty.
  std::string password;
  // Logical database (SELECT). Default: 0.
  int database = 0;
  // The stream keys, one split each. Default: none (at least one is required).
  std::vector<std::string> streams;
  // Most entries read per stream and poll (XREAD COUNT; a poll asks each of its streams for
  // an equal share of its max_records, up to this). Default: 512.
  uint32_t batch_size = 512;
  // How long a poll waits for new entries (XREAD BLOCK) before returning kIdle; 0 = do not
  // wait. Must be below command_timeout. Default: 100 ms.
  uint32_t block_millis = 100;
  // Bounded: each reader ends once it has read every stream up to the last entry present when
  // it opened (for tests and bounded jobs). Default: false (read forever).
  bool stop_at_end = false;
  // Time allowed to connect, and for one command's reply. Defaults: 2 s, 5 s.
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
};

// One stream entry.
struct RedisStreamEntry {
  std::string stream;  // the key
  std::string id;      // "<milliseconds>-<sequence>"
  std::vector<std::pair<std::string, std::string>> fields;
  // The milliseconds part of the id (when Redis added the entry, for auto ids).
  int64_t id_millis() const;
  friend bool operator==(const RedisStreamEntry&, const RedisStreamEntry&) = default;
};

// Reads streams with XREAD, each reader over its own connection and its splits (stream keys);
// position = the id of the last entry emitted ("" = from the start). Unavailable naming
// host:port when the server cannot be reached.
std::shared_ptr<Source<RedisStreamEntry>> redis_stream_source(RedisStreamSourceOptions options);
#endif

}  // namespace streamstate
