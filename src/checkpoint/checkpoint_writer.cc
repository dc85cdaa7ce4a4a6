// Checkpoints of any backend: the snapshot is taken on the caller's thread; a background thread
// writes the snapshot file (a full checkpoint) or the changed entries and tombstones (an
// incremental one), then the manifest, whose commit makes the checkpoint exist.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "checkpoint/checkpoint_names.h"
#include "checkpoint/checkpoint_writer.h"
#include "checkpoint/delta_entries.h"
#include "checkpoint/incremental_base.h"
#include "checkpoint/manifest.h"
#include "checkpoint/pending_checkpoint.h"
#include "checkpoint/snapshot_file_writer.h"
#include "checkpoint/store_catalog.h"
#include "streamstate/change_tracking.h"
#include "streamstate/checkpoint.h"
#include "streamstate/checksum.h"
#include "util/status_macros.h"

namespace streamstate {

PendingCheckpoint::PendingCheckpoint(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
PendingCheckpoint::~PendingCheckpoint() {
  if (impl_ != nullptr) impl_->join();
}
PendingCheckpoint::PendingCheckpoint(PendingCheckpoint&&) noexcept = default;
PendingCheckpoint& PendingCheckpoint::operator=(PendingCheckpoint&& other) noexcept {
  if (this != &other) {
    if (impl_ != nullptr) impl_->join();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Result<CheckpointInfo> PendingCheckpoint::wait() {
  if (impl_ == nullptr) return Status::failed_precondition("wait() on a moved-from PendingCheckpoint");
  return impl_->wait();
}

bool PendingCheckpoint::done() const { return impl_ == nullptr || impl_->done(); }

namespace {

using Micros = std::chrono::microseconds;

int64_t micros_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Micros>(std::chrono::steady_clock::now() - start).count();
}

struct Job {
  std::unique_ptr<BackendSnapshot> snapshot;
  // Incremental checkpoints: the backend's tracker and what snapshot_with_changes() gave.
  ChangeTracker* tracker = nullptr;
  uint64_t epoch = 0;
  std::string base_label;
  std::vector<ChangedColumn> changes;
  CheckpointStorage* storage = nullptr;
  CheckpointOptions options;
  std::string backend_kind;
  std::optional<uint64_t> log_position;
  int64_t created_millis = 0;
  int64_t sync_micros = 0;
  std::chrono::steady_clock::time_point started;
  CheckpointProgress progress;
};

// Writes the snapshot file and commits it; the file's entry for the manifest.
// The columns no data file holds: "_ss.states" (kept in the manifest) and the excluded ones.
std::set<std::string, std::less<>> columns_left_out(const Job& job) {
  std::set<std::string, std::less<>> left_out(job.options.excluded_columns.begin(), job.options.excluded_columns.end());
  left_out.emplace(internal::kStoreRecordsColumn);
  return left_out;
}

Result<CheckpointFile> write_data_file(Job& job, BackendSnapshot& snapshot, CheckpointFileContent content,
                                       const std::string& name, uint32_t max_parallelism,
                                       const std::set<std::string, std::less<>>& expiring, CheckpointInfo& info) {
  internal::SnapshotFileWriteOptions write;
  write.display_name = name;
  write.compression = job.options.compression;
  write.block_bytes = job.options.block_bytes;
  write.compression_threads = job.options.compression_threads;
  write.expiring_columns = expiring;
  write.now_millis = job.created_millis;
  write.key_groups = job.options.key_groups;
  write.excluded_columns = columns_left_out(job);
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StorageWriter> writer, job.storage->create(name));
  Checksum64Builder checksum;
  std::string buffer;
  auto append = [&]() -> Status {
    STREAMSTATE_RETURN_IF_ERROR(writer->append(buffer));
    job.progress.bytes_written += buffer.size();
    buffer.clear();
    if (job.options.on_progress) job.options.on_progress(job.progress);
    return Status::ok();
  };
  auto sink = [&](BytesView bytes) {
    checksum.update(bytes);
    buffer.append(bytes.data(), bytes.size());
    if (buffer.size() < job.options.write_buffer_bytes) return Status::ok();
    return append();
  };
  STREAMSTATE_ASSIGN_OR_RETURN(internal::SnapshotFileInfo written, internal::write_snapshot_file(snapshot, write, sink));
  if (!buffer.empty()) STREAMSTATE_RETURN_IF_ERROR(append());
  CheckpointFile file;
  file.name = name;
  file.size = written.bytes;
  file.checksum = checksum.digest();
  file.content = content;
  for (const internal::SnapshotColumnInfo& column : written.columns) {
    CheckpointFileColumn entry{column.name, column.values_carry_expiry, column.entries, column.section_offset,
                               column.section_end, {}};
    for (const internal::KeyGroupOffset& group : column.key_groups) {
      if (group.key_group >= max_parallelism) {
        return Status::invalid_argument(
            "checkpoint " + name + ": column '" + column.name + "' holds keys of key group " +
            std::to_string(group.key_group) + ", outside max_parallelism " + std::to_string(max_parallelism) +
            ": set CheckpointOptions::max_parallelism to the one the keys were hashed with, or, when the column "
            "is not keyed state (a ScratchState column, keys written directly), leave it out with "
            "CheckpointOptions::excluded_columns");
      }
      entry.key_groups.push_back({group.key_group, group.offset, group.entries});
    }
    (content == CheckpointFileContent::kTombstones ? info.tombstones : info.entries) += column.entries;
    info.expired_dropped += column.expired_dropped;
    file.columns.push_back(std::move(entry));
  }
  STREAMSTATE_RETURN_IF_ERROR(writer->commit());
  ++job.progress.files_committed;
  if (job.options.on_progress) job.options.on_progress(job.progress);
  return file;
}

Status write_object(CheckpointStorage& storage, const std::string& name, BytesView bytes) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StorageWriter> writer, storage.create(name));
  STREAMSTATE_RETURN_IF_ERROR(writer->append(bytes));
  return writer->commit();
}

// A full checkpoint: the whole snapshot in one file.
Status write_full_file(Job& job, const std::set<std::string, std::less<>>& expiring, CheckpointInfo& info,
                       std::vector<std::string>& written) {
  CheckpointManifest& m = info.manifest;
  const std::string name = checkpoint_folder(m.id) + "/" + std::string(internal::kSnapshotObject);
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointFile file, write_data_file(job, *job.snapshot, CheckpointFileContent::kEntries,
                                                                    name, m.max_parallelism, expiring, info));
  written.push_back(name);
  m.files.push_back(std::move(file));
  return Status::ok();
}

