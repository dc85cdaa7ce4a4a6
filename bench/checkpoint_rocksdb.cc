// rocksdb/* cases of the checkpoint suite (checkpoint_rocksdb.h).
#include "checkpoint_rocksdb.h"

#include "streamstate/config.h"

#if STREAMSTATE_HAS_ROCKSDB

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <iostream>
#include <string>

#include "backend/rocksdb/rocksdb_status.h"
#include "dataset.h"
#include "measure.h"
#include "raw_rocksdb.h"
#include "scratch_dir.h"
#include "streamstate/checkpoint.h"
#include "streamstate/key_group.h"
#include "streamstate/rocksdb.h"
#include "streamstate/rocksdb_checkpoint.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

constexpr uint32_t kMaxParallelism = 128;
constexpr char kColumn[] = "state";
// The backend keeps column "state" in this column family (docs/backends/rocksdb.md).
constexpr char kColumnFamily[] = "s.state";

// The i-th entry, as the memory checkpoint cases build it.
std::pair<std::string, std::string> entry(const Dataset& data, uint64_t i, uint64_t version) {
  static const std::string kTail = R"(,"region":"eu-west","status":"active","n":0000})";
  std::string key;
  put_fixed16_big_endian(key, static_cast<uint16_t>(key_group_for_key(data.key(i), kMaxParallelism)));
  key.append(data.key(i));
  std::string value(data.value((i + version) % data.size()).substr(0, 50));
  value.append(kTail.substr(0, 50));
  return {std::move(key), std::move(value)};
}

Status load(RocksDbBackend& backend, const Dataset& data) {
  STREAMSTATE_RETURN_IF_ERROR(backend.column(kColumn).status());
  WriteBatch batch;
  for (uint64_t i = 0; i < data.size(); ++i) {
    auto [key, value] = entry(data, i, 0);
    batch.put(kColumn, key, value);
    if (batch.size() == 1000 || i + 1 == data.size()) {
      STREAMSTATE_RETURN_IF_ERROR(backend.write(batch));
      batch.clear();
    }
  }
  return backend.flush();
}

// The baseline: a raw rocksdb::DB with the backend's options loading every entry in
// WriteBatches of 1,000, then closed.
Status raw_load(const std::string& path, const Dataset& data) {
  RawRocksDb raw;
  STREAMSTATE_RETURN_IF_ERROR(raw.open(path, {kColumnFamily}));
  rocksdb::WriteBatch batch;
  for (uint64_t i = 0; i < data.size(); ++i) {
    auto [key, value] = entry(data, i, 0);
    batch.Put(raw.handles[1], key, value);
    if (batch.Count() == 1000 || i + 1 == data.size()) {
      STREAMSTATE_RETURN_IF_ERROR(internal::from_rocksdb(raw.db->Write(raw.native.write, &batch), "baseline write"));
      batch.Clear();
    }
  }
  return raw.close();
}

Result<uint64_t> count_entries(RocksDbBackend& backend) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column, backend.column(kColumn));
  uint64_t count = 0;
  STREAMSTATE_RETURN_IF_ERROR(column->scan({}, [&](BytesView, BytesView) {
    ++count;
    return true;
  }));
  return count;
}

}  // namespace

