// The `checkpoint` suite: full checkpoints of the memory backend to a local directory (LZ4)
// and restores from them, against writing and reading the same logical bytes as one plain
// file, against the published targets (1 M entries checkpointed in 5 s, restored in 3 s), and a
// restore on 2 threads against the same on 1; incremental checkpoints after a 1% change against
// a full checkpoint of the same state (time and bytes).
//
// Data: options.keys entries in one column; keys are the dataset's 16-byte keys behind their
// key group (2 bytes), values 100 bytes of which the first 50 are the dataset's random bytes and
// the last 50 a repetitive JSON-like tail, as keyed state often is.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <unordered_map>

#include "checkpoint_rocksdb.h"
#include "checkpoint_data.h"
#include "dataset.h"
#include "measure.h"
#include "scratch_dir.h"
#include "streamstate/checkpoint.h"
#include "streamstate/key_group.h"
#include "streamstate/memory.h"
#include "suite.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

constexpr double kSeedCheckpointSecondsPerMillion = 5.0;
constexpr double kSeedRestoreSecondsPerMillion = 3.0;

// The plain file: length-prefixed keys and values through a 1 MiB stdio buffer, then fsync.
Status write_plain(const std::string& path, const Entries& entries) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Status::io_error("cannot create " + path);
  std::vector<char> buffer(size_t{1} << 20);
  std::setvbuf(file, buffer.data(), _IOFBF, buffer.size());
  std::string frame;
  for (size_t i = 0; i < entries.keys.size(); ++i) {
    frame.clear();
    put_length_prefixed(frame, entries.keys[i]);
    put_length_prefixed(frame, entries.values[i]);
    std::fwrite(frame.data(), 1, frame.size(), file);
  }
  bool ok = std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  ok = std::fclose(file) == 0 && ok;
  return ok ? Status::ok() : Status::io_error("writing " + path + " failed");
}

Result<uint64_t> read_plain_into_map(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Status::io_error("cannot open " + path);
  std::string bytes;
  char chunk[1 << 16];
  for (size_t n; (n = std::fread(chunk, 1, sizeof(chunk), file)) > 0;) bytes.append(chunk, n);
  std::fclose(file);
  std::unordered_map<std::string, std::string> map;
  ByteReader in(bytes);
  BytesView key;
  BytesView value;
  while (in.read_length_prefixed(key) && in.read_length_prefixed(value)) map.emplace(key, value);
  return map.size();
}

CaseResult against_seed(const CaseResult& measured, const std::string& name, double seconds_per_million,
                        const std::string& target) {
  CaseResult result = measured;
  result.name = name;
  result.baseline = target;
  result.baseline_value = 1'000'000.0 / seconds_per_million;  // entries per second the target means
  result.ratio = result.value / result.baseline_value;
  result.baseline_operations = result.operations;
  return result;
}

