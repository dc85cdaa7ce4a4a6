// Native incremental checkpoints of the RocksDB backend: the database's own table files are
// the checkpoint, and a table that an earlier checkpoint already stored is referenced, not
// uploaded again. Restore downloads the files into a new database directory.
//
//   auto done = streamstate::write_rocksdb_checkpoint(*backend, *storage, {});
//   ...
//   streamstate::RocksDbRestoreOptions restore;
//   restore.directory = "/var/lib/job/state";
//   auto restored = streamstate::restore_latest_rocksdb_checkpoint(*storage, restore);
//   auto reopened = streamstate::RocksDbBackend::open({.path = restore.directory});
//
// Layout in storage (docs/checkpoints.md, docs/formats.md): a table file is stored once, as
// "chk-<id of the checkpoint that uploaded it first>/rocksdb/<RocksDB's unique id of the
// table>.sst"; the other files of the database (MANIFEST-*, OPTIONS-*, CURRENT) belong to one
// checkpoint, as "chk-<id>/rocksdb/<their name>". The manifest ("chk-<id>/manifest.json",
// committed last) lists every file the database needs, with its name in the database
// directory, size and XXH3; files of earlier checkpoints are marked shared, and the
// checkpoints they come from are its parents. Retention (collect_garbage) keeps a shared file
// as long as a retained manifest names it.
//
// These checkpoints are listed, verified and collected like any other (list_checkpoints,
// verify_checkpoint, collect_garbage), but restored only by the functions here: the generic
// restore_checkpoint refuses them.
//
// Errors: Status/Result. kCorruption and kNotFound name the object at fault;
// kFailedPrecondition explains why a restore target or a checkpoint is refused.
//
// Thread-safety: every function may be called from any thread. The backend and the storage
// passed to start_rocksdb_checkpoint must outlive the PendingCheckpoint. With automatic ids,
// one checkpoint of a storage is written at a time (wait before starting the next).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "streamstate/checkpoint.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/clock.h"
#include "streamstate/key_group.h"
#include "streamstate/rocksdb.h"
#include "streamstate/status.h"

