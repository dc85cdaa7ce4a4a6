// Local recovery: the remote keeps the truth, a local directory keeps the newest checkpoints'
// files, and a local copy is served only when a manifest vouches for its size and XXH3.
#include "checkpoint/local_recovery_storage.h"

#include <algorithm>
#include <set>
#include <utility>

#include "checkpoint/checkpoint_names.h"
#include "checkpoint/manifest.h"
#include "streamstate/checksum.h"
#include "util/status_macros.h"

namespace streamstate::internal {

// Writes the remote object and, while it can, the local copy; the remote's result is the
// writer's result.
class LocalRecoveryWriter final : public StorageWriter {
 public:
  LocalRecoveryWriter(LocalRecoveryStorageImpl* owner, std::unique_ptr<StorageWriter> remote,
                      std::unique_ptr<StorageWriter> local, bool is_manifest)
      : owner_(owner), remote_(std::move(remote)), local_(std::move(local)) {
    if (is_manifest) manifest_bytes_.emplace();
  }

  Status append(BytesView data) override {
    STREAMSTATE_RETURN_IF_ERROR(remote_->append(data));
    if (local_ != nullptr && !local_->append(data).is_ok()) drop_local();
    if (manifest_bytes_) manifest_bytes_->append(data);
    return Status::ok();
  }

  // The local copy is not synced here: its commit syncs it, and it is only a copy.
  Status sync() override { return remote_->sync(); }

  Status commit() override {
    STREAMSTATE_RETURN_IF_ERROR(remote_->commit());
    bool copied = false;
    if (local_ != nullptr) {
      copied = local_->commit().is_ok();
      if (!copied) owner_->local_write_failed();
    }
    owner_->object_committed(remote_->name(), copied, remote_->size(), manifest_bytes_);
    return Status::ok();
  }

  const std::string& name() const override { return remote_->name(); }
  uint64_t size() const override { return remote_->size(); }

 private:
  void drop_local() {
    local_.reset();  // discards what it wrote
    owner_->local_write_failed();
  }

  LocalRecoveryStorageImpl* owner_;
  std::unique_ptr<StorageWriter> remote_;
  std::unique_ptr<StorageWriter> local_;
  std::optional<std::string> manifest_bytes_;  // the bytes, for a manifest
};

Result<std::unique_ptr<LocalRecoveryStorageImpl>> LocalRecoveryStorageImpl::open(
    std::shared_ptr<CheckpointStorage> remote, const LocalRecoveryOptions& options) {
  if (remote == nullptr) return Status::invalid_argument("open_local_recovery_storage: the remote storage is null");
  if (options.path.empty()) {
    return Status::invalid_argument("LocalRecoveryOptions::path is empty; set it to a local directory for the copy");
  }
  if (options.keep_checkpoints == 0) {
    return Status::invalid_argument("LocalRecoveryOptions::keep_checkpoints is 0; keep at least 1 checkpoint");
  }
  STREAMSTATE_ASSIGN_OR_RETURN(
      std::unique_ptr<storage::DirectoryStorage> local,
      storage::DirectoryStorage::open({.path = options.path, .write_buffer_bytes = options.write_buffer_bytes}));
  std::unique_ptr<LocalRecoveryStorageImpl> storage(
      new LocalRecoveryStorageImpl(std::move(remote), std::move(local), options.keep_checkpoints));
  const std::string where = "local recovery copy in " + storage->local_path();
  STREAMSTATE_RETURN_IF_ERROR(storage->local_->remove_incomplete().with_context(where));
  STREAMSTATE_RETURN_IF_ERROR(storage->load_local_manifests().with_context(where));
  STREAMSTATE_RETURN_IF_ERROR(storage->prune().with_context(where));
  return storage;
}

Status LocalRecoveryStorageImpl::load_local_manifests() {
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, local_->list(kCheckpointPrefix));
  for (const StoredObject& object : objects) {
    if (!is_manifest_name(object.name)) continue;
    Result<std::string> bytes = local_->read(object.name);
    Result<CheckpointManifest> manifest =
        bytes.is_ok() ? parse_manifest(object.name, *bytes) : Result<CheckpointManifest>(bytes.status());
    if (!manifest.is_ok() || manifest->id != checkpoint_id_of(object.name)) {
      (void)local_->remove(object.name);  // damaged: its folder is pruned like any unneeded one
      continue;
    }
    std::lock_guard lock(mutex_);
    learn_files_locked(*manifest);
    keep_manifest_locked(std::move(manifest).value());
  }
  return Status::ok();
}