// memory/incremental-1pct: with change tracking on, a checkpoint after 1% of the keys changed
// (an incremental one on top of a full base, both written untimed first) against a full
// checkpoint of the same state; memory/incremental-1pct-bytes: the bytes each wrote.
Status run_incremental_cases(const BenchOptions& options, const Entries& entries, ScratchDir& dir,
                             std::vector<CaseResult>& results) {
  if (!options.selects("memory/incremental-1pct") && !options.selects("memory/incremental-1pct-bytes")) {
    return Status::ok();
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBackend> backend, filled_backend(entries, true));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointStorage> storage,
                               open_directory_storage({.path = dir.subdirectory("incremental")}));
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column, backend->column("state"));
  const uint64_t count = entries.keys.size();
  const uint64_t changes = std::max<uint64_t>(1, count / 100);
  CheckpointOptions incremental;
  incremental.incremental.enabled = true;
  uint64_t delta_bytes = 0;
  int64_t delta_sync_micros = 0;
  uint64_t full_bytes = 0;
  auto delta = [&](int run) -> Result<Sample> {
    STREAMSTATE_RETURN_IF_ERROR(clear_storage(*storage));
    STREAMSTATE_ASSIGN_OR_RETURN(CheckpointInfo base, write_checkpoint(*backend, *storage, incremental));
    for (uint64_t i = 0; i < changes; ++i) {
      const uint64_t index = (i * 2654435761ULL + static_cast<uint64_t>(run) * 104729) % count;
      STREAMSTATE_RETURN_IF_ERROR(column->put(entries.keys[index], entries.values[(index + 1) % count]));
    }
    Stopwatch watch;
    STREAMSTATE_ASSIGN_OR_RETURN(CheckpointInfo info, write_checkpoint(*backend, *storage, incremental));
    const double seconds = watch.seconds();
    if (info.manifest.kind != CheckpointKind::kIncremental) {
      return Status::internal("memory/incremental-1pct: the checkpoint was full: " + info.full_reason);
    }
    delta_bytes = info.bytes_written;
    delta_sync_micros = info.sync_micros;
    return Sample{seconds, 1, 0};
  };
  auto full = [&](int) -> Result<Sample> {
    STREAMSTATE_RETURN_IF_ERROR(clear_storage(*storage));
    Stopwatch watch;
    STREAMSTATE_ASSIGN_OR_RETURN(CheckpointInfo info, write_checkpoint(*backend, *storage, {}));
    const double seconds = watch.seconds();
    full_bytes = info.bytes_written;
    return Sample{seconds, 1, 0};
  };
  CaseSpec spec{"memory/incremental-1pct", "a full checkpoint of the same state (time)", false};
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult timed, measure_case(options, spec, delta, full));
  timed.unit = "checkpoints/s";
  CaseResult bytes;
  bytes.name = "memory/incremental-1pct-bytes";
  bytes.unit = "bytes written";
  bytes.baseline = "a full checkpoint of the same state (bytes; ratio = full / incremental)";
  bytes.value = static_cast<double>(delta_bytes);
  bytes.baseline_value = static_cast<double>(full_bytes);
  bytes.ratio = delta_bytes == 0 ? 0 : static_cast<double>(full_bytes) / static_cast<double>(delta_bytes);
  bytes.runs = timed.runs;
  bytes.operations = bytes.baseline_operations = 1;
  std::cerr << "  memory/incremental-1pct: " << changes << " changed keys, incremental " << delta_bytes
            << " bytes in " << 1.0 / timed.value << " s (synchronous part of the last: " << delta_sync_micros
            << " us), full " << full_bytes << " bytes in " << 1.0 / timed.baseline_value
            << " s\n";
  if (options.selects(timed.name)) results.push_back(std::move(timed));
  if (options.selects(bytes.name)) results.push_back(std::move(bytes));
  return Status::ok();
}

