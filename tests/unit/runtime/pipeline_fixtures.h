// Test sources and sinks for pipeline tests: a source over numbered records in memory (splits
// with record-index positions, optionally failing once after a given count, as a crash would),
// and a two-phase-commit sink whose published output lives in a shared object, so that a
// "restarted" pipeline commits into the same output a reader checks.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/sink.h"
#include "streamstate/source.h"

namespace streamstate::testing {

// Records of split s are make(s, 0), make(s, 1), ... up to per_split each.
template <typename T>
class NumberedSource final : public Source<T> {
 public:
  NumberedSource(uint32_t splits, uint64_t per_split, std::function<T(uint32_t split, uint64_t index)> make)
      : splits_(splits), per_split_(per_split), make_(std::move(make)) {}

  // The reader throws (a crash) once this many records were emitted in total by this source
  // object; 0 = never.
  void fail_after(uint64_t records) { fail_after_ = records; }
  uint64_t emitted() const { return emitted_.load(); }
  // Each poll emits at most `records` per split and then sleeps `micros`, so that checkpoints
  // complete while the source is still reading.
  void pace(size_t records, int64_t micros) {
    pace_records_ = records;
    pace_micros_ = micros;
  }

  Result<std::vector<SourceSplit>> discover_splits() override {
    std::vector<SourceSplit> out;
    for (uint32_t s = 0; s < splits_; ++s) out.push_back({"split-" + std::to_string(s), ""});
    return out;
  }
  Result<std::unique_ptr<SourceReader<T>>> open_reader(std::vector<SourceSplit> splits,
                                                       const SourceReaderContext&) override {
    return std::unique_ptr<SourceReader<T>>(std::make_unique<Reader>(*this, std::move(splits)));
  }
  std::string describe() const override { return "numbered records"; }

 private:
  class Reader final : public SourceReader<T> {
   public:
    Reader(NumberedSource& source, std::vector<SourceSplit> splits) : source_(source), splits_(std::move(splits)) {}
    Result<SourcePoll> poll(SourceOutput<T>& out, size_t max_records) override {
      bool any = false;
      for (size_t index = 0; index < splits_.size(); ++index) {
        SourceSplit& split = splits_[index];
        out.select_split(index);
        const uint32_t s = static_cast<uint32_t>(std::stoul(split.id.substr(6)));
        uint64_t next = split.position.empty() ? 0 : std::stoull(split.position);
        size_t limit = std::max<size_t>(1, max_records / std::max<size_t>(1, splits_.size()));
        if (source_.pace_records_ > 0) limit = std::min(limit, source_.pace_records_);
        for (size_t n = 0; n < limit && next < source_.per_split_; ++n) {
          const uint64_t total = ++source_.emitted_;
          if (source_.fail_after_ != 0 && total > source_.fail_after_) {
            throw std::runtime_error("injected crash after " + std::to_string(source_.fail_after_) + " records");
          }
          out.emit(source_.make_(s, next));
          ++next;
          any = true;
        }
        split.position = std::to_string(next);
        if (next == source_.per_split_) out.finish_split(index);
      }
      if (source_.pace_micros_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(source_.pace_micros_));
      return any ? SourcePoll::kMore : SourcePoll::kEnd;
    }
    std::vector<SourceSplit> splits() const override { return splits_; }

   private:
    NumberedSource& source_;
    std::vector<SourceSplit> splits_;
  };

  uint32_t splits_;
  uint64_t per_split_;
  std::function<T(uint32_t, uint64_t)> make_;
  uint64_t fail_after_ = 0;
  size_t pace_records_ = 0;
  int64_t pace_micros_ = 0;
  std::atomic<uint64_t> emitted_{0};
};

// Emits the given records (split "records", on instance 0) and then nothing, forever, as an
// unbounded source with no more data does; every other instance gets an empty split "idle"
// that never emits and never ends.
template <typename T>
class EndlessSource final : public Source<T> {
 public:
  explicit EndlessSource(std::vector<T> records) : records_(std::move(records)) {}

