// Timed WAL appends and the raw write + fdatasync baseline.
#include "wal_workloads.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "measure.h"
#include "util/status_macros.h"
#include "wal/segment_format.h"

namespace streamstate::bench {
namespace {

uint64_t bytes_in(const std::string& directory) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.path().extension() == ".wal") total += entry.file_size(error);
  }
  return total;
}

// Appends records first, first + stride, ... below `end`, `batch` at a time.
Status append_share(Wal& wal, const Dataset& data, uint64_t first, uint64_t stride, uint64_t end, uint64_t batch) {
  std::vector<WalRecordInput> records;
  records.reserve(batch);
  for (uint64_t i = first; i < end; i += stride) {
    if (batch == 1) {
      STREAMSTATE_RETURN_IF_ERROR(wal.append(1, data.value(i)).status());
      continue;
    }
    records.push_back({1, data.value(i)});
    if (records.size() == batch || i + stride >= end) {
      STREAMSTATE_RETURN_IF_ERROR(wal.append_batch(records).status());
      records.clear();
    }
  }
  return Status::ok();
}

}  // namespace

Result<WalRun> run_wal_appends(const WalWorkload& workload, const Dataset& data) {
  WalOptions options;
  options.directory = workload.directory;
  options.sync = workload.sync;
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::open(options));
  const uint64_t end = std::min(workload.records, data.size());
  const auto threads = static_cast<uint64_t>(workload.threads);
  std::latch start(workload.threads + 1);
  std::mutex failure_mutex;
  Status failure;
  std::vector<std::thread> workers;
  for (uint64_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      start.arrive_and_wait();
      Status status = append_share(*wal, data, t, threads, end, workload.batch);
      if (!status.is_ok()) {
        std::lock_guard lock(failure_mutex);
        failure = status;
      }
    });
  }
  start.arrive_and_wait();
  Stopwatch watch;
  for (auto& worker : workers) worker.join();
  WalRun run;
  run.seconds = watch.seconds();
  STREAMSTATE_RETURN_IF_ERROR(failure);
  WalStatistics stats = wal->statistics();
  STREAMSTATE_RETURN_IF_ERROR(wal->close());
  run.records = stats.appends;
  run.syncs = stats.syncs;
  run.bytes_on_disk = bytes_in(workload.directory);
  if (run.records != end) {
    return Status::internal("the log counted " + std::to_string(run.records) + " appends, expected " +
                            std::to_string(end));
  }
  return run;
}

Result<WalRun> run_raw_write_sync_loop(const std::string& directory, uint64_t records, const Dataset& data) {
  records = std::min(records, data.size());
  std::string encoded;
  std::vector<size_t> ends;
  for (uint64_t i = 0; i < records; ++i) {
    wal::append_record(encoded, 1, i + 1, data.value(i));
    ends.push_back(encoded.size());
  }
  std::filesystem::create_directories(directory);
  const std::string path = directory + "/raw.log";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error("cannot create " + path + ": " + std::strerror(errno));
  std::string header = wal::encode_segment_header({1, 1});
  bool ok = ::write(fd, header.data(), header.size()) == static_cast<ssize_t>(header.size()) && ::fsync(fd) == 0;
  WalRun run;
  Stopwatch watch;
  size_t begin = 0;
  for (uint64_t i = 0; ok && i < records; ++i) {
    const auto size = static_cast<ssize_t>(ends[i] - begin);
    ok = ::write(fd, encoded.data() + begin, static_cast<size_t>(size)) == size && ::fdatasync(fd) == 0;
    begin = ends[i];
  }
  run.seconds = watch.seconds();
  int error = errno;
  ::close(fd);
  if (!ok) return Status::io_error("raw write + fdatasync loop on " + path + " failed: " + std::strerror(error));
  run.records = records;
  run.syncs = records;
  run.bytes_on_disk = std::filesystem::file_size(path);
  return run;
}

Result<WalReplayRun> run_wal_replay(const std::string& directory, uint64_t records) {
  WalReplayRun run;
  WalOptions options;
  options.directory = directory;
  options.create_if_missing = false;
  Stopwatch open_watch;
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::open(options));
  run.open_seconds = open_watch.seconds();
  Stopwatch watch;
  STREAMSTATE_RETURN_IF_ERROR(wal->replay(0, [&](const WalRecordView& record) {
    ++run.records;
    run.checksum += record.payload.size() + static_cast<uint8_t>(record.payload.empty() ? 0 : record.payload[0]);
    return Status::ok();
  }));
  run.seconds = watch.seconds();
  STREAMSTATE_RETURN_IF_ERROR(wal->close());
  if (run.records != records) {
    return Status::internal("replay returned " + std::to_string(run.records) + " records, expected " +
                            std::to_string(records));
  }
  return run;
}

Result<WalReplayRun> run_raw_replay(const std::string& directory, uint64_t records) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() == ".wal") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  WalReplayRun run;
  std::string buffer;
  Stopwatch watch;
  for (const auto& file : files) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::io_error("cannot open " + file.string() + ": " + std::strerror(errno));
    buffer.clear();
    size_t consumed = wal::kSegmentHeaderBytes;
    char chunk[1 << 16];
    while (true) {
      ssize_t got = ::read(fd, chunk, sizeof(chunk));
      if (got <= 0) break;
      buffer.append(chunk, static_cast<size_t>(got));
      while (buffer.size() - consumed >= wal::kRecordHeaderBytes) {
        const wal::RecordHeader header = wal::decode_record_header(buffer.data() + consumed);
        const size_t total = wal::kRecordOverheadBytes + header.length;
        if (buffer.size() - consumed < total) break;
        const size_t checked = wal::kRecordHeaderBytes + header.length;
        if (!wal::record_checksum_matches(BytesView(buffer.data() + consumed, checked), buffer.data() + consumed + checked)) {
          ::close(fd);
          return Status::corruption("raw replay: checksum mismatch in " + file.string());
        }
        ++run.records;
        run.checksum += header.length + (header.length == 0 ? 0 : static_cast<uint8_t>(buffer[consumed + wal::kRecordHeaderBytes]));
        consumed += total;
      }
      if (consumed > (1U << 20)) {
        buffer.erase(0, consumed);
        consumed = 0;
      }
    }
    ::close(fd);
  }
  run.seconds = watch.seconds();
  if (run.records != records) {
    return Status::internal("raw replay read " + std::to_string(run.records) + " records, expected " +
                            std::to_string(records));
  }
  return run;
}

}  // namespace streamstate::bench
