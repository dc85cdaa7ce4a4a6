#include "backend/rocksdb/rocksdb_native_checkpoint.h"

#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/unique_id.h>
#include <rocksdb/utilities/checkpoint.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <system_error>

#include "backend/rocksdb/rocksdb_status.h"

namespace streamstate::internal {
namespace {

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0x0f]);
  }
  return out;
}

// RocksDB's unique id of a table file (derived from the database's id, the session that wrote
// the file and its number: the same in every copy of the file, different for any other file).
Result<std::string> table_unique_id(const std::filesystem::path& file) {
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  rocksdb::Status status = reader.Open(file.string());
  if (!status.ok()) return from_rocksdb(status, "reading the table file '" + file.string() + "'");
  std::shared_ptr<const rocksdb::TableProperties> properties = reader.GetTableProperties();
  if (properties == nullptr) return Status::corruption("table file '" + file.string() + "' has no properties");
  std::string id;
  status = rocksdb::GetUniqueIdFromTableProperties(*properties, &id);
  if (!status.ok()) return from_rocksdb(status, "the unique id of the table file '" + file.string() + "'");
  return hex(id);
}

// Encodes a key group as the first two bytes of a state key (docs/formats.md, "State key").
std::string key_group_prefix(uint32_t key_group) {
  return std::string{static_cast<char>((key_group >> 8) & 0xff), static_cast<char>(key_group & 0xff)};
}

}  // namespace

Result<RocksDbCheckpointInfo> create_native_checkpoint(RocksDbEngine& engine, const std::string& directory) {
  auto hold = engine.hold_shared();
  if (engine.closed()) return engine.closed_status();
  const std::string context = "native checkpoint of the RocksDB backend at '" + engine.path() + "' into '" +
                              directory + "'";
  std::error_code error;
  if (std::filesystem::exists(directory, error)) {
    return Status::already_exists(context + ": the directory exists; give a path that does not exist yet");
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status status = rocksdb::Checkpoint::Create(engine.db(), &raw);
  if (!status.ok()) return from_rocksdb(status, context);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  RocksDbCheckpointInfo info;
  info.directory = directory;
  // log_size_for_flush = 0: memtables are always flushed, so the table files alone hold every
  // write made before the call, and no write-ahead log is part of the checkpoint.
  status = checkpoint->CreateCheckpoint(directory, /*log_size_for_flush=*/0, &info.sequence);
  if (!status.ok()) return from_rocksdb(status, context);

  for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    if (!it->is_regular_file()) continue;
    RocksDbCheckpointFile file;
    file.name = it->path().filename().string();
    file.size = it->file_size();
    if (it->path().extension() == ".sst") {
      Result<std::string> id = table_unique_id(it->path());
      if (!id.is_ok()) return id.status().with_context(context);
      file.shared_id = std::move(id).value();
    }
    info.files.push_back(std::move(file));
  }
  if (error) return Status::io_error(context + ": cannot list the checkpoint: " + error.message());
  std::sort(info.files.begin(), info.files.end(),
            [](const RocksDbCheckpointFile& a, const RocksDbCheckpointFile& b) { return a.name < b.name; });
  return info;
}

Status retain_key_groups(RocksDbEngine& engine, const KeyGroupRange& keep, const std::vector<std::string>& columns) {
  auto hold = engine.hold_shared();
  if (engine.closed()) return engine.closed_status();
  for (const std::string& name : columns) {
    const ColumnEntry* column = engine.find_column(name);
    if (column == nullptr) return Status::not_found(engine.describe(name) + " does not exist; nothing to trim");
    // Keys before the first kept group: [empty, prefix(begin)); keys after the last:
    // [prefix(end), "\xff\xff\xff"...) - every state key is longer than its two-byte prefix,
    // and no key group reaches 0xffff, so a three-byte 0xff bound is past every key.
    const std::string first = key_group_prefix(keep.begin());
    const std::string past = key_group_prefix(keep.end());
    const std::string beyond_all(3, '\xff');
    rocksdb::WriteBatch batch;
    if (keep.begin() > 0) batch.DeleteRange(column->handle, rocksdb::Slice(), first);
    batch.DeleteRange(column->handle, past, beyond_all);
    rocksdb::Status status = engine.db()->Write(engine.write_options(), &batch);
    if (!status.ok()) {
      return from_rocksdb(status, "trimming " + engine.describe(name) + " to key groups " + keep.to_string());
    }
  }
  return Status::ok();
}

Status ingest_sorted(RocksDbEngine& engine, std::string_view name,
                     const std::function<Status(const RocksDbBackend::IngestAdd& add)>& produce) {
  auto hold = engine.hold_shared();
  if (engine.closed()) return engine.closed_status();
  const ColumnEntry* column = engine.find_column(name);
  if (column == nullptr) return Status::not_found(engine.describe(name) + " does not exist; nothing to load into");
  static std::atomic<uint64_t> files{0};
  const std::string path = (std::filesystem::path(engine.path()) /
                            ("ingest-" + std::to_string(::getpid()) + "-" + std::to_string(files++) + ".sst"))
                               .string();
  const std::string context = "loading entries into " + engine.describe(name);
  rocksdb::Options options;
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, column->handle);
  rocksdb::Status opened = writer.Open(path);
  if (!opened.ok()) return from_rocksdb(opened, context);
  uint64_t added = 0;
  Status produced = produce([&](BytesView key, BytesView value) -> Status {
    rocksdb::Status put = writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
    if (!put.ok()) {
      return Status::invalid_argument(context + ": " + put.ToString() + " (keys must come in strictly ascending order)");
    }
    ++added;
    return Status::ok();
  });
  Status loaded = produced;
  if (loaded.is_ok() && added > 0) {
    rocksdb::Status finished = writer.Finish();
    if (!finished.ok()) loaded = from_rocksdb(finished, context);
  }
  if (loaded.is_ok() && added > 0) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;
    rocksdb::Status ingested = engine.db()->IngestExternalFile(column->handle, {path}, ingest);
    if (!ingested.ok()) loaded = from_rocksdb(ingested, context);
  }
  std::error_code ignored;
  std::filesystem::remove(path, ignored);  // moved into the database when ingested; else left over
  return loaded;
}

}  // namespace streamstate::internal
