// Native incremental checkpoints of the RocksDB backend: RocksDB's checkpoint is made on the
// caller's thread into a local directory; a background thread uploads the files no valid
// checkpoint of the storage holds yet, then commits the manifest.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "checkpoint/checkpoint_names.h"
#include "checkpoint/manifest.h"
#include "checkpoint/pending_checkpoint.h"
#include "checkpoint/rocksdb/file_transfer.h"
#include "checkpoint/rocksdb/native_catalog.h"
#include "streamstate/rocksdb_checkpoint.h"
#include "util/parallel.h"
#include "util/status_macros.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPendingPrefix = "pending-";

int64_t micros_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
}

struct Job {
  RocksDbCheckpointInfo native;  // the local checkpoint directory and its files
  fs::path local_base;           // RocksDbCheckpointOptions::local_directory or its default
  CheckpointStorage* storage = nullptr;
  RocksDbCheckpointOptions options;
  int64_t created_millis = 0;
  int64_t sync_micros = 0;
  std::chrono::steady_clock::time_point started;
};

bool is_table(const std::string& local_name) { return local_name.ends_with(".sst"); }

// The shared id of a stored table ("chk-1/rocksdb/<id>.sst" -> "<id>").
std::string stored_table_id(const CheckpointFile& file) {
  size_t slash = file.name.rfind('/');
  std::string base = file.name.substr(slash + 1);
  return base.substr(0, base.size() - 4);
}

// Tables stored by the newest valid native checkpoint of the storage (every file it names was
// listed with its recorded size), by shared id. Its manifest lists every table the database
// had then, shared ones included, so older checkpoints add nothing; and collect_garbage always
// retains the newest checkpoint, so the tables referenced cannot be collected meanwhile.
Result<std::map<std::string, CheckpointFile>> stored_tables(CheckpointStorage& storage) {
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointListing listing, list_checkpoints(storage));
  std::map<std::string, CheckpointFile> tables;
  for (auto manifest = listing.valid.rbegin(); manifest != listing.valid.rend() && tables.empty(); ++manifest) {
    for (const CheckpointFile& file : manifest->files) {
      if (file.content != CheckpointFileContent::kRocksDbFile || !is_table(file.local_name)) continue;
      // Only tables stored under a canonical folder name, whose checkpoint id is known.
      if (!file.name.ends_with(".sst") || !internal::checkpoint_id_of(file.name)) continue;
      tables.emplace(stored_table_id(file), file);
    }
  }
  return tables;
}

// Fills the manifest's description of the database from the checkpoint directory.
Status describe_database(Job& job, CheckpointManifest& m) {
  STREAMSTATE_ASSIGN_OR_RETURN(internal::NativeCatalog catalog, internal::read_native_catalog(job.native.directory));
  m.max_parallelism = catalog.store.max_parallelism.value_or(job.options.max_parallelism);
  STREAMSTATE_RETURN_IF_ERROR(validate_max_parallelism(m.max_parallelism).with_context("RocksDB checkpoint"));
  m.key_groups = KeyGroupRange::all(m.max_parallelism);
  if (job.options.key_groups) {
    if (job.options.key_groups->empty() || job.options.key_groups->end() > m.max_parallelism) {
      return Status::invalid_argument("RocksDB checkpoint: RocksDbCheckpointOptions::key_groups " +
                                      job.options.key_groups->to_string() +
                                      " is empty or reaches past max_parallelism " + std::to_string(m.max_parallelism));
    }
    m.key_groups = *job.options.key_groups;
  }
  m.backend_kind = "rocksdb";
  m.created_millis = job.created_millis;
  m.states = std::move(catalog.store.states);
  m.store_records = std::move(catalog.store.records);
  m.columns = std::move(catalog.columns);
  m.source_positions = job.options.source_positions;
  m.user_metadata = job.options.user_metadata;
  return Status::ok();
}

// Uploads what is not stored yet and lists every file in the manifest; `uploaded` receives
// the objects this checkpoint wrote (for cleanup on failure).
Status transfer_files(Job& job, CheckpointManifest& m, std::vector<std::string>& uploaded, CheckpointInfo& info) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto tables, stored_tables(*job.storage));
  const std::string folder = checkpoint_folder(m.id) + "/rocksdb/";
  std::set<CheckpointId> parents;
  std::vector<size_t> to_upload;
  m.files.resize(job.native.files.size());
  for (size_t i = 0; i < job.native.files.size(); ++i) {
    const RocksDbCheckpointFile& local = job.native.files[i];
    CheckpointFile& file = m.files[i];
    file.content = CheckpointFileContent::kRocksDbFile;
    file.local_name = local.name;
    auto stored = local.shared_id.empty() ? tables.end() : tables.find(local.shared_id);
    if (stored != tables.end() && stored->second.size == local.size) {
      file.name = stored->second.name;
      file.size = stored->second.size;
      file.checksum = stored->second.checksum;
      file.shared = true;
      parents.insert(*internal::checkpoint_id_of(file.name));
    } else {
      file.name = folder + (local.shared_id.empty() ? local.name : local.shared_id + ".sst");
      to_upload.push_back(i);
    }
  }
  std::vector<uint8_t> committed(to_upload.size(), 0);  // one byte each: set by several threads
  Status sent = internal::run_parallel(to_upload.size(), job.options.upload_threads, [&](size_t k) -> Status {
    CheckpointFile& file = m.files[to_upload[k]];
    const fs::path local = fs::path(job.native.directory) / file.local_name;
    STREAMSTATE_ASSIGN_OR_RETURN(internal::UploadedFile done,
                                 internal::upload_local_file(*job.storage, local, file.name));
    committed[k] = 1;
    file.size = done.size;
    file.checksum = done.checksum;
    return Status::ok();
  });
  for (size_t k = 0; k < to_upload.size(); ++k) {
    if (committed[k] != 0) {
      uploaded.push_back(m.files[to_upload[k]].name);
      info.bytes_written += m.files[to_upload[k]].size;
    }
  }
  STREAMSTATE_RETURN_IF_ERROR(sent);
  m.parents.assign(parents.begin(), parents.end());
  m.kind = m.parents.empty() ? CheckpointKind::kFull : CheckpointKind::kIncremental;
  return Status::ok();
}