  Result<std::vector<SourceSplit>> discover_splits() override {
    return std::vector<SourceSplit>{{"records", ""}, {"idle", ""}};
  }
  Result<std::unique_ptr<SourceReader<T>>> open_reader(std::vector<SourceSplit> splits,
                                                       const SourceReaderContext&) override {
    return std::unique_ptr<SourceReader<T>>(std::make_unique<Reader>(records_, std::move(splits)));
  }
  std::string describe() const override { return "endless records"; }

 private:
  class Reader final : public SourceReader<T> {
   public:
    Reader(const std::vector<T>& records, std::vector<SourceSplit> splits)
        : records_(records), splits_(std::move(splits)) {}
    Result<SourcePoll> poll(SourceOutput<T>& out, size_t) override {
      for (SourceSplit& split : splits_) {
        if (split.id != "records") continue;
        size_t next = split.position.empty() ? 0 : std::stoul(split.position);
        if (next >= records_.size()) break;
        out.emit(records_[next]);
        split.position = std::to_string(next + 1);
        return SourcePoll::kMore;
      }
      return SourcePoll::kIdle;
    }
    std::vector<SourceSplit> splits() const override { return splits_; }

   private:
    const std::vector<T>& records_;
    std::vector<SourceSplit> splits_;
  };

  std::vector<T> records_;
};

// What readers of a CollectingSink's output see: committed records only.
template <typename T>
struct CollectedOutput {
  std::mutex mutex;
  std::vector<T> committed;
  std::map<std::string, std::vector<T>> staged;  // transaction -> records
  std::set<std::string> committed_transactions;
  uint64_t commits = 0;

  std::vector<T> records() {
    std::lock_guard<std::mutex> lock(mutex);
    return committed;
  }
};

template <typename T>
class CollectingSink final : public Sink<T> {
 public:
  explicit CollectingSink(std::shared_ptr<CollectedOutput<T>> output) : output_(std::move(output)) {}

  Result<std::unique_ptr<SinkWriter<T>>> open_writer(const SinkWriterContext& context) override {
    return std::unique_ptr<SinkWriter<T>>(std::make_unique<Writer>(output_, context));
  }
  Status commit(const std::string& committable) override {
    std::lock_guard<std::mutex> lock(output_->mutex);
    if (output_->committed_transactions.contains(committable)) return Status::ok();
    auto it = output_->staged.find(committable);
    if (it == output_->staged.end()) return Status::not_found("no staged transaction " + committable);
    output_->committed.insert(output_->committed.end(), it->second.begin(), it->second.end());
    output_->staged.erase(it);
    output_->committed_transactions.insert(committable);
    ++output_->commits;
    return Status::ok();
  }
  Status recover(const std::vector<std::string>& committables) override {
    for (const std::string& c : committables) {
      if (Status status = commit(c); !status.is_ok()) return status;
    }
    std::lock_guard<std::mutex> lock(output_->mutex);
    output_->staged.clear();
    return Status::ok();
  }
  bool exactly_once() const override { return true; }
  std::string describe() const override { return "collected output"; }

 private:
  class Writer final : public SinkWriter<T> {
   public:
    Writer(std::shared_ptr<CollectedOutput<T>> output, SinkWriterContext context)
        : output_(std::move(output)), context_(std::move(context)) {}
    Status write(const T& record, int64_t) override {
      pending_.push_back(record);
      return Status::ok();
    }
    Result<std::string> pre_commit(uint64_t checkpoint) override {
      const std::string id = context_.sink_name + "/" + std::to_string(context_.instance) + "/" + std::to_string(checkpoint);
      std::lock_guard<std::mutex> lock(output_->mutex);
      output_->staged[id] = std::move(pending_);
      pending_.clear();
      return id;
    }
    Status close() override { return Status::ok(); }

   private:
    std::shared_ptr<CollectedOutput<T>> output_;
    SinkWriterContext context_;
    std::vector<T> pending_;
  };

  std::shared_ptr<CollectedOutput<T>> output_;
};

}  // namespace streamstate::testing