namespace streamstate {

struct RocksDbCheckpointOptions {
  // The checkpoint's id; 0 picks one more than the largest id found under "chk-". An id that
  // already has a manifest is kAlreadyExists. Default: 0.
  CheckpointId id = 0;
  // Where RocksDB's checkpoint (hard links to the live table files) is made before upload, in
  // a fresh sub-directory removed once the checkpoint is committed or failed. Must be on the
  // database's file system for hard links (else RocksDB copies the files). Created when
  // missing. Sub-directories "pending-<pid>-*" left by another, dead process are removed.
  // Default: "<database path>.checkpoints".
  std::string local_directory{};
  // Recorded as the checkpoint's range. Default: all of [0, max_parallelism).
  std::optional<KeyGroupRange> key_groups{};
  // Used when the database has no "!layout" record in "_ss.states"; a recorded layout wins.
  // Default: 128.
  uint32_t max_parallelism = kDefaultMaxParallelism;
  // Stored in the manifest as given.
  std::map<std::string, std::string> source_positions{};
  std::map<std::string, std::string> user_metadata{};
  // Files uploaded at once; 1..64. Default: 2.
  uint32_t upload_threads = 2;
  // Local recovery: once committed, keep the checkpoint's local directory as
  // "<local_directory>/chk-<id>" (hard links to its tables, so it costs disk space only for
  // tables the database has since compacted away) and remove the copies kept before, so that a
  // restart on this machine restores without downloading (RocksDbRestoreOptions::
  // local_directory). Default: false.
  bool keep_local_copy = false;
  // Creation time recorded in the manifest. Default: the system clock.
  std::shared_ptr<const Clock> clock{};
};

// Makes RocksDB's checkpoint of `backend` on the calling thread (memtables are flushed, table
// files hard-linked: writers are held up only by the flush) and returns; a background thread
// finds the tables the newest valid native checkpoint of `storage` holds, uploads the other
// files (size and XXH3 computed while uploading), then commits the manifest. A failed
// checkpoint removes the objects it uploaded itself (never shared ones) when the storage still
// answers. CheckpointInfo::entries is 0 (files are checkpointed, not entries); bytes_written
// counts the bytes uploaded, manifest included. Errors here: the native checkpoint's and bad
// options (kInvalidArgument).
Result<PendingCheckpoint> start_rocksdb_checkpoint(RocksDbBackend& backend, CheckpointStorage& storage,
                                                   RocksDbCheckpointOptions options);
// start_rocksdb_checkpoint followed by wait().
Result<CheckpointInfo> write_rocksdb_checkpoint(RocksDbBackend& backend, CheckpointStorage& storage,
                                                RocksDbCheckpointOptions options);

struct RocksDbRestoreOptions {
  // The database directory to create. It must not exist, or be an empty directory; its parent
  // must exist. Required.
  std::string directory{};
  // Keep only these key groups (rescaling: the range the new instance owns): the restored
  // database is opened once and every state column loses the other groups' keys (DeleteRange,
  // RocksDbBackend::retain_key_groups). Must lie within the checkpoint's range.
  // Default: the checkpoint's whole range.
  std::optional<KeyGroupRange> key_groups{};
  // Files downloaded at once; 1..64. Default: 2.
  uint32_t download_threads = 2;
  // Local recovery: the local_directory of the checkpoints (RocksDbCheckpointOptions, with
  // keep_local_copy). When it holds a kept copy of the checkpoint restored, each file whose
  // size and XXH3 match the manifest is taken from there (tables hard-linked when on the same
  // file system, other files copied) and only the others are downloaded. Default: empty
  // (download every file).
  std::string local_directory{};
  // As RestoreOptions (checkpoint.h): restore only these states (empty = all); restore states
  // under another name (checkpoint name -> new name: the column's entries move to a column of
  // the new name, with the state's "_ss.states" record and, mid-migration, its marker and
  // staging column); leave states out (column and record). Checked against the manifest before
  // anything is downloaded (kInvalidArgument naming the option and the state), applied to the
  // staged database before it appears. Default: every state under its own name.
  std::vector<std::string> states{};
  std::map<std::string, std::string> renames{};
  std::set<std::string> drops{};
};

// Downloads every file checkpoint `id` lists into a staging directory beside
// options.directory (".<name>.restore-*"), checks each file's size and XXH3 (kCorruption
// naming the object; a missing object is kNotFound), syncs the files and the directory, trims
// key groups when asked, then renames the staging directory to options.directory. A failed
// restore removes the staging directory and leaves options.directory as it was. Open the
// result with RocksDbBackend::open. The time taken depends on the checkpoint's size, never on
// how many checkpoints came before it (a manifest lists every file it needs).
// RestoreInfo::entries is 0 (files are restored, not entries); bytes_read counts the
// downloaded bytes (0 when the local copy served every file). kFailedPrecondition for a
// checkpoint that is not a native RocksDB one.
Result<RestoreInfo> restore_rocksdb_checkpoint(CheckpointStorage& storage, CheckpointId id,
                                               const RocksDbRestoreOptions& options);
// Several native checkpoints into one new database: the checkpoints of the instances of a job
// whose key-group ranges together cover options.key_groups (rescaling to fewer instances;
// default: the union of their ranges, which must be contiguous). They must be native, share
// max_parallelism, agree on their store records ("_ss.states") and not overlap
// (kInvalidArgument otherwise, naming the first key group no checkpoint covers). The first
// checkpoint that overlaps the range is restored as restore_rocksdb_checkpoint does (trimmed to
// its part of the range); each other one is fetched into a staging directory of its own and
// its state columns' entries in the range are loaded into the first as table files it ingests
// (RocksDbBackend::ingest_sorted; RestoreInfo::entries counts them). All or nothing, as
// restore_rocksdb_checkpoint.
Result<RestoreInfo> restore_rocksdb_checkpoints(const std::vector<RestoreSource>& sources,
                                                const RocksDbRestoreOptions& options);
// The newest native RocksDB checkpoint that restores: one with a missing or damaged file is
// skipped (its reason in RestoreInfo::skipped, as are newer checkpoints of another kind).
Result<RestoreInfo> restore_latest_rocksdb_checkpoint(CheckpointStorage& storage,
                                                      const RocksDbRestoreOptions& options);

}  // namespace streamstate