Status write_object(CheckpointStorage& storage, const std::string& name, BytesView bytes) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StorageWriter> writer, storage.create(name));
  STREAMSTATE_RETURN_IF_ERROR(writer->append(bytes));
  return writer->commit();
}

Result<CheckpointInfo> run(Job& job) {
  CheckpointInfo info;
  CheckpointManifest& m = info.manifest;
  STREAMSTATE_RETURN_IF_ERROR(describe_database(job, m));
  STREAMSTATE_ASSIGN_OR_RETURN(m.id, internal::choose_checkpoint_id(*job.storage, job.options.id));
  std::vector<std::string> uploaded;
  Status status = transfer_files(job, m, uploaded, info);
  Result<std::string> encoded = std::string();
  if (status.is_ok()) {
    encoded = internal::encode_manifest(m);
    status = encoded.is_ok() ? write_object(*job.storage, checkpoint_manifest_name(m.id), *encoded) : encoded.status();
  }
  if (!status.is_ok()) {
    // Best effort: what cannot be removed now is an orphan for find_orphans. Shared files
    // belong to earlier checkpoints and are never touched.
    for (const std::string& name : uploaded) (void)job.storage->remove(name);
    return status.with_context("RocksDB checkpoint " + std::to_string(m.id));
  }
  info.bytes_written += encoded->size();
  info.sync_micros = job.sync_micros;
  info.total_micros = micros_since(job.started);
  return info;
}

// Removes pending checkpoint directories that another process left (the database's lock
// means only one process checkpoints it, so their writer is gone).
void remove_stale_pending(const fs::path& local_directory) {
  const std::string ours = std::string(kPendingPrefix) + std::to_string(::getpid()) + "-";
  std::error_code error;
  for (fs::directory_iterator it(local_directory, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(kPendingPrefix) && !name.starts_with(ours)) {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  }
}

// Local recovery: the committed checkpoint's directory becomes "<base>/chk-<id>", the only
// copy kept. Best effort: without it a restore downloads.
void keep_local_copy(const Job& job, CheckpointId id) {
  std::vector<fs::path> earlier;
  std::error_code error;
  for (fs::directory_iterator it(job.local_base, error), end; !error && it != end; it.increment(error)) {
    if (it->path().filename().string().starts_with(internal::kCheckpointPrefix)) earlier.push_back(it->path());
  }
  for (const fs::path& path : earlier) fs::remove_all(path, error);
  fs::rename(job.native.directory, job.local_base / checkpoint_folder(id), error);
}

// The base directory of local checkpoints (created) and a fresh name in it for this one.
Result<fs::path> make_local_directory(const fs::path& base) {
  static std::atomic<uint64_t> counter{0};
  std::error_code error;
  fs::create_directories(base, error);
  if (error) {
    return Status::io_error("RocksDB checkpoint: cannot create the local checkpoint directory '" + base.string() +
                            "': " + error.message() + "; set RocksDbCheckpointOptions::local_directory");
  }
  remove_stale_pending(base);
  return base / (std::string(kPendingPrefix) + std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

}  // namespace

Result<PendingCheckpoint> start_rocksdb_checkpoint(RocksDbBackend& backend, CheckpointStorage& storage,
                                                   RocksDbCheckpointOptions options) {
  if (options.upload_threads == 0 || options.upload_threads > 64) {
    return Status::invalid_argument("RocksDbCheckpointOptions::upload_threads " +
                                    std::to_string(options.upload_threads) + " is out of range; use 1 to 64");
  }
  if (options.clock == nullptr) options.clock = system_clock();
  auto job = std::make_shared<Job>();
  job->started = std::chrono::steady_clock::now();
  job->local_base = options.local_directory.empty() ? fs::path(backend.path() + ".checkpoints")
                                                    : fs::path(options.local_directory);
  STREAMSTATE_ASSIGN_OR_RETURN(fs::path local, make_local_directory(job->local_base));
  STREAMSTATE_ASSIGN_OR_RETURN(job->native, backend.create_native_checkpoint(local.string()));
  job->created_millis = options.clock->now_millis();
  job->sync_micros = micros_since(job->started);
  job->storage = &storage;
  job->options = std::move(options);
  auto impl = std::make_shared<PendingCheckpoint::Impl>();
  Status started = impl->start([job]() -> Result<CheckpointInfo> {
    Result<CheckpointInfo> result = run(*job);
    if (result.is_ok() && job->options.keep_local_copy) keep_local_copy(*job, result->manifest.id);
    std::error_code ignored;
    fs::remove_all(job->native.directory, ignored);
    return result;
  });
  if (!started.is_ok()) {
    std::error_code ignored;
    fs::remove_all(job->native.directory, ignored);
    return started;
  }
  return PendingCheckpoint(std::move(impl));
}

Result<CheckpointInfo> write_rocksdb_checkpoint(RocksDbBackend& backend, CheckpointStorage& storage,
                                                RocksDbCheckpointOptions options) {
  STREAMSTATE_ASSIGN_OR_RETURN(PendingCheckpoint pending,
                               start_rocksdb_checkpoint(backend, storage, std::move(options)));
  return pending.wait();
}

}  // namespace streamstate
