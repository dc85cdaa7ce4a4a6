// RocksDB backend: what open() does with damaged files. A write-ahead log damaged in the
// middle fails open with kCorruption naming the log (nothing is silently dropped) unless
// point-in-time recovery is asked for, which opens and reports the dropped bytes; a torn last
// record (a crash mid-write) opens; table files can be checksummed at open; a missing file is
// named as it is on disk.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "streamstate/rocksdb.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/backend/rocksdb_test_fixture.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::column_or_die;
using testing::contents;
using testing::open_or_die;
using testing::small_options;
using testing::TempDir;

constexpr int kWrites = 2000;

std::string key_of(int i) { return "key-" + std::to_string(100000 + i); }
std::string value_of(int i) { return std::string(100, static_cast<char>('a' + i % 26)); }

// kWrites puts, one acknowledged write each, left in the log only (no flush), then a close.
void write_acknowledged_and_close(const RocksDbBackendOptions& options) {
  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "events");
  ASSERT_NE(column, nullptr);
  for (int i = 0; i < kWrites; ++i) ASSERT_OK(column->put(key_of(i), value_of(i)));
  ASSERT_OK(backend->close());
}

// The files of `directory` whose names end with `extension`, largest first.
std::vector<fs::path> files_with_extension(const std::string& directory, const std::string& extension) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.path().extension() == extension) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return fs::file_size(a) > fs::file_size(b); });
  return files;
}

// The only write-ahead log holding data.
fs::path the_wal(const std::string& directory) {
  std::vector<fs::path> logs = files_with_extension(directory, ".log");
  EXPECT_FALSE(logs.empty());
  if (logs.size() > 1) {
    EXPECT_EQ(fs::file_size(logs[1]), 0u) << "expected one log with data";
  }
  return logs.empty() ? fs::path() : logs[0];
}

void flip_byte(const fs::path& file, uint64_t offset) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(stream.good()) << file;
  stream.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  stream.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.write(&byte, 1);
  ASSERT_TRUE(stream.good()) << file;
}

size_t count_occurrences(const std::string& text, const std::string& fragment) {
  size_t count = 0;
  for (size_t at = text.find(fragment); at != std::string::npos; at = text.find(fragment, at + 1)) ++count;
  return count;
}

// Puts a value sized so that its record ends 3 bytes before a 32 KiB block boundary of the log:
// too little room for the next record's 7-byte header, so the log writer pads the block.
// Counts its puts in `puts`.
void end_a_record_just_before_a_block_boundary(StateColumn& column, const fs::path& wal, uint64_t& puts) {
  constexpr uint64_t kBlock = 32768;
  // Bytes a record adds besides its value (header, batch header, key, lengths): from a 1-byte
  // value, at an offset where it fits in the current block.
  uint64_t before = fs::file_size(wal);
  if (kBlock - before % kBlock < 200) {
    ASSERT_OK(column.put("filler", std::string(300, 'f')));
    ++puts;
    before = fs::file_size(wal);
  }
  ASSERT_OK(column.put("boundary", "v"));
  ++puts;
  const uint64_t overhead = fs::file_size(wal) - before - 1;
  const uint64_t offset = fs::file_size(wal);
  uint64_t room = kBlock - offset % kBlock - 3;
  if (room < overhead + 200) {
    ASSERT_OK(column.put("filler", std::string(room, 'f')));  // into the next block
    ++puts;
    ASSERT_NO_FATAL_FAILURE(end_a_record_just_before_a_block_boundary(column, wal, puts));
    return;
  }
  const uint64_t value_size = room - overhead - 1;  // values of 128+ bytes take a 2-byte length
  ASSERT_OK(column.put("boundary", std::string(value_size, 'b')));
  ++puts;
  // Within a byte or two of the aim; what matters is that no header fits behind it.
  const uint64_t left_in_block = kBlock - fs::file_size(wal) % kBlock;
  ASSERT_GT(left_in_block, 0u);
  ASSERT_LT(left_in_block, 7u);
}

