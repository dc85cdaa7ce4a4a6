#include "backend/rocksdb/wal_replay_meter.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace streamstate::internal {
namespace {

// RocksDB's log format: records are cut into fragments that never cross a 32 KiB block, each
// after a 7-byte header (checksum, length, type); a block tail too short for a header is padding.
constexpr uint64_t kLogBlockBytes = 32768;
constexpr uint64_t kLogHeaderBytes = 7;

// The file offset after a record of `payload` bytes written at `offset`.
uint64_t end_of_record(uint64_t offset, uint64_t payload) {
  uint64_t left = payload;
  do {
    uint64_t in_block = offset % kLogBlockBytes;
    if (kLogBlockBytes - in_block < kLogHeaderBytes) {
      offset += kLogBlockBytes - in_block;
      in_block = 0;
    }
    const uint64_t fragment = std::min(left, kLogBlockBytes - in_block - kLogHeaderBytes);
    offset += kLogHeaderBytes + fragment;
    left -= fragment;
  } while (left > 0);
  return offset;
}

// The number of a log file name "NNNNNN.log", or false.
bool parse_log_number(const std::string& name, uint64_t& number) {
  constexpr std::string_view kSuffix = ".log";
  if (name.size() <= kSuffix.size() || name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return false;
  }
  const std::string digits = name.substr(0, name.size() - kSuffix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  number = std::stoull(digits);
  return true;
}

}  // namespace

Result<std::vector<WalFile>> list_wal_files(const std::string& directory) {
  std::vector<WalFile> files;
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) return files;
  std::filesystem::directory_iterator it(directory, error);
  for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    WalFile file;
    std::error_code file_error;
    if (!parse_log_number(it->path().filename().string(), file.number) || !it->is_regular_file(file_error)) {
      continue;
    }
    file.path = it->path().string();
    file.size = it->file_size(file_error);
    if (file_error) {
      return Status::io_error("cannot read the size of the write-ahead log '" + file.path +
                              "': " + file_error.message());
    }
    files.push_back(std::move(file));
  }
  if (error) {
    return Status::io_error("cannot list the RocksDB directory '" + directory + "': " + error.message());
  }
  std::sort(files.begin(), files.end(), [](const WalFile& a, const WalFile& b) { return a.number < b.number; });
  return files;
}

void WalReplayMeter::ColumnFamilyLogNumberMap(const std::map<uint32_t, uint64_t>& log_number_by_family,
                                              const std::map<std::string, uint32_t>& /*family_ids*/) {
  // RocksDB replays every log from the oldest one a column family still needs.
  replay_started_ = true;
  if (log_number_by_family.empty()) return;
  oldest_needed_log_ = UINT64_MAX;
  for (const auto& [family, log_number] : log_number_by_family) {
    oldest_needed_log_ = std::min(oldest_needed_log_, log_number);
  }
}

WalReplayMeter::WalProcessingOption WalReplayMeter::LogRecordFound(unsigned long long log_number,
                                                                   const std::string& /*log_file_name*/,
                                                                   const rocksdb::WriteBatch& batch,
                                                                   rocksdb::WriteBatch* /*new_batch*/,
                                                                   bool* batch_changed) {
  *batch_changed = false;
  WalReplay& replay = replays_[log_number];
  replay.end_offset = end_of_record(replay.end_offset, batch.GetDataSize());
  ++replay.records;
  return WalProcessingOption::kContinueProcessing;
}

WalReplay WalReplayMeter::replay_of(uint64_t number) const {
  auto it = replays_.find(number);
  return it == replays_.end() ? WalReplay{} : it->second;
}

void WalReplayMeter::fill(RocksDbStatistics& statistics) const {
  for (const WalFile& file : files_) {
    if (!replayed(file)) continue;
    const WalReplay replay = replay_of(file.number);
    ++statistics.wal_files_at_open;
    statistics.wal_bytes_at_open += file.size;
    statistics.wal_bytes_replayed += std::min(replay.end_offset, file.size);
    statistics.wal_records_replayed += replay.records;
  }
  statistics.wal_bytes_dropped = statistics.wal_bytes_at_open - statistics.wal_bytes_replayed;
}

DamagedWal WalReplayMeter::first_damaged() const {
  if (!replay_started_) return DamagedWal{};
  for (const WalFile& file : files_) {
    if (!replayed(file)) continue;
    const WalReplay replay = replay_of(file.number);
    if (replay.end_offset < file.size) return DamagedWal{file.path, replay.end_offset, file.size};
  }
  return DamagedWal{};
}

}  // namespace streamstate::internal
