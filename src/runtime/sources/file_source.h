// The machinery every file source shares (streamstate/sources.h, FileSource): a reader that
// walks its files in path order line by line, hands each line to a LineFormat, keeps each
// file's position (the byte offset after the last record emitted or skipped) and applies the
// MalformedRecords policy. Formats: text and JSON lines (file_line_sources.cc), CSV
// (csv_source.cc).
//
// Thread-safety: as streamstate/source.h; the skipped-record counter is shared atomically by
// the readers of one source.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/sources/file_splits.h"
#include "runtime/sources/line_reader.h"
#include "streamstate/source.h"
#include "streamstate/sources.h"

namespace streamstate::internal {

// How one file format turns lines into records. One instance per reader.
template <typename T>
class LineFormat {
 public:
  enum class Parsed {
    kRecord,      // `record` holds the line's record
    kBlank,       // nothing to emit (a blank line where blank lines mean nothing)
    kIncomplete,  // the record continues on the next line (a line break inside CSV quotes)
    kMalformed,   // `error` says why
  };
  virtual ~LineFormat() = default;
  // At the start of each file, with `reader` at offset 0: reads what precedes the records (a
  // header) and returns the offset of the first record.
  virtual Result<uint64_t> begin_file(LineReader& /*reader*/) { return 0; }
  virtual Parsed parse(std::string_view text, T& record, std::string& error) = 0;
  // "JSON", "CSV": what a malformed line is not, for messages.
  virtual const char* name() const = 0;
};

template <typename T>
using LineFormatFactory = std::function<std::unique_ptr<LineFormat<T>>()>;

template <typename T>
class FileSourceReader final : public SourceReader<T> {
 public:
  FileSourceReader(std::vector<SourceSplit> splits, std::vector<uint64_t> offsets, std::string source,
                   FileSourceOptions options, std::unique_ptr<LineFormat<T>> format,
                   std::shared_ptr<std::atomic<uint64_t>> skipped)
      : splits_(std::move(splits)), offsets_(std::move(offsets)), source_(std::move(source)),
        options_(std::move(options)), format_(std::move(format)), skipped_(std::move(skipped)) {}

  Result<SourcePoll> poll(SourceOutput<T>& out, size_t max_records) override {
    size_t emitted = 0;
    const size_t limit = std::max<size_t>(1, max_records);
    while (emitted < limit) {
      if (current_ >= splits_.size()) return SourcePoll::kEnd;
      if (file_ == nullptr) {
        Status opened = open_current();
        if (!opened.is_ok()) return opened;
      }
      std::string_view line;
      Result<bool> got = file_->next(line);
      if (!got.is_ok()) return got.status().with_context(source_);
      if (!*got) {
        if (pending_) {
          Status handled = malformed(pending_start_, "a quoted field is still open at the end of the file",
                                     pending_first_line_end_);
          if (!handled.is_ok()) return handled;
          continue;
        }
        offsets_[current_] = file_->offset();
        file_.reset();
        ++current_;
        continue;
      }
      std::string_view text = line;
      uint64_t record_start = file_->line_start();
      if (pending_) {
        pending_text_ += '\n';
        pending_text_.append(line);
        if (pending_text_.size() > options_.max_record_bytes) {
          return Status::invalid_argument(source_ + ": " + file_->path() + ": the record at byte offset " +
                                          std::to_string(pending_start_) +
                                          " is longer than FileSourceOptions::max_record_bytes (" +
                                          std::to_string(options_.max_record_bytes) + ")");
        }
        text = pending_text_;
        record_start = pending_start_;
      }
      T record{};
      std::string error;
      switch (format_->parse(text, record, error)) {
        case LineFormat<T>::Parsed::kRecord:
          out.emit(std::move(record));
          ++emitted;
          [[fallthrough]];
        case LineFormat<T>::Parsed::kBlank:
          pending_ = false;
          offsets_[current_] = file_->offset();
          break;
        case LineFormat<T>::Parsed::kIncomplete:
          if (!pending_) {
            pending_ = true;
            pending_start_ = record_start;
            pending_first_line_end_ = file_->offset();
            pending_text_.assign(line);
          }
          break;
        case LineFormat<T>::Parsed::kMalformed: {
          Status handled = malformed(record_start, error, file_->offset());
          if (!handled.is_ok()) return handled;
          break;
        }
      }
    }
    return SourcePoll::kMore;
  }

  std::vector<SourceSplit> splits() const override {
    std::vector<SourceSplit> splits = splits_;
    for (size_t i = 0; i < splits.size(); ++i) {
      if (offsets_[i] != 0) splits[i].position = std::to_string(offsets_[i]);
    }
    return splits;
  }