TEST(RocksDbRecovery, CleanReopenReplaysTheWholeLogAndDropsNothing) {
  TempDir dir;
  RocksDbBackendOptions options = small_options(dir.file("db"));
  options.write_buffer_bytes = 64 << 20;  // everything stays in the log
  uint64_t puts = 0;
  {
    auto backend = open_or_die(options);
    ASSERT_NE(backend, nullptr);
    auto column = column_or_die(*backend, "events");
    ASSERT_NE(column, nullptr);
    // Records of every size class: tiny, one block, several blocks (fragmented), empty values.
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK(column->put(key_of(i), std::string(static_cast<size_t>((i * 7919) % 70000), 'x')));
    }
    ASSERT_OK(column->put("empty", ""));
    puts = 301;
    // And a block whose tail is padding, then the record after it.
    ASSERT_NO_FATAL_FAILURE(end_a_record_just_before_a_block_boundary(*column, the_wal(options.path), puts));
    ASSERT_OK(column->put("after-padding", "p"));
    ++puts;
    ASSERT_OK(backend->close());
  }
  const uint64_t wal_size = fs::file_size(the_wal(options.path));
  ASSERT_GT(wal_size, uint64_t{1} << 20);

  auto reopened = open_or_die(options);
  ASSERT_NE(reopened, nullptr);
  // The filter that measured the replay is not recorded in RocksDB's OPTIONS file, so RocksDB's
  // tools can load that file without knowing it.
  for (const auto& entry : fs::directory_iterator(options.path)) {
    if (entry.path().filename().string().rfind("OPTIONS", 0) == 0) {
      EXPECT_EQ(read_file(entry.path()).find("wal_filter"), std::string::npos) << entry.path();
    }
  }
  const RocksDbStatistics statistics = reopened->rocksdb_statistics();
  EXPECT_EQ(statistics.wal_bytes_at_open, wal_size);
  EXPECT_EQ(statistics.wal_bytes_replayed, wal_size);
  EXPECT_EQ(statistics.wal_bytes_dropped, 0u);
  EXPECT_EQ(statistics.wal_records_replayed, puts);
  EXPECT_GE(statistics.wal_files_at_open, 1u);
}

TEST(RocksDbRecovery, AByteFlippedInTheMiddleOfTheLogFailsOpenNamingTheLog) {
  TempDir dir;
  const RocksDbBackendOptions options = small_options(dir.file("db"));
  write_acknowledged_and_close(options);
  const fs::path wal = the_wal(options.path);
  const uint64_t size = fs::file_size(wal);
  flip_byte(wal, size / 2);

  auto reopened = RocksDbBackend::open(options);
  EXPECT_STATUS(reopened, StatusCode::kCorruption, wal.string());
  EXPECT_STATUS(reopened, StatusCode::kCorruption, "wal_recovery = WalRecovery::kPointInTime");
  // RocksDB's message is kept, without its "Corruption: " in front of it a second time.
  EXPECT_EQ(count_occurrences(reopened.status().to_string(), "Corruption"), 1u) << reopened.status().to_string();
  // Nothing was dropped: the log is untouched and a second open fails the same way.
  EXPECT_EQ(fs::file_size(wal), size);
  EXPECT_STATUS(RocksDbBackend::open(options), StatusCode::kCorruption, wal.string());
}

TEST(RocksDbRecovery, PointInTimeRecoveryOpensAndReportsTheDroppedBytes) {
  TempDir dir;
  RocksDbBackendOptions options = small_options(dir.file("db"));
  options.wal_recovery = WalRecovery::kPointInTime;
  write_acknowledged_and_close(options);
  const fs::path wal = the_wal(options.path);
  const uint64_t size = fs::file_size(wal);
  // A byte inside a record's payload, not on a record boundary.
  const uint64_t damaged_at = size / 2 + size / kWrites / 3;
  flip_byte(wal, damaged_at);

  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  const RocksDbStatistics statistics = backend->rocksdb_statistics();
  EXPECT_EQ(statistics.wal_bytes_at_open, size);
  EXPECT_EQ(statistics.wal_bytes_replayed + statistics.wal_bytes_dropped, size);
  // Replay stopped at the record holding the damaged byte: before it, by less than two records.
  const uint64_t record_bytes = size / kWrites;
  EXPECT_LE(statistics.wal_bytes_replayed, damaged_at);
  EXPECT_LT(damaged_at - statistics.wal_bytes_replayed, 2 * record_bytes);
  EXPECT_GT(statistics.wal_bytes_dropped, size / 2 - 2 * record_bytes);

  // The writes before the damage are there, in order, and the ones after it are gone.
  auto column = column_or_die(*backend, "events");
  ASSERT_NE(column, nullptr);
  const std::map<std::string, std::string> entries = contents(*column);
  EXPECT_EQ(entries.size(), statistics.wal_records_replayed);
  EXPECT_GT(entries.size(), 0u);
  EXPECT_LT(entries.size(), static_cast<size_t>(kWrites));
  for (int i = 0; i < static_cast<int>(entries.size()); ++i) EXPECT_EQ(entries.count(key_of(i)), 1u) << i;

  // RocksDB's LOG says so too.
  std::string log;
  for (const auto& entry : fs::directory_iterator(options.path)) {
    if (entry.path().filename().string().rfind("LOG", 0) == 0) log += read_file(entry.path());
  }
  EXPECT_NE(log.find("streamstate: write-ahead log recovery dropped " + std::to_string(statistics.wal_bytes_dropped) +
                     " of " + std::to_string(size) + " bytes, from '" + wal.string() + "'"),
            std::string::npos);

  // The recovered state is now the store's: a later open, even with the default mode, finds
  // the same entries and nothing more to drop.
  ASSERT_OK(backend->close());
  backend.reset();
  auto reopened = open_or_die(small_options(options.path));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->rocksdb_statistics().wal_bytes_dropped, 0u);
  auto reopened_column = column_or_die(*reopened, "events");
  ASSERT_NE(reopened_column, nullptr);
  EXPECT_EQ(contents(*reopened_column), entries);
}