Status run_checkpoint_suite(const BenchOptions& options, std::vector<CaseResult>& results) {
  if (options.progress) std::cerr << "checkpoint: generating " << options.keys << " entries\n";
  const Dataset data(options.keys);
  const Entries entries = make_entries(data);
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> dir, ScratchDir::create(options.dir));
  if (options.only.starts_with("memory/incremental")) return run_incremental_cases(options, entries, *dir, results);
  if (options.only.starts_with("rocksdb/")) return run_rocksdb_checkpoint_cases(options, results);
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBackend> backend, filled_backend(entries));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointStorage> storage,
                               open_directory_storage({.path = dir->subdirectory("chk")}));
  const std::string plain = (dir->path() / "plain.bin").string();
  const uint64_t count = entries.keys.size();
  CheckpointInfo last_checkpoint;

  auto checkpoint = [&](int) -> Result<Sample> {
    STREAMSTATE_RETURN_IF_ERROR(clear_storage(*storage));
    Stopwatch watch;
    STREAMSTATE_ASSIGN_OR_RETURN(last_checkpoint, write_checkpoint(*backend, *storage, {}));
    return Sample{watch.seconds(), last_checkpoint.entries, 0};
  };
  auto plain_write = [&](int) -> Result<Sample> {
    Stopwatch watch;
    STREAMSTATE_RETURN_IF_ERROR(write_plain(plain, entries));
    return Sample{watch.seconds(), count, 0};
  };
  CaseSpec write_spec{"memory/checkpoint", "same bytes as one buffered file + fsync", false};
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult written, measure_case(options, write_spec, checkpoint, plain_write));
  std::cerr << "  memory/checkpoint: " << entries.logical_bytes << " logical bytes, checkpoint "
            << last_checkpoint.bytes_written << " bytes on disk, " << static_cast<uint64_t>(written.value)
            << " entries/s (" << static_cast<double>(entries.logical_bytes) / 1e6 * written.value / double(count)
            << " MB/s logical), plain file " << static_cast<uint64_t>(written.baseline_value) << " entries/s\n";

  // memory/writes-during-checkpoint: a writer's random puts into the full backend while
  // checkpoints run back to back on another thread, over the same puts with none running.
  const uint64_t puts = std::min<uint64_t>(count, 300'000);
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column, backend->column("state"));
  uint64_t overlapping_checkpoints = 0;
  auto writes = [&](bool beside_checkpoints) {
    return [&, beside_checkpoints](int run) -> Result<Sample> {
      std::atomic<bool> done{false};
      Status checkpoint_status;
      uint64_t checkpoints = 0;
      std::thread checkpointer;
      if (beside_checkpoints) {
        checkpointer = std::thread([&] {
          while (!done.load()) {
            Status cleared = clear_storage(*storage);
            Result<CheckpointInfo> info = cleared.is_ok() ? write_checkpoint(*backend, *storage, {})
                                                          : Result<CheckpointInfo>(cleared);
            if (!info.is_ok()) {
              checkpoint_status = info.status();
              return;
            }
            ++checkpoints;
          }
        });
      }
      Stopwatch watch;
      Status status;
      for (uint64_t i = 0; i < puts && status.is_ok(); ++i) {
        const uint64_t index = (i * 2654435761ULL + static_cast<uint64_t>(run) * 7919) % count;
        status = column->put(entries.keys[index], entries.values[(index + static_cast<uint64_t>(run) + 1) % count]);
      }
      const double seconds = watch.seconds();
      done = true;
      if (checkpointer.joinable()) checkpointer.join();
      STREAMSTATE_RETURN_IF_ERROR(status);
      STREAMSTATE_RETURN_IF_ERROR(checkpoint_status);
      if (beside_checkpoints) overlapping_checkpoints += checkpoints;
      return Sample{seconds, puts, puts};
    };
  };
  CaseSpec during_spec{"memory/writes-during-checkpoint", "the same puts with no checkpoint running", true};
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult during, measure_case(options, during_spec, writes(true), writes(false)));
  std::cerr << "  memory/writes-during-checkpoint: " << puts << " puts per run, " << overlapping_checkpoints
            << " checkpoints completed beside them over all runs\n";

  // Restores run with the loaded backend freed, as in a process that restarts.
  backend.reset();
  const CheckpointId id = last_checkpoint.manifest.id;
  auto restore_with = [&](uint32_t threads) {
    return [&, threads](int) -> Result<Sample> {
      STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBackend> target, MemoryBackend::open({}));
      Stopwatch watch;
      STREAMSTATE_ASSIGN_OR_RETURN(RestoreInfo info,
                                   restore_checkpoint(*storage, id, *target, {.key_groups = {}, .states = {},
                                                                             .threads = threads}));
      double seconds = watch.seconds();
      return Sample{seconds, info.entries, info.entries};  // target destroyed untimed
    };
  };
  auto plain_read = [&](int) -> Result<Sample> {
    Stopwatch watch;
    STREAMSTATE_ASSIGN_OR_RETURN(uint64_t read, read_plain_into_map(plain));
    return Sample{watch.seconds(), read, read};
  };
  CaseSpec restore_spec{"memory/restore", "reading the plain file into std::unordered_map", true};
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult restored, measure_case(options, restore_spec, restore_with(1), plain_read));
  CaseSpec parallel_spec{"restore/parallel-2t", "the same restore on 1 thread", true};
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult parallel,
                               measure_case(options, parallel_spec, restore_with(2), restore_with(1)));

  for (CaseResult result :
       {written,
        against_seed(written, "memory/checkpoint-vs-seed", kSeedCheckpointSecondsPerMillion,
                     "published target: 1 M entries in 5 s"),
        restored,
        against_seed(restored, "memory/restore-vs-seed", kSeedRestoreSecondsPerMillion,
                     "published target: 1 M entries in 3 s"),
        parallel, during}) {
    if (options.selects(result.name)) results.push_back(std::move(result));
  }
  STREAMSTATE_RETURN_IF_ERROR(run_incremental_cases(options, entries, *dir, results));
  return run_rocksdb_checkpoint_cases(options, results);
}

const SuiteRegistration kCheckpointSuite(
    "checkpoint", "full checkpoints and restores of the memory backend to a local directory vs plain files",
    &run_checkpoint_suite);

}  // namespace
}  // namespace streamstate::bench