 private:
  Status open_current() {
    const SourceSplit& split = splits_[current_];
    Result<std::unique_ptr<LineReader>> reader =
        LineReader::open(split.id, options_.read_buffer_bytes, options_.max_record_bytes);
    if (!reader.is_ok()) return reader.status().with_context(source_);
    Result<uint64_t> records_start = format_->begin_file(**reader);
    if (!records_start.is_ok()) return records_start.status().with_context(source_);
    uint64_t offset = offsets_[current_];
    if (offset == 0) {
      offset = *records_start;
    } else if (offset < *records_start) {
      return Status::invalid_argument(source_ + ": position " + split.position + " of " + split.id +
                                      " lies inside the file's header (which ends at byte " +
                                      std::to_string(*records_start) + ")");
    }
    (*reader)->seek(offset);
    file_ = std::move(reader).value();
    pending_ = false;
    return Status::ok();
  }

  // A malformed record starting at `record_start`: fails (kFail) or is skipped and counted,
  // reading on at `resume_at` (kSkip).
  Status malformed(uint64_t record_start, const std::string& error, uint64_t resume_at) {
    if (options_.malformed == MalformedRecords::kSkip) {
      skipped_->fetch_add(1, std::memory_order_relaxed);
      pending_ = false;
      file_->seek(resume_at);
      offsets_[current_] = resume_at;
      return Status::ok();
    }
    Result<uint64_t> line = line_number_at(file_->path(), record_start);
    const std::string line_text = line.is_ok() ? std::to_string(*line) : "?";
    return Status::invalid_argument(source_ + ": " + file_->path() + " line " + line_text + " (byte offset " +
                                    std::to_string(record_start) + "): malformed " + format_->name() + ": " +
                                    error +
                                    "; fix the input, or set FileSourceOptions::malformed = MalformedRecords::kSkip "
                                    "to skip and count such records");
  }

  std::vector<SourceSplit> splits_;  // as given to the reader; positions are in offsets_
  std::vector<uint64_t> offsets_;    // each split's position: where it continues
  std::string source_;
  FileSourceOptions options_;
  std::unique_ptr<LineFormat<T>> format_;
  std::shared_ptr<std::atomic<uint64_t>> skipped_;
  size_t current_ = 0;
  std::unique_ptr<LineReader> file_;  // the open file of splits_[current_], or null
  // A record that continues over several lines (CSV quotes), read so far.
  bool pending_ = false;
  uint64_t pending_start_ = 0;
  uint64_t pending_first_line_end_ = 0;
  std::string pending_text_;
};

template <typename T>
class FileSourceImpl final : public FileSource<T> {
 public:
  // `source` names the factory in messages ("json_lines_source"); `option_error` is a
  // format's own option error (reported by discover_splits and open_reader), or OK.
  FileSourceImpl(FileSourceOptions options, std::string source, LineFormatFactory<T> make_format,
                 Status option_error = Status::ok())
      : options_(std::move(options)), source_(std::move(source)), make_format_(std::move(make_format)),
        option_error_(std::move(option_error)) {}

  Result<std::vector<SourceSplit>> discover_splits() override {
    if (!option_error_.is_ok()) return option_error_;
    Result<std::vector<std::string>> files = resolve_files(options_, source_);
    if (!files.is_ok()) return files.status();
    std::vector<SourceSplit> splits;
    for (std::string& path : *files) splits.push_back({std::move(path), ""});
    return splits;
  }

  Result<std::unique_ptr<SourceReader<T>>> open_reader(std::vector<SourceSplit> splits,
                                                       const SourceReaderContext& /*context*/) override {
    if (!option_error_.is_ok()) return option_error_;
    Status valid = check_file_options(options_, source_);
    if (!valid.is_ok()) return valid;
    std::sort(splits.begin(), splits.end(),
              [](const SourceSplit& a, const SourceSplit& b) { return a.id < b.id; });
    std::vector<uint64_t> offsets;
    for (size_t i = 0; i < splits.size(); ++i) {
      const SourceSplit& split = splits[i];
      if (i > 0 && splits[i - 1].id == split.id) {
        return Status::invalid_argument(source_ + ": file " + split.id + " was given twice");
      }
      Result<uint64_t> offset = restored_offset(split, source_);
      if (!offset.is_ok()) return offset.status();
      offsets.push_back(*offset);
    }
    return std::unique_ptr<SourceReader<T>>(std::make_unique<FileSourceReader<T>>(
        std::move(splits), std::move(offsets), source_, options_, make_format_(), skipped_));
  }

  std::string describe() const override { return source_ + " over " + describe_files(options_); }

  uint64_t skipped_records() const override { return skipped_->load(std::memory_order_relaxed); }

 private:
  FileSourceOptions options_;
  std::string source_;
  LineFormatFactory<T> make_format_;
  Status option_error_;
  std::shared_ptr<std::atomic<uint64_t>> skipped_ = std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace streamstate::internal