TEST(RocksDbRecovery, ATornLastRecordStillOpens) {
  TempDir dir;
  const RocksDbBackendOptions options = small_options(dir.file("db"));
  write_acknowledged_and_close(options);
  const fs::path wal = the_wal(options.path);
  const uint64_t size = fs::file_size(wal);
  // A crash in the middle of writing the last record.
  fs::resize_file(wal, size - 3);

  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "events");
  ASSERT_NE(column, nullptr);
  const std::map<std::string, std::string> entries = contents(*column);
  EXPECT_EQ(entries.size(), static_cast<size_t>(kWrites - 1));
  EXPECT_EQ(entries.count(key_of(kWrites - 1)), 0u);
  // What was dropped is the rest of that one record.
  const RocksDbStatistics statistics = backend->rocksdb_statistics();
  EXPECT_GT(statistics.wal_bytes_dropped, 0u);
  EXPECT_LT(statistics.wal_bytes_dropped, 2 * (size / kWrites));
  EXPECT_EQ(statistics.wal_records_replayed, static_cast<uint64_t>(kWrites - 1));
}

// Writes, flushes to a table file and closes; returns the largest table file.
fs::path write_table_file(const RocksDbBackendOptions& options) {
  auto backend = open_or_die(options);
  EXPECT_NE(backend, nullptr);
  if (backend == nullptr) return {};
  auto column = column_or_die(*backend, "events");
  for (int i = 0; i < kWrites; ++i) EXPECT_OK(column->put(key_of(i), value_of(i)));
  EXPECT_OK(backend->flush());
  EXPECT_OK(backend->close());
  std::vector<fs::path> tables = files_with_extension(options.path, ".sst");
  EXPECT_FALSE(tables.empty());
  return tables.empty() ? fs::path() : tables[0];
}

TEST(RocksDbRecovery, VerifyChecksumsOnOpenFindsADamagedTableFile) {
  TempDir dir;
  RocksDbBackendOptions options = small_options(dir.file("db"));
  options.compression = CompressionType::kNone;
  const fs::path table = write_table_file(options);
  ASSERT_FALSE(table.empty());
  // A byte in the first data block, which open() alone never reads.
  flip_byte(table, 100);

  {
    // Without the check the damage goes unnoticed until the block is read.
    auto backend = open_or_die(options);
    ASSERT_NE(backend, nullptr);
    ASSERT_OK(backend->close());
  }
  options.verify_checksums_on_open = true;
  auto verified = RocksDbBackend::open(options);
  EXPECT_STATUS(verified, StatusCode::kCorruption, table.string());
  EXPECT_STATUS(verified, StatusCode::kCorruption, "verify_checksums_on_open");
  EXPECT_EQ(count_occurrences(verified.status().to_string(), "Corruption"), 1u) << verified.status().to_string();
  // The failed open released the database: it can be opened again.
  options.verify_checksums_on_open = false;
  EXPECT_OK(RocksDbBackend::open(options));
}

TEST(RocksDbRecovery, VerifyChecksumsOnOpenPassesAnIntactDatabase) {
  TempDir dir;
  RocksDbBackendOptions options = small_options(dir.file("db"));
  ASSERT_FALSE(write_table_file(options).empty());
  options.verify_checksums_on_open = true;
  auto backend = open_or_die(options);
  ASSERT_NE(backend, nullptr);
  auto column = column_or_die(*backend, "events");
  ASSERT_NE(column, nullptr);
  EXPECT_EQ(contents(*column).size(), static_cast<size_t>(kWrites));
}

TEST(RocksDbRecovery, AMissingTableFileIsNamedAsItIsOnDisk) {
  TempDir dir;
  const RocksDbBackendOptions options = small_options(dir.file("db"));
  const fs::path table = write_table_file(options);
  ASSERT_FALSE(table.empty());
  fs::remove(table);

  auto reopened = RocksDbBackend::open(options);
  ASSERT_FALSE(reopened.is_ok());
  EXPECT_NE(reopened.status().message().find(table.string()), std::string::npos) << reopened.status().to_string();
  const std::string code(status_code_name(reopened.status().code()));
  EXPECT_EQ(count_occurrences(reopened.status().to_string(), code), 1u) << reopened.status().to_string();
}

}  // namespace
}  // namespace streamstate