// An incremental checkpoint: the parent's files (shared), then the changed entries and the
// tombstones of this one, each file only when it has entries.
Status write_delta_files(Job& job, const CheckpointManifest& parent, const std::set<std::string, std::less<>>& expiring,
                         CheckpointInfo& info, std::vector<std::string>& written) {
  CheckpointManifest& m = info.manifest;
  m.kind = CheckpointKind::kIncremental;
  m.parents = parent.parents;
  m.parents.push_back(parent.id);
  for (CheckpointFile file : parent.files) {
    file.shared = true;
    m.files.push_back(std::move(file));
  }
  STREAMSTATE_ASSIGN_OR_RETURN(internal::DeltaEntries delta,
                               internal::collect_delta_entries(*job.snapshot, job.changes, expiring,
                                                               job.created_millis, columns_left_out(job)));
  job.changes.clear();
  // Each half only when it has entries.
  auto write_half = [&](std::unique_ptr<BackendSnapshot> half, CheckpointFileContent content,
                        std::string_view object) -> Status {
    const std::string name = checkpoint_folder(m.id) + "/" + std::string(object);
    STREAMSTATE_ASSIGN_OR_RETURN(CheckpointFile file,
                                 write_data_file(job, *half, content, name, m.max_parallelism, expiring, info));
    written.push_back(name);
    m.files.push_back(std::move(file));
    return Status::ok();
  };
  if (delta.puts > 0) {
    STREAMSTATE_RETURN_IF_ERROR(
        write_half(internal::delta_puts_view(delta), CheckpointFileContent::kEntries, internal::kSnapshotObject));
  }
  if (delta.tombstones > 0) {
    STREAMSTATE_RETURN_IF_ERROR(write_half(internal::delta_tombstones_view(delta), CheckpointFileContent::kTombstones,
                                           internal::kTombstonesObject));
  }
  return Status::ok();
}

Result<CheckpointInfo> run(Job& job) {
  STREAMSTATE_ASSIGN_OR_RETURN(internal::StoreCatalog catalog, internal::read_store_catalog(*job.snapshot));
  CheckpointInfo info;
  CheckpointManifest& m = info.manifest;
  m.max_parallelism = catalog.max_parallelism.value_or(job.options.max_parallelism);
  STREAMSTATE_RETURN_IF_ERROR(validate_max_parallelism(m.max_parallelism).with_context("checkpoint"));
  m.key_groups = KeyGroupRange::all(m.max_parallelism);
  if (job.options.key_groups) {
    if (job.options.key_groups->empty() || job.options.key_groups->end() > m.max_parallelism) {
      return Status::invalid_argument("checkpoint: CheckpointOptions::key_groups " + job.options.key_groups->to_string() +
                                      " is empty or reaches past max_parallelism " +
                                      std::to_string(m.max_parallelism));
    }
    m.key_groups = *job.options.key_groups;
  }
  STREAMSTATE_ASSIGN_OR_RETURN(m.id, internal::choose_checkpoint_id(*job.storage, job.options.id));
  job.progress.id = m.id;
  m.created_millis = job.created_millis;
  m.backend_kind = job.backend_kind;
  m.states = std::move(catalog.states);
  for (const std::string& name : job.snapshot->columns()) {
    if (!job.options.excluded_columns.contains(name)) m.columns.push_back(name);
  }
  m.store_records = std::move(catalog.records);
  m.source_positions = job.options.source_positions;
  m.user_metadata = job.options.user_metadata;
  m.log_position = job.log_position;
  std::set<std::string, std::less<>> expiring;
  for (const std::string& name : job.options.expiring_columns.value_or(catalog.ttl_states)) expiring.insert(name);

  internal::IncrementalBase base;
  if (job.tracker != nullptr) {
    base = internal::choose_incremental_base(*job.storage, job.base_label, job.options.incremental, m.max_parallelism,
                                             m.key_groups);
    info.full_reason = base.full_reason;
  }
  std::vector<std::string> written;  // this checkpoint's own files, removed again on failure
  Status status = base.parent ? write_delta_files(job, *base.parent, expiring, info, written)
                              : write_full_file(job, expiring, info, written);
  Result<std::string> encoded = status.is_ok() ? internal::encode_manifest(m) : Result<std::string>(status);
  Status committed = encoded.is_ok() ? write_object(*job.storage, checkpoint_manifest_name(m.id), *encoded)
                                     : encoded.status();
  if (!committed.is_ok()) {
    // Best effort: when the storage is gone the files stay as orphans for find_orphans.
    for (const std::string& name : written) (void)job.storage->remove(name);
    return committed;
  }
  if (job.tracker != nullptr) {
    // The keys this checkpoint holds stop being tracked; the next delta builds on it. A failure
    // only means the next checkpoint holds more keys than needed (or is full).
    (void)job.tracker->confirm_changes(job.epoch, internal::change_base_label(*job.storage, m.id));
  }
  for (const CheckpointFile& file : m.files) {
    if (!file.shared) info.bytes_written += file.size;
  }
  info.bytes_written += encoded->size();
  info.sync_micros = job.sync_micros;
  info.total_micros = micros_since(job.started);
  return info;
}

}  // namespace

