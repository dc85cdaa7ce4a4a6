// streamstate_wal_crash_writer DIRECTORY ROUND THREADS ACK_FD: opens the write-ahead log in
// DIRECTORY with group commit and appends from THREADS threads until it is killed; after each
// append (single records and batches of three) returned OK it writes a CrashAck per record to
// ACK_FD. Exit codes: 2 bad arguments or open failed, 3 an append failed, 4 the pipe failed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/wal.h"
#include "unit/wal/crash_writer.h"

namespace {

using streamstate::testing::CrashAck;
using streamstate::testing::crash_payload;
using streamstate::testing::kCrashRecordType;

[[noreturn]] void append_forever(streamstate::Wal& wal, uint32_t round, uint32_t thread, int ack_fd) {
  for (uint64_t counter = 0;; counter += 3) {
    std::string payloads[3];
    for (uint64_t k = 0; k < 3; ++k) payloads[k] = crash_payload(round, thread, counter + k);
    uint64_t first = 0;
    uint64_t count = counter % 2 == 0 ? 3 : 1;
    if (count == 3) {
      streamstate::WalRecordInput records[3];
      for (int k = 0; k < 3; ++k) records[k] = {kCrashRecordType, payloads[k]};
      auto result = wal.append_batch(records);
      if (!result.is_ok()) {
        std::fprintf(stderr, "append_batch failed: %s\n", result.status().to_string().c_str());
        std::_Exit(3);
      }
      first = *result;
    } else {
      auto result = wal.append(kCrashRecordType, payloads[0]);
      if (!result.is_ok()) {
        std::fprintf(stderr, "append failed: %s\n", result.status().to_string().c_str());
        std::_Exit(3);
      }
      first = *result;
    }
    for (uint64_t k = 0; k < count; ++k) {
      CrashAck ack{first + k, round, thread, counter + k};
      if (::write(ack_fd, &ack, sizeof(ack)) != static_cast<ssize_t>(sizeof(ack))) std::_Exit(4);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s DIRECTORY ROUND THREADS ACK_FD\n", argv[0]);
    return 2;
  }
  streamstate::WalOptions options;
  options.directory = argv[1];
  options.sync = streamstate::WalSyncPolicy::kGroupCommit;
  options.segment_bytes = 64 * 1024;  // rotations happen during the test too
  auto round = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10));
  auto threads = static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10));
  int ack_fd = static_cast<int>(std::strtol(argv[4], nullptr, 10));
  auto wal = streamstate::Wal::open(options);
  if (!wal.is_ok()) {
    std::fprintf(stderr, "open failed: %s\n", wal.status().to_string().c_str());
    return 2;
  }
  std::vector<std::thread> workers;
  for (uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] { append_forever(**wal, round, t, ack_fd); });
  }
  for (auto& worker : workers) worker.join();
  return 0;
}