void LocalRecoveryStorageImpl::learn_files_locked(const CheckpointManifest& manifest) {
  for (const CheckpointFile& file : manifest.files) {
    ExpectedFile& expected = expected_[file.name];
    if (expected.size != file.size || expected.checksum != file.checksum) {
      expected = ExpectedFile{file.size, file.checksum, false};
    }
  }
}

void LocalRecoveryStorageImpl::keep_manifest_locked(CheckpointManifest manifest) {
  CheckpointId id = manifest.id;
  kept_.insert_or_assign(id, std::move(manifest));
  while (kept_.size() > keep_checkpoints_) kept_.erase(kept_.begin());
}

Status LocalRecoveryStorageImpl::prune() {
  std::lock_guard prune_lock(prune_mutex_);
  std::set<std::string, std::less<>> needed;
  CheckpointId newest = 0;
  {
    std::lock_guard lock(mutex_);
    if (kept_.empty()) return Status::ok();
    newest = kept_.rbegin()->first;
    for (const auto& [id, manifest] : kept_) {
      needed.insert(checkpoint_manifest_name(id));
      for (const CheckpointFile& file : manifest.files) needed.insert(file.name);
    }
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, local_->list(kCheckpointPrefix));
  std::set<std::string, std::less<>> remaining;
  for (const StoredObject& object : objects) {
    std::optional<CheckpointId> id = checkpoint_id_of(object.name);
    if (!id || *id > newest || needed.contains(object.name)) {
      remaining.insert(object.name);
      continue;
    }
    STREAMSTATE_RETURN_IF_ERROR(local_->remove(object.name));
    ++stats_.objects_pruned;
  }
  // What is known about files without a local copy serves nothing: forget it, so that the
  // map stays as small as the local copy.
  std::lock_guard lock(mutex_);
  std::erase_if(expected_, [&](const auto& entry) { return !remaining.contains(entry.first); });
  return Status::ok();
}

void LocalRecoveryStorageImpl::object_committed(const std::string& name, bool copied, uint64_t size,
                                                const std::optional<std::string>& manifest_bytes) {
  if (copied) {
    ++stats_.objects_copied;
    stats_.bytes_copied += size;
  } else {
    (void)local_->remove(name);  // an older copy under this name must not linger
  }
  std::optional<CheckpointManifest> manifest;
  if (manifest_bytes) {
    Result<CheckpointManifest> parsed = parse_manifest(name, *manifest_bytes);
    if (parsed.is_ok() && parsed->id == checkpoint_id_of(name)) manifest = std::move(parsed).value();
  }
  {
    std::lock_guard lock(mutex_);
    auto it = expected_.find(name);
    if (it != expected_.end()) it->second.verified = false;  // new bytes: check them again
    if (!manifest) return;
    learn_files_locked(*manifest);
    keep_manifest_locked(std::move(*manifest));
  }
  // A failed prune leaves more in the local copy than needed (the next one retries); the
  // checkpoint itself is committed.
  (void)prune();
}

Result<std::unique_ptr<StorageWriter>> LocalRecoveryStorageImpl::create(std::string_view name) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StorageWriter> remote, remote_->create(name));
  Result<std::unique_ptr<StorageWriter>> local = local_->create(name);
  std::unique_ptr<StorageWriter> local_writer;
  if (local.is_ok()) {
    local_writer = std::move(local).value();
  } else {
    local_write_failed();
  }
  return std::unique_ptr<StorageWriter>(
      new LocalRecoveryWriter(this, std::move(remote), std::move(local_writer), is_manifest_name(name)));
}

Result<std::string> LocalRecoveryStorageImpl::read(std::string_view name) {
  if (is_manifest_name(name)) {
    STREAMSTATE_ASSIGN_OR_RETURN(std::string bytes, remote_->read(name));
    ++stats_.manifest_reads;
    stats_.manifest_bytes_read += bytes.size();
    Result<CheckpointManifest> manifest = parse_manifest(name, bytes);
    if (manifest.is_ok() && manifest->id == checkpoint_id_of(name)) {
      std::lock_guard lock(mutex_);
      learn_files_locked(*manifest);
    }
    return bytes;
  }
  std::optional<std::string> local = read_local(name, 0, std::nullopt);
  if (local) return std::move(*local);
  return read_remote(name, 0, std::nullopt);
}

Result<std::string> LocalRecoveryStorageImpl::read_range(std::string_view name, uint64_t offset, uint64_t length) {
  if (!is_manifest_name(name)) {
    std::optional<std::string> local = read_local(name, offset, length);
    if (local) return std::move(*local);
  }
  return read_remote(name, offset, length);
}