Status internal::validate_checkpoint_options(const CheckpointOptions& options) {
  if (options.block_bytes == 0 || options.block_bytes > kDefaultMaxUncompressedBlock / 2) {
    return Status::invalid_argument("CheckpointOptions::block_bytes " + std::to_string(options.block_bytes) +
                                    " is out of range; use 1 byte to 512 MiB (default 64 KiB)");
  }
  if (options.compression_threads == 0 || options.compression_threads > 64) {
    return Status::invalid_argument("CheckpointOptions::compression_threads " +
                                    std::to_string(options.compression_threads) + " is out of range; use 1 to 64");
  }
  if (options.write_buffer_bytes == 0) {
    return Status::invalid_argument("CheckpointOptions::write_buffer_bytes is 0; use at least 1 byte (default 1 MiB)");
  }
  if (options.incremental.enabled && options.incremental.full_every == 0) {
    return Status::invalid_argument("IncrementalOptions::full_every is 0; use 1 (always full) or more (default 10)");
  }
  if (options.incremental.enabled && !(options.incremental.max_delta_share >= 0)) {
    return Status::invalid_argument("IncrementalOptions::max_delta_share is negative or NaN; use 0 or more (default 0.5)");
  }
  return Status::ok();
}

Result<PendingCheckpoint> internal::start_checkpoint_with(StateBackend& backend, CheckpointStorage& storage,
                                                          CheckpointOptions options,
                                                          const internal::CheckpointOverrides& overrides) {
  STREAMSTATE_RETURN_IF_ERROR(validate_checkpoint_options(options));
  if (options.clock == nullptr) options.clock = system_clock();
  auto job = std::make_shared<Job>();
  job->started = std::chrono::steady_clock::now();
  if (options.incremental.enabled) job->tracker = backend.change_tracker();
  if (job->tracker != nullptr) {
    STREAMSTATE_ASSIGN_OR_RETURN(TrackedSnapshot tracked, job->tracker->snapshot_with_changes());
    job->snapshot = std::move(tracked.snapshot);
    job->epoch = tracked.epoch;
    if (tracked.base_epoch) job->base_label = std::move(tracked.base_label);
    job->changes = std::move(tracked.changes);
  } else {
    STREAMSTATE_ASSIGN_OR_RETURN(job->snapshot, backend.snapshot());
  }
  job->created_millis = options.clock->now_millis();
  job->sync_micros = micros_since(job->started);
  job->storage = &storage;
  job->backend_kind = overrides.backend_kind.value_or(std::string(backend.kind()));
  job->log_position = overrides.log_position ? overrides.log_position : job->snapshot->log_position();
  job->options = std::move(options);
  auto impl = std::make_shared<PendingCheckpoint::Impl>();
  STREAMSTATE_RETURN_IF_ERROR(impl->start([job]() -> Result<CheckpointInfo> {
    Result<CheckpointInfo> result = run(*job);
    job->snapshot.reset();  // released on the background thread, before the result is published
    return result;
  }));
  return PendingCheckpoint(std::move(impl));
}

Result<PendingCheckpoint> start_checkpoint(StateBackend& backend, CheckpointStorage& storage,
                                           CheckpointOptions options) {
  return internal::start_checkpoint_with(backend, storage, std::move(options), {});
}

Result<CheckpointInfo> write_checkpoint(StateBackend& backend, CheckpointStorage& storage, CheckpointOptions options) {
  STREAMSTATE_ASSIGN_OR_RETURN(PendingCheckpoint pending, start_checkpoint(backend, storage, std::move(options)));
  return pending.wait();
}

}  // namespace streamstate