Status run_rocksdb_checkpoint_cases(const BenchOptions& options, std::vector<CaseResult>& results) {
  if (!options.selects("rocksdb/")) return Status::ok();
  const Dataset data(options.keys);
  const uint64_t count = data.size();
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> dir, ScratchDir::create(options.dir));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> backend,
                               RocksDbBackend::open(backend_options_at(dir->subdirectory("db"))));
  STREAMSTATE_RETURN_IF_ERROR(load(*backend, data));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointStorage> storage,
                               open_directory_storage({.path = dir->subdirectory("chk")}));

  // rocksdb/incremental-1pct-bytes
  Stopwatch full_watch;
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointInfo full, write_rocksdb_checkpoint(*backend, *storage, {}));
  const double full_seconds = full_watch.seconds();
  WriteBatch batch;
  for (uint64_t i = 0; i < count; i += 100) {  // 1% of the keys, spread over the key space
    auto [key, value] = entry(data, i, 1);
    batch.put(kColumn, key, value);
  }
  STREAMSTATE_RETURN_IF_ERROR(backend->write(batch));
  STREAMSTATE_RETURN_IF_ERROR(backend->flush());
  Stopwatch next_watch;
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointInfo next, write_rocksdb_checkpoint(*backend, *storage, {}));
  const double next_seconds = next_watch.seconds();
  CaseResult bytes;
  bytes.name = "rocksdb/incremental-1pct-bytes";
  bytes.unit = "bytes uploaded";
  bytes.baseline = "the full checkpoint before the change (bytes; ratio = full / incremental)";
  bytes.value = static_cast<double>(next.bytes_written);
  bytes.baseline_value = static_cast<double>(full.bytes_written);
  bytes.ratio = next.bytes_written == 0 ? 0 : bytes.baseline_value / bytes.value;
  bytes.runs = 1;
  bytes.operations = bytes.baseline_operations = 1;
  std::cerr << "  rocksdb/incremental-1pct-bytes: full checkpoint " << full.bytes_written << " bytes in "
            << full_seconds << " s (" << static_cast<double>(full.bytes_written) / 1e6 / full_seconds
            << " MB/s), after a 1% change " << next.bytes_written << " bytes in " << next_seconds << " s ("
            << next.manifest.files.size() << " files, "
            << std::count_if(next.manifest.files.begin(), next.manifest.files.end(),
                             [](const CheckpointFile& f) { return f.shared; })
            << " shared)\n";
  if (options.selects(bytes.name)) results.push_back(bytes);

  // rocksdb/restore: the incremental checkpoint holds every entry (its shared tables included).
  STREAMSTATE_RETURN_IF_ERROR(backend->close());
  const CheckpointId id = next.manifest.id;
  uint64_t restored_bytes = 0;
  auto ours = [&](int run) -> Result<Sample> {
    const std::string name = "restored-" + std::to_string(run);
    RocksDbRestoreOptions restore;
    restore.directory = dir->subdirectory(name);
    Stopwatch watch;
    STREAMSTATE_ASSIGN_OR_RETURN(RestoreInfo info, restore_rocksdb_checkpoint(*storage, id, restore));
    STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> db,
                                 RocksDbBackend::open(backend_options_at(restore.directory)));
    const double seconds = watch.seconds();
    restored_bytes = info.bytes_read;
    if (run == 0) {  // untimed: the restored database holds every entry
      STREAMSTATE_ASSIGN_OR_RETURN(uint64_t found, count_entries(*db));
      if (found != count) {
        return Status::internal("rocksdb/restore: the restored database holds " + std::to_string(found) +
                                " entries, not " + std::to_string(count));
      }
    }
    STREAMSTATE_RETURN_IF_ERROR(db->close());
    db.reset();
    STREAMSTATE_RETURN_IF_ERROR(dir->remove(name));
    return Sample{seconds, count, 0};
  };
  auto baseline = [&](int run) -> Result<Sample> {
    const std::string name = "raw-" + std::to_string(run);
    Stopwatch watch;
    STREAMSTATE_RETURN_IF_ERROR(raw_load(dir->subdirectory(name), data));
    const double seconds = watch.seconds();
    STREAMSTATE_RETURN_IF_ERROR(dir->remove(name));
    return Sample{seconds, count, 0};
  };
  CaseSpec restore_spec{"rocksdb/restore", "raw rocksdb::DB loading the entries in WriteBatches of 1,000", false};
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult restored, measure_case(options, restore_spec, ours, baseline));
  std::cerr << "  rocksdb/restore: " << restored_bytes << " bytes downloaded, " << static_cast<uint64_t>(restored.value)
            << " entries/s (" << static_cast<double>(restored_bytes) / 1e6 * restored.value / double(count)
            << " MB/s), raw loading " << static_cast<uint64_t>(restored.baseline_value) << " entries/s\n";
  if (options.selects(restored.name)) results.push_back(std::move(restored));
  return Status::ok();
}

}  // namespace streamstate::bench

#else  // !STREAMSTATE_HAS_ROCKSDB

namespace streamstate::bench {

Status run_rocksdb_checkpoint_cases(const BenchOptions&, std::vector<CaseResult>&) { return Status::ok(); }

}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_ROCKSDB
