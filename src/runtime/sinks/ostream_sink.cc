// The at-least-once stream sinks of streamstate/sinks.h (stdout_sink, ostream_sink).
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "streamstate/sinks.h"

namespace streamstate {
namespace {

// What the writers of one stream sink share: the stream, and the lock that keeps their lines
// whole.
struct SharedStream {
  SharedStream(std::ostream& stream, std::string stream_name) : out(stream), name(std::move(stream_name)) {}
  std::ostream& out;
  std::string name;
  std::mutex mutex;
};

class OstreamLineWriter final : public SinkWriter<std::string> {
 public:
  explicit OstreamLineWriter(std::shared_ptr<SharedStream> stream) : stream_(std::move(stream)) {}

  Status write(const std::string& line, int64_t /*event_time_millis*/) override {
    std::lock_guard<std::mutex> lock(stream_->mutex);
    stream_->out.write(line.data(), static_cast<std::streamsize>(line.size()));
    stream_->out.put('\n');
    return check("write a line to");
  }
  Result<std::string> pre_commit(uint64_t /*checkpoint*/) override {
    Status flushed = flush();
    if (!flushed.is_ok()) return flushed;
    return std::string();
  }
  Status close() override { return flush(); }

 private:
  Status flush() {
    std::lock_guard<std::mutex> lock(stream_->mutex);
    stream_->out.flush();
    return check("flush");
  }
  // Requires the lock.
  Status check(const char* what) const {
    if (stream_->out.good()) return Status::ok();
    return Status::io_error(std::string("cannot ") + what + " " + stream_->name +
                            ": the stream is in a failed state (closed pipe or full disk?)");
  }

  std::shared_ptr<SharedStream> stream_;
};

class OstreamLineSink final : public Sink<std::string> {
 public:
  OstreamLineSink(std::ostream& out, std::string name)
      : stream_(std::make_shared<SharedStream>(out, std::move(name))) {}

  Result<std::unique_ptr<SinkWriter<std::string>>> open_writer(const SinkWriterContext& /*context*/) override {
    return std::unique_ptr<SinkWriter<std::string>>(new OstreamLineWriter(stream_));
  }
  // Nothing is staged: lines are out at write().
  Status commit(const std::string& /*committable*/) override { return Status::ok(); }
  Status recover(const std::vector<std::string>& /*committables*/) override { return Status::ok(); }
  bool exactly_once() const override { return false; }
  std::string describe() const override { return stream_->name; }

 private:
  std::shared_ptr<SharedStream> stream_;
};

}  // namespace

std::unique_ptr<Sink<std::string>> ostream_line_sink(std::ostream& out, std::string name) {
  return std::make_unique<OstreamLineSink>(out, std::move(name));
}

std::unique_ptr<Sink<std::string>> stdout_line_sink() { return ostream_line_sink(std::cout, "standard output"); }

}  // namespace streamstate
