// Snapshot file: round trips on the memory backend for every compression, key-group sub-range
// restores, expired entries dropped, and corruption (flipped bytes, truncation) reported as
// kCorruption naming the file.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "checkpoint/snapshot_file_reader.h"
#include "checkpoint/snapshot_file_writer.h"
#include "core/expiring_value.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "testutil/status_matchers.h"

namespace streamstate::internal {
namespace {

using Contents = std::map<std::string, std::map<std::string, std::string>>;  // column -> key -> value

constexpr int64_t kNow = 1'000'000;

std::unique_ptr<MemoryBackend> open_memory() {
  auto backend = MemoryBackend::open({});
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return std::move(backend).value();
}

void put(StateBackend& backend, const std::string& column, const std::string& key, const std::string& value) {
  auto handle = backend.column(column);
  ASSERT_TRUE(handle.is_ok()) << handle.status().to_string();
  ASSERT_OK((*handle)->put(key, value));
}

Contents read_all(StateBackend& backend) {
  Contents out;
  auto columns = backend.list_columns();
  EXPECT_TRUE(columns.is_ok());
  for (const std::string& name : *columns) {
    auto column = backend.column(name);
    auto& entries = out[name];
    EXPECT_OK((*column)->scan({}, [&](BytesView key, BytesView value) {
      entries.emplace(std::string(key), std::string(value));
      return true;
    }));
  }
  return out;
}

std::string expiring(int64_t expires_at, const std::string& payload) {
  std::string value;
  append_expiring_value(value, expires_at, payload);
  return value;
}

// Three columns, 128 key groups, binary keys and empty values; "ttl" carries expiry headers,
// its odd keys expired at kNow. Returns what a restore must produce.
Contents fill(StateBackend& backend) {
  Contents expected;
  for (uint32_t i = 0; i < 3000; ++i) {
    uint32_t group = (i * 37) % 128;
    std::string user_key = std::string("k\0\xff", 3) + std::to_string(i);
    std::string key = make_state_key(group, user_key);
    std::string value = i % 10 == 0 ? std::string() : std::string(i % 200, static_cast<char>('a' + i % 26));
    put(backend, "counts", key, value);
    expected["counts"][key] = value;
    if (i % 3 == 0) {
      put(backend, "bytes", key, std::string("\0\x01\x02", 3) + value);
      expected["bytes"][key] = std::string("\0\x01\x02", 3) + value;
    }
    std::string ttl_value = expiring(i % 2 == 1 ? kNow - 1 + (i % 4 == 3 ? 1 : 0) : kNow + 1000, value);
    put(backend, "ttl", key, ttl_value);
    if (i % 2 == 0) expected["ttl"][key] = ttl_value;
  }
  return expected;
}

SnapshotFileWriteOptions options_with(CompressionType compression, uint64_t block_bytes = 64 * 1024) {
  SnapshotFileWriteOptions options;
  options.compression = compression;
  options.block_bytes = block_bytes;
  return options;
}

SnapshotFileWriteOptions options_with(uint64_t block_bytes) { return options_with(CompressionType::kLz4, block_bytes); }

std::string write_file(StateBackend& backend, SnapshotFileWriteOptions options, SnapshotFileInfo* info = nullptr) {
  auto snapshot = backend.snapshot();
  EXPECT_TRUE(snapshot.is_ok());
  std::string bytes;
  options.expiring_columns.insert("ttl");
  options.now_millis = kNow;
  auto written = write_snapshot_file(**snapshot, options, string_sink(bytes));
  EXPECT_TRUE(written.is_ok()) << written.status().to_string();
  if (info != nullptr && written.is_ok()) *info = *written;
  return bytes;
}

TEST(SnapshotFileTest, RoundTripsForEveryCompression) {
  for (CompressionType type : {CompressionType::kNone, CompressionType::kLz4, CompressionType::kSnappy,
                               CompressionType::kZstd}) {
    SCOPED_TRACE(std::string(compression_name(type)));
    auto source = open_memory();
    Contents expected = fill(*source);
    SnapshotFileInfo info;
    std::string bytes = write_file(*source, options_with(type, 4096), &info);
    EXPECT_EQ(info.bytes, bytes.size());
    ASSERT_EQ(info.columns.size(), 3u);
    EXPECT_EQ(info.columns[2].name, "ttl");
    EXPECT_TRUE(info.columns[2].values_carry_expiry);
    EXPECT_EQ(info.columns[2].entries, 1500u);
    EXPECT_EQ(info.columns[2].expired_dropped, 1500u);
    EXPECT_EQ(info.columns[1].key_groups.size(), 128u);

    auto reader = SnapshotFileReader::open("chk-1/state.snap", bytes);
    ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
    EXPECT_OK(reader->verify());
    EXPECT_EQ(reader->file_checksum(), info.checksum);
    ASSERT_EQ(reader->columns().size(), 3u);
    EXPECT_EQ(reader->columns()[1].key_groups, info.columns[1].key_groups);
    auto target = open_memory();
    auto stats = reader->restore_into(*target);
    ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
    EXPECT_EQ(stats->entries, 3000u + 1000u + 1500u);
    EXPECT_EQ(read_all(*target), expected);
  }
}

TEST(SnapshotFileTest, WritesThroughCheckpointStorage) {
  auto source = open_memory();
  Contents expected = fill(*source);
  auto storage = open_memory_storage();
  auto writer = storage->create("chk-5/state.snap");
  ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
  auto snapshot = source->snapshot();
  ASSERT_TRUE(snapshot.is_ok());
  SnapshotFileWriteOptions options;
  options.expiring_columns.insert("ttl");
  options.now_millis = kNow;
  auto info = write_snapshot_file(**snapshot, options, storage_sink(**writer));
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  ASSERT_OK((*writer)->commit());
  auto bytes = storage->read("chk-5/state.snap");
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  EXPECT_EQ(bytes->size(), info->bytes);
  auto reader = SnapshotFileReader::open("chk-5/state.snap", *bytes);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  auto target = open_memory();
  ASSERT_TRUE(reader->restore_into(*target).is_ok());
  EXPECT_EQ(read_all(*target), expected);
}

TEST(SnapshotFileTest, CompressionShrinksRepetitiveValues) {
  auto source = open_memory();
  fill(*source);
  std::string plain = write_file(*source, options_with(CompressionType::kNone));
  std::string lz4 = write_file(*source, {});
  EXPECT_LT(lz4.size(), plain.size() / 2);
}

TEST(SnapshotFileTest, EmptyBackendRoundTrips) {
  auto source = open_memory();
  std::string bytes = write_file(*source, {});
  auto reader = SnapshotFileReader::open("empty.snap", bytes);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  EXPECT_OK(reader->verify());
  EXPECT_TRUE(reader->columns().empty());
  auto target = open_memory();
  ASSERT_TRUE(reader->restore_into(*target).is_ok());
  EXPECT_TRUE(read_all(*target).empty());

  ASSERT_TRUE(source->column("empty").is_ok());
  bytes = write_file(*source, {});
  reader = SnapshotFileReader::open("empty-column.snap", bytes);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  EXPECT_OK(reader->verify());
  ASSERT_TRUE(reader->restore_into(*target).is_ok());
  EXPECT_EQ(read_all(*target), (Contents{{"empty", {}}}));
}

Contents only_groups(const Contents& all, KeyGroupRange range) {
  Contents out;
  for (const auto& [column, entries] : all) {
    auto& kept = out[column];
    for (const auto& [key, value] : entries) {
      if (range.contains(decode_fixed16_big_endian(key.data()))) kept.emplace(key, value);
    }
  }
  return out;
}

TEST(SnapshotFileTest, RestoresOnlyAKeyGroupSubRange) {
  auto source = open_memory();
  Contents expected = fill(*source);
  std::string bytes = write_file(*source, options_with(512));
  auto reader = SnapshotFileReader::open("chk-2/state.snap", bytes);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  for (KeyGroupRange range : {KeyGroupRange(0, 1), KeyGroupRange(40, 77), KeyGroupRange(127, 128),
                              KeyGroupRange(100, 4000), KeyGroupRange(200, 300)}) {
    SCOPED_TRACE(range.to_string());
    auto target = open_memory();
    auto stats = reader->restore_into(*target, range);
    ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
    Contents want = only_groups(expected, range);
    EXPECT_EQ(read_all(*target), want);
    // Only the blocks of the range are read.
    if (range == KeyGroupRange(40, 77)) {
      EXPECT_LT(stats->bytes_read, bytes.size() / 3);
    }
  }
}

TEST(SnapshotFileTest, WriterKeyGroupFilterWritesOnlyThoseGroups) {
  auto source = open_memory();
  Contents expected = fill(*source);
  SnapshotFileWriteOptions options;
  options.key_groups = KeyGroupRange(10, 20);
  std::string bytes = write_file(*source, options);
  auto reader = SnapshotFileReader::open("part.snap", bytes);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  auto target = open_memory();
  ASSERT_TRUE(reader->restore_into(*target).is_ok());
  EXPECT_EQ(read_all(*target), only_groups(expected, KeyGroupRange(10, 20)));
}

TEST(SnapshotFileTest, RejectsKeysWithoutKeyGroup) {
  auto source = open_memory();
  put(*source, "bad", "x", "1");
  auto snapshot = source->snapshot();
  std::string bytes;
  SnapshotFileWriteOptions options;
  options.display_name = "bad.snap";
  auto written = write_snapshot_file(**snapshot, options, string_sink(bytes));
  EXPECT_STATUS(written.status(), StatusCode::kInvalidArgument, "bad.snap");
}

// Flips one byte at `pos` and expects kCorruption naming the file from open, verify or restore.
void expect_corruption(const std::string& good, size_t pos, bool check_file_checksum) {
  SCOPED_TRACE("byte " + std::to_string(pos) + " of " + std::to_string(good.size()));
  std::string bad = good;
  bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
  auto reader = SnapshotFileReader::open("chk-9/bad.snap", bad, {.check_file_checksum = check_file_checksum});
  Status status = reader.status();
  if (reader.is_ok()) {
    auto target = open_memory();
    status = reader->restore_into(*target).status();
    if (status.is_ok() && check_file_checksum) status = reader->verify();
  }
  EXPECT_STATUS(status, StatusCode::kCorruption, "chk-9/bad.snap");
}

TEST(SnapshotFileTest, FlippedByteAnywhereIsCorruption) {
  auto source = open_memory();
  fill(*source);
  SnapshotFileInfo info;
  std::string good = write_file(*source, options_with(1024), &info);
  const SnapshotColumnInfo& counts = info.columns[0];
  size_t index_offset = info.columns.back().section_end;
  std::vector<size_t> positions = {0, 9, counts.section_offset + 1, counts.key_groups[0].offset,
                                   counts.key_groups[0].offset + 5, counts.key_groups[3].offset + 20,
                                   counts.key_groups[3].offset + 70, info.columns[2].section_end - 1,
                                   index_offset, index_offset + 7, good.size() - 40, good.size() - 32,
                                   good.size() - 24, good.size() - 17, good.size() - 9, good.size() - 1};
  for (size_t step = 1; step < good.size(); step += good.size() / 37) positions.push_back(step);
  for (size_t pos : positions) expect_corruption(good, pos, true);
}

// Every byte of a small file, flipped: with the file checksum, and without it (then the index,
// section header and block checks must catch everything but the file checksum field itself).
TEST(SnapshotFileTest, EveryFlippedByteOfASmallFileIsCorruption) {
  auto source = open_memory();
  for (uint32_t i = 0; i < 24; ++i) {
    put(*source, i % 2 == 0 ? "a" : "b", make_state_key(i % 5, "user" + std::to_string(i)), std::string(i, 'v'));
  }
  put(*source, "ttl", make_state_key(3, "t"), expiring(kNow + 5, "live"));
  std::string good = write_file(*source, options_with(CompressionType::kNone, 64));
  for (size_t pos = 0; pos < good.size(); ++pos) {
    expect_corruption(good, pos, true);
    bool in_file_checksum = pos >= good.size() - 16 && pos < good.size() - 8;
    if (!in_file_checksum) expect_corruption(good, pos, false);
  }
}

// open() checks the whole-file checksum, so a damaged file is refused before anything is read.
TEST(SnapshotFileTest, OpenChecksTheFileChecksum) {
  auto source = open_memory();
  fill(*source);
  SnapshotFileInfo info;
  std::string good = write_file(*source, options_with(1024), &info);
  for (size_t pos : {size_t{info.columns[1].key_groups[7].offset + 30}, good.size() - 17}) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    auto reader = SnapshotFileReader::open("chk-4/x.snap", bad);
    EXPECT_STATUS(reader.status(), StatusCode::kCorruption,
                  "'chk-4/x.snap': file checksum mismatch");
  }
}

// Without the whole-file checksum, each block's own checksum and the index checks catch it.
TEST(SnapshotFileTest, FlippedByteInABlockIsCaughtByItsChecksum) {
  auto source = open_memory();
  fill(*source);
  SnapshotFileInfo info;
  std::string good = write_file(*source, options_with(1024), &info);
  for (const SnapshotColumnInfo& column : info.columns) {
    for (size_t g = 0; g < column.key_groups.size(); g += 17) {
      uint64_t start = column.key_groups[g].offset;
      uint64_t end = g + 1 < column.key_groups.size() ? column.key_groups[g + 1].offset : column.section_end;
      for (uint64_t pos : {start, start + 3, start + 4, start + 12, (start + end) / 2, end - 8, end - 1}) {
        expect_corruption(good, pos, false);
      }
    }
  }
  auto reader = SnapshotFileReader::open("chk-9/bad.snap", good, {.check_file_checksum = false});
  ASSERT_TRUE(reader.is_ok());
  std::string bad = good;
  size_t pos = info.columns[0].key_groups[5].offset + 20;
  bad[pos] = static_cast<char>(bad[pos] ^ 1);
  reader = SnapshotFileReader::open("chk-9/bad.snap", bad, {.check_file_checksum = false});
  ASSERT_TRUE(reader.is_ok());
  EXPECT_STATUS(reader->verify(), StatusCode::kCorruption, "checksum mismatch");
}

TEST(SnapshotFileTest, TruncatedFileIsCorruption) {
  auto source = open_memory();
  fill(*source);
  std::string good = write_file(*source, {});
  for (size_t size : {size_t{0}, size_t{5}, size_t{43}, good.size() / 2, good.size() - 33, good.size() - 1}) {
    SCOPED_TRACE("size " + std::to_string(size));
    for (bool check : {true, false}) {
      auto reader = SnapshotFileReader::open("chk-3/short.snap", BytesView(good).substr(0, size),
                                             {.check_file_checksum = check});
      EXPECT_STATUS(reader.status(), StatusCode::kCorruption, "chk-3/short.snap");
    }
  }
}

TEST(SnapshotFileTest, CompressionThreadsWriteTheSameBytes) {
  auto source = open_memory();
  fill(*source);
  SnapshotFileInfo one_info;
  std::string one = write_file(*source, options_with(1024), &one_info);
  for (uint32_t threads : {2u, 3u, 8u}) {
    SnapshotFileWriteOptions options = options_with(1024);
    options.compression_threads = threads;
    SnapshotFileInfo info;
    EXPECT_EQ(write_file(*source, options, &info), one) << threads;
    EXPECT_EQ(info.columns[1].key_groups, one_info.columns[1].key_groups);
  }
  SnapshotFileWriteOptions none = options_with(1024);
  none.compression_threads = 0;
  std::string bytes;
  auto snapshot = source->snapshot();
  ASSERT_TRUE(snapshot.is_ok());
  EXPECT_STATUS(write_snapshot_file(**snapshot, none, string_sink(bytes)), StatusCode::kInvalidArgument,
                "compression_threads 0");
}

}  // namespace
}  // namespace streamstate::internal