std::optional<std::string> LocalRecoveryStorageImpl::read_local(std::string_view name, uint64_t offset,
                                                                std::optional<uint64_t> length) {
  ExpectedFile expected;
  {
    std::lock_guard lock(mutex_);
    auto it = expected_.find(name);
    if (it == expected_.end()) return std::nullopt;
    expected = it->second;
  }
  std::string out;
  if (!expected.verified || !length) {
    Result<std::string> whole = local_->read(name);
    if (!whole.is_ok()) return std::nullopt;  // no local copy (or a local error): the remote has it
    if (whole->size() != expected.size || (!expected.verified && checksum64(*whole) != expected.checksum)) {
      reject_local_copy(name);
      return std::nullopt;
    }
    if (!expected.verified) {
      std::lock_guard lock(mutex_);
      auto it = expected_.find(name);
      if (it != expected_.end() && it->second.size == expected.size && it->second.checksum == expected.checksum) {
        it->second.verified = true;
      }
    }
    if (!length) {
      out = std::move(whole).value();
    } else {
      // Out of range: the remote answers with its own error.
      if (offset > whole->size() || *length > whole->size() - offset) return std::nullopt;
      out = whole->substr(offset, *length);
    }
  } else {
    Result<std::string> part = local_->read_range(name, offset, *length);
    if (!part.is_ok()) return std::nullopt;
    out = std::move(part).value();
  }
  ++stats_.local_reads;
  stats_.local_bytes_read += out.size();
  return out;
}

void LocalRecoveryStorageImpl::reject_local_copy(std::string_view name) {
  ++stats_.local_copies_rejected;
  (void)local_->remove(name);
  std::lock_guard lock(mutex_);
  auto it = expected_.find(name);
  if (it != expected_.end()) it->second.verified = false;
}

Result<std::string> LocalRecoveryStorageImpl::read_remote(std::string_view name, uint64_t offset,
                                                          std::optional<uint64_t> length) {
  Result<std::string> bytes = length ? remote_->read_range(name, offset, *length) : remote_->read(name);
  if (bytes.is_ok()) {
    ++stats_.remote_reads;
    stats_.remote_bytes_read += bytes->size();
  }
  return bytes;
}

Result<std::vector<StoredObject>> LocalRecoveryStorageImpl::list(std::string_view prefix) {
  return remote_->list(prefix);
}

Result<bool> LocalRecoveryStorageImpl::exists(std::string_view name) { return remote_->exists(name); }

Status LocalRecoveryStorageImpl::remove(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(remote_->remove(name));
  {
    std::lock_guard lock(mutex_);
    expected_.erase(std::string(name));  // never served locally again, whatever the local remove does
    std::optional<CheckpointId> id = checkpoint_id_of(name);
    if (id && is_manifest_name(name)) kept_.erase(*id);
  }
  // The local copy is only a copy: a failure to delete it is not the caller's failure.
  (void)local_->remove(name);
  return Status::ok();
}

Status LocalRecoveryStorageImpl::remove_incomplete() {
  STREAMSTATE_RETURN_IF_ERROR(remote_->remove_incomplete());
  (void)local_->remove_incomplete();
  return Status::ok();
}

std::string LocalRecoveryStorageImpl::describe() const {
  return remote_->describe() + " (local recovery copy in " + local_->root().string() + ")";
}

LocalRecoveryStatistics LocalRecoveryStorageImpl::statistics() const {
  LocalRecoveryStatistics out;
  out.local_reads = stats_.local_reads.load();
  out.local_bytes_read = stats_.local_bytes_read.load();
  out.remote_reads = stats_.remote_reads.load();
  out.remote_bytes_read = stats_.remote_bytes_read.load();
  out.manifest_reads = stats_.manifest_reads.load();
  out.manifest_bytes_read = stats_.manifest_bytes_read.load();
  out.local_copies_rejected = stats_.local_copies_rejected.load();
  out.objects_copied = stats_.objects_copied.load();
  out.bytes_copied = stats_.bytes_copied.load();
  out.local_write_failures = stats_.local_write_failures.load();
  out.objects_pruned = stats_.objects_pruned.load();
  return out;
}

}  // namespace streamstate::internal

namespace streamstate {

Result<std::unique_ptr<LocalRecoveryStorage>> open_local_recovery_storage(std::shared_ptr<CheckpointStorage> remote,
                                                                          const LocalRecoveryOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto storage, internal::LocalRecoveryStorageImpl::open(std::move(remote), options));
  return std::unique_ptr<LocalRecoveryStorage>(std::move(storage));
}

}  // namespace streamstate
