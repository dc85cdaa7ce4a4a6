// Checkpoints: consistent, compressed, checksummed copies of a StateBackend kept in a
// CheckpointStorage, and everything needed to find, verify, restore and retire them.
//
//   auto pending = streamstate::start_checkpoint(*backend, *storage, {});   // returns after snapshot()
//   ... writers keep writing ...
//   streamstate::Result<streamstate::CheckpointInfo> done = pending->wait();
//   auto restored = streamstate::restore_latest_checkpoint(*storage, *fresh_backend, {});
//
// Layout in storage (docs/checkpoints.md, formats in docs/formats.md): checkpoint `id` is the
// objects under "chk-<id as 10 or more decimal digits>/": its data files first, then
// "manifest.json", whose commit is what makes the checkpoint exist. A checkpoint without a
// readable manifest does not exist for listing and restore; its objects are orphans.
//
// Works on every StateBackend through its interface (memory, RocksDB, Redis, custom): keys of
// checkpointed columns must be state keys (they start with their key group, u16 big-endian);
// the store's own record column "_ss.states" is kept in the manifest instead.
//
// Errors: Status/Result. kCorruption names the object at fault (manifest or data file);
// kNotFound names the checkpoint or object; kFailedPrecondition explains why a restore target
// is refused.
//
// Thread-safety: every function may be called from any thread. The backend and the storage
// passed to start_checkpoint must outlive the PendingCheckpoint. Several checkpoints of one
// storage may not be written at once with automatic ids (give explicit ids, or wait first).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/checkpoint_storage.h"
#include "streamstate/clock.h"
#include "streamstate/compression.h"
#include "streamstate/key_group.h"
#include "streamstate/schema.h"
#include "streamstate/status.h"

namespace streamstate {

using CheckpointId = uint64_t;

enum class CheckpointKind : uint8_t { kFull = 0, kIncremental = 1 };

// One state recorded in the backend's "_ss.states" column when the checkpoint was taken.
struct CheckpointState {
  std::string name;
  std::string kind;   // "value", "list", "map", "reducing", "aggregating"
  std::string codec;  // the codec's name
  bool ttl = false;   // values carry an expiry header
  SchemaVersion schema_version;

  friend bool operator==(const CheckpointState&, const CheckpointState&) = default;
};

// Where one key group's entries start in one column of a snapshot file.
struct CheckpointKeyGroupOffset {
  uint32_t key_group = 0;
  uint64_t offset = 0;
  uint64_t entries = 0;

  friend bool operator==(const CheckpointKeyGroupOffset&, const CheckpointKeyGroupOffset&) = default;
};

// One column of a snapshot file, as its index records it.
struct CheckpointFileColumn {
  std::string name;
  bool values_carry_expiry = false;
  uint64_t entries = 0;
  uint64_t section_offset = 0;
  uint64_t section_end = 0;
  std::vector<CheckpointKeyGroupOffset> key_groups;  // ascending, groups with entries only

  friend bool operator==(const CheckpointFileColumn&, const CheckpointFileColumn&) = default;
};

// What a data object of a checkpoint holds.
enum class CheckpointFileContent : uint8_t {
  // A snapshot file whose entries are restored as puts (full checkpoints, and the changed
  // entries of an incremental one).
  kEntries = 0,
  // A snapshot file of keys deleted since the parent checkpoint (values empty): restored as
  // deletes. Written by incremental checkpoints of backends that track changes.
  kTombstones = 1,
  // One file of a RocksDB database (a table, MANIFEST, OPTIONS or CURRENT), restored by
  // placing it in the database directory under CheckpointFile::local_name.
  kRocksDbFile = 2,
};
// "entries", "tombstones", "rocksdb".
std::string_view checkpoint_file_content_name(CheckpointFileContent content);

// One data object of a checkpoint. A manifest lists every file a restore needs, in the order
// they are applied: an incremental checkpoint lists its chain's files (shared) before its own.
struct CheckpointFile {
  std::string name;       // full object name, e.g. "chk-0000000007/state.snap"
  uint64_t size = 0;      // bytes
  uint64_t checksum = 0;  // XXH3-64 (seed 0) of the whole object
  // Written by an earlier checkpoint and referenced by this one (incremental checkpoints).
  bool shared = false;
  CheckpointFileContent content = CheckpointFileContent::kEntries;
  // kRocksDbFile: the file's name in the database directory ("000012.sst"); empty otherwise.
  std::string local_name;
  // Snapshot files (kEntries, kTombstones): a copy of the file's index. Empty for kRocksDbFile.
  std::vector<CheckpointFileColumn> columns;

  friend bool operator==(const CheckpointFile&, const CheckpointFile&) = default;
};

// Everything a checkpoint's manifest records (docs/formats.md, "Checkpoint manifest").
struct CheckpointManifest {
  CheckpointId id = 0;
  int64_t created_millis = 0;  // milliseconds since the epoch, when the snapshot was taken
  CheckpointKind kind = CheckpointKind::kFull;
  std::vector<CheckpointId> parents;  // the chain an incremental checkpoint builds on; empty for full
  std::string backend_kind;           // StateBackend::kind() of the source
  uint32_t max_parallelism = kDefaultMaxParallelism;
  KeyGroupRange key_groups;            // the key groups this checkpoint holds
  std::vector<CheckpointState> states;       // from "_ss.states", sorted by name
  std::vector<std::string> columns;          // every backend column checkpointed, sorted
  // The raw entries of "_ss.states" (key -> value bytes), restored as they were.
  std::map<std::string, std::string> store_records;
  std::vector<CheckpointFile> files;
  std::map<std::string, std::string> source_positions;  // opaque to streamstate
  std::map<std::string, std::string> user_metadata;     // opaque to streamstate
  // For a LoggedBackend's checkpoint: the write-ahead log position its snapshot includes
  // (BackendSnapshot::log_position); recovery replays the log from the next record.
  std::optional<uint64_t> log_position;

  friend bool operator==(const CheckpointManifest&, const CheckpointManifest&) = default;
};

// "chk-0000000007": the prefix of every object of checkpoint `id` (without the '/').
std::string checkpoint_folder(CheckpointId id);
// "chk-0000000007/manifest.json".
std::string checkpoint_manifest_name(CheckpointId id);

// ---- Taking a checkpoint ------------------------------------------------------------------

// Incremental checkpoints (docs/checkpoints.md, "Incremental checkpoints"): with a backend that
// tracks its changes (StateBackend::change_tracker(): the memory backend with
// MemoryBackendOptions::track_changes), a checkpoint writes only the keys changed since the
// last checkpoint of that backend in the same storage - a delta of puts and tombstones - and
// lists the files of the chain it builds on (full + earlier deltas) as shared. A checkpoint is
// written in full instead when there is no such base (first checkpoint of the process, base
// deleted or damaged, another storage or key-group range), when the chain reached
// `full_every` checkpoints, or when the chain's deltas passed `max_delta_share` of the full
// checkpoint's bytes. Backends without a tracker are always checkpointed in full (RocksDB has
// its own incremental path, streamstate/rocksdb_checkpoint.h).
struct IncrementalOptions {
  // Default: false (every checkpoint full).
  bool enabled = false;
  // At most this many checkpoints per chain: a full one, then full_every - 1 deltas. 1 means
  // always full. Bounds restore time: a restore reads one chain. Default: 10.
  uint32_t full_every = 10;
  // A full checkpoint once the chain's deltas hold more than this share of the full
  // checkpoint's bytes (0 = always full, 1 = up to as many bytes again). Default: 0.5.
  double max_delta_share = 0.5;
};

// Progress of a checkpoint being written, reported after each append to the storage.
struct CheckpointProgress {
  CheckpointId id = 0;
  uint64_t bytes_written = 0;  // data bytes appended so far (this checkpoint's own files)
  uint64_t files_committed = 0;
};

struct CheckpointOptions {
  // The checkpoint's id; 0 picks one more than the largest id found under "chk-" (committed
  // or not). An id that already has a manifest is kAlreadyExists. Default: 0.
  CheckpointId id = 0;
  // Block compression. Default: LZ4.
  CompressionType compression = CompressionType::kLz4;
  // Uncompressed bytes per block (a block never spans key groups). Default: 64 KiB.
  uint64_t block_bytes = 64 * 1024;
  // Threads compressing blocks, the background thread among them; 1..64. Default: 2.
  uint32_t compression_threads = 2;
  // Bytes gathered before each append to the storage (one request to remote storage).
  // Default: 1 MiB.
  size_t write_buffer_bytes = size_t{1} << 20;
  // Only these key groups are written (and recorded as the checkpoint's range).
  // Default: all of [0, max_parallelism).
  std::optional<KeyGroupRange> key_groups{};
  // Used when the backend has no "!layout" record in "_ss.states" (plain StateBackend use);
  // a recorded layout wins. Entries of key groups at or above it fail the checkpoint.
  // Default: 128.
  uint32_t max_parallelism = kDefaultMaxParallelism;
  // Columns whose values start with an expiry header: their expired entries are not written
  // and restore opens them with ColumnOptions::values_carry_expiry. Default (nullopt): the
  // states whose "_ss.states" record has a TTL. Give the set when columns are opened with
  // values_carry_expiry outside a KeyedStateStore (scratch state, StateAccess without a
  // record), or leave out a TTL state that switched off its backend's cleanup
  // (cleanup_in_background on memory, cleanup_in_compaction on RocksDB): the store then opens
  // its column without values_carry_expiry, and the restored column must match.
  std::optional<std::set<std::string>> expiring_columns{};
  // Columns left out of the checkpoint (and of its column list, so a restore does not create
  // them): columns whose keys are not state keys, such as a ScratchState column. Default: none.
  std::set<std::string> excluded_columns{};
  // Stored in the manifest as given.
  std::map<std::string, std::string> source_positions{};
  std::map<std::string, std::string> user_metadata{};
  // Creation time and the time expiry is checked against. Default: the system clock.
  std::shared_ptr<const Clock> clock{};
  // Write deltas when the backend tracks changes. Default: off.
  IncrementalOptions incremental{};
  // Called on the checkpoint's background thread after each append to the storage (about every
  // write_buffer_bytes) and after each file's commit; must not block for long or throw.
  // Default: none.
  std::function<void(const CheckpointProgress&)> on_progress{};
};

struct CheckpointInfo {
  CheckpointManifest manifest;
  uint64_t bytes_written = 0;      // data objects and manifest
  uint64_t entries = 0;            // entries written
  uint64_t expired_dropped = 0;    // expired entries left out
  uint64_t tombstones = 0;         // keys deleted since the parent (incremental checkpoints)
  // When incremental checkpoints were asked for and this one is full: why (one line).
  std::string full_reason;
  int64_t sync_micros = 0;         // the synchronous part (taking the snapshot)
  int64_t total_micros = 0;        // from start to the manifest's commit
};

// A checkpoint being written in the background. wait() blocks until it is committed or failed;
// it may be called any number of times (same result). Destroying it waits too.
class PendingCheckpoint {
 public:
  class Impl;
  explicit PendingCheckpoint(std::shared_ptr<Impl> impl);
  ~PendingCheckpoint();
  PendingCheckpoint(PendingCheckpoint&&) noexcept;
  PendingCheckpoint& operator=(PendingCheckpoint&&) noexcept;

  Result<CheckpointInfo> wait();
  // True once wait() would not block.
  bool done() const;

 private:
  std::shared_ptr<Impl> impl_;
};

// Takes backend.snapshot() on the calling thread and returns; a background thread encodes,
// compresses and uploads the snapshot, then commits the manifest. A failed checkpoint removes
// the data objects it committed when the storage still answers (else they are orphans, see
// find_orphans). Errors here: the snapshot's and bad options (kInvalidArgument).
Result<PendingCheckpoint> start_checkpoint(StateBackend& backend, CheckpointStorage& storage,
                                           CheckpointOptions options);
// start_checkpoint followed by wait().
Result<CheckpointInfo> write_checkpoint(StateBackend& backend, CheckpointStorage& storage, CheckpointOptions options);

// ---- Finding and verifying checkpoints ----------------------------------------------------

// A checkpoint that was passed over, and why.
struct SkippedCheckpoint {
  CheckpointId id = 0;
  Status reason;
};

struct CheckpointListing {
  std::vector<CheckpointManifest> valid;  // ascending id
  std::vector<SkippedCheckpoint> skipped;  // manifests that cannot be read, or whose files are missing
};

// Every checkpoint with a manifest object. A checkpoint is valid when its manifest verifies
// and every file it names exists with the recorded size (contents are checked by verify).
Result<CheckpointListing> list_checkpoints(CheckpointStorage& storage);
// The manifest of checkpoint `id`: kNotFound when it has none, kCorruption naming the object.
Result<CheckpointManifest> read_checkpoint(CheckpointStorage& storage, CheckpointId id);
// The valid checkpoint with the largest id (or with the latest created_millis at or before
// `at_or_before_millis`), kNotFound when there is none; `skipped` (when given) receives the
// newer checkpoints passed over and why.
Result<CheckpointManifest> latest_checkpoint(CheckpointStorage& storage,
                                             std::vector<SkippedCheckpoint>* skipped = nullptr);
Result<CheckpointManifest> latest_checkpoint_at_or_before(CheckpointStorage& storage, int64_t at_or_before_millis,
                                                          std::vector<SkippedCheckpoint>* skipped = nullptr);
// Reads every object of checkpoint `id` and checks the manifest, each file's size and XXH3,
// and every block of every snapshot file. The first bad object is named (kCorruption, or
// kNotFound for a missing one).
Status verify_checkpoint(CheckpointStorage& storage, CheckpointId id);

// ---- Restoring ----------------------------------------------------------------------------

// Progress of a restore's write phase.
struct RestoreProgress {
  uint64_t entries_written = 0;  // puts and deletes applied so far
  uint64_t entries_total = 0;    // what the restore will apply, from the manifests
};

struct RestoreOptions {
  // Restore only these key groups (rescaling: the range the new instance owns). Default: the
  // checkpoint's whole range.
  std::optional<KeyGroupRange> key_groups{};
  // Restore only these states (column names, as the checkpoint has them); empty = all. An
  // unknown name is kInvalidArgument.
  std::vector<std::string> states{};
  // States restored under another name: checkpoint name -> new name. The state's column, its
  // "_ss.states" record (and, mid-migration, its marker and staging column) move to the new
  // name; entries and TTL headers are restored as they are. Default: none.
  std::map<std::string, std::string> renames{};
  // States left out of the restore: neither their column nor their "_ss.states" record is
  // written. Default: none.
  // Both are checked before anything is read: a name the checkpoint does not hold, a state both
  // renamed and dropped (or dropped and named in `states`), a new name that is not a state name
  // (empty, starting with '!' or "_ss.") and two states restored under one name are
  // kInvalidArgument. check_compatibility with the same renames and drops previews the result.
  std::set<std::string> drops{};
  // Threads writing into the backend, each restoring a key-group sub-range; 1..256. A backend
  // whose capabilities() are not thread_safe is written by one thread. Default: 1.
  uint32_t threads = 1;
  // Called after each file of each key-group sub-range is written, from the restore's threads
  // one at a time; must not block for long or throw. Default: none.
  std::function<void(const RestoreProgress&)> on_progress{};
};

// One checkpoint to restore from: a storage and a checkpoint id in it.
struct RestoreSource {
  CheckpointStorage* storage = nullptr;
  CheckpointId id = 0;
};

struct RestoreInfo {
  std::vector<CheckpointId> ids;          // the checkpoints restored, in source order
  uint64_t entries = 0;                   // entries written (over an incremental chain, each put)
  uint64_t deletes = 0;                   // tombstones of incremental checkpoints applied
  uint64_t bytes_read = 0;                // bytes read from the storage (data files)
  std::vector<std::string> columns;       // the columns written (under their new names), sorted
  std::vector<SkippedCheckpoint> skipped;  // restore_latest_*: newer checkpoints passed over
};

// Restores checkpoint `id` into `target`, whose restored columns must be absent or empty
// (kFailedPrecondition naming the first non-empty one). Everything needed is read and
// verified before the first write; an error while writing (the target's own I/O) clears the
// restored columns again (dropping those the restore created), so a failed restore leaves the
// target as it was. Entries go in through WriteBatches, one per block.
Result<RestoreInfo> restore_checkpoint(CheckpointStorage& storage, CheckpointId id, StateBackend& target,
                                       const RestoreOptions& options);
// Several checkpoints into one target in one all-or-nothing restore: the checkpoints of the
// instances of a job whose key-group ranges together cover options.key_groups (rescaling to a
// lower parallelism). They must share max_parallelism and agree on their store records; their
// ranges must not overlap.
Result<RestoreInfo> restore_checkpoints(const std::vector<RestoreSource>& sources, StateBackend& target,
                                        const RestoreOptions& options);
// The newest checkpoint that verifies (an unreadable or damaged one is skipped, its reason in
// RestoreInfo::skipped), or the newest created at or before `at_or_before_millis`.
Result<RestoreInfo> restore_latest_checkpoint(CheckpointStorage& storage, StateBackend& target,
                                              const RestoreOptions& options);
Result<RestoreInfo> restore_checkpoint_at_or_before(CheckpointStorage& storage, int64_t at_or_before_millis,
                                                    StateBackend& target, const RestoreOptions& options);

// ---- Compatibility check before a restore (a dry run: nothing is read but the manifest) ----
// How a state of the checkpoint meets the states a program will register.
enum class StateVerdict : uint8_t {
  kSame = 0,          // same kind, codec, TTL setting and schema major version
  kMigratable = 1,    // restorable with what the program registers: a schema migration path, or
                      // consent to switch TTL on or off
  kIncompatible = 2,  // cannot be opened by the program as it is (the reason says why)
  kMissing = 3,       // the program registers it, the checkpoint does not have it (starts empty)
  kExtra = 4,         // the checkpoint has it, the program does not register it (restored unused)
  kDropped = 5,       // the checkpoint has it and CompatibilityOptions::drops leaves it out
};
std::string_view state_verdict_name(StateVerdict verdict);

struct StateCompatibility {
  std::string name;             // as the program registers it (after renames)
  std::string checkpoint_name;  // as the checkpoint has it; empty for kMissing
  StateVerdict verdict = StateVerdict::kSame;
  std::string reason;           // one line; empty for kSame
};

struct CompatibilityOptions {
  // States restored under another name: checkpoint name -> the program's name.
  std::map<std::string, std::string> renames{};
  // Checkpoint states left out of the restore.
  std::set<std::string> drops{};
  // The schema migrations the program registers (KeyedStateStore::register_migration): state
  // (program name) -> steps as (from major, to major). Chains of steps count.
  std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> migrations{};
  // States whose TTL the program consents to switch on or off
  // (KeyedStateStore::register_ttl_change), by program name.
  std::set<std::string> ttl_switches{};
};

struct CompatibilityReport {
  std::vector<StateCompatibility> states;  // sorted by program name
  // No state is kIncompatible.
  bool restorable() const;
  // Every state not kSame, one line each: "map state 'carts': incompatible - ...".
  std::string summary() const;
};

// Compares the states of `manifest` with `expected` (what the program will register; the
// CheckpointState of each, as its descriptor gives them) under `options`. Kind or codec
// differences are incompatible; a TTL switch needs consent; a new schema major version needs a
// migration path; minor and patch versions may differ. A rename onto a name another state
// also takes is incompatible, and so are the renames and drops a restore refuses (a state the
// checkpoint does not hold, one both renamed and dropped, a new name that is no state name).
CompatibilityReport check_compatibility(const CheckpointManifest& manifest, const std::vector<CheckpointState>& expected,
                                        const CompatibilityOptions& options = {});

// ---- Merging an incremental chain into one full checkpoint --------------------------------
// Deletes (tombstones) always apply in chain order; the policy decides between puts of a key.
enum class MergePolicy : uint8_t {
  // A later put wins: the merged checkpoint holds exactly what restoring the chain gives.
  kLastWriteWins = 0,
  // A key keeps the first value the chain gave it until a delete; later puts are ignored.
  kFirstWriteWins = 1,
  // The put with the larger MergeOptions::timestamp_of wins (ties: the later one), so updates
  // that reached the chain out of order resolve by their own time.
  kTimestampPriority = 2,
};

struct MergeOptions {
  MergePolicy policy = MergePolicy::kLastWriteWins;
  // kTimestampPriority: a put's time, from its column, key and stored value (bytes as the
  // backend stores them: with the expiry header in expiring columns). Required for that policy.
  std::function<int64_t(std::string_view column, BytesView key, BytesView value)> timestamp_of{};
  // The merged checkpoint's id; 0 = the next one. Default: 0.
  CheckpointId id = 0;
  // Compression and block size of the merged snapshot file, as CheckpointOptions.
  CompressionType compression = CompressionType::kLz4;
  uint64_t block_bytes = 64 * 1024;
};

// Reads checkpoint `id` and the chain it builds on (full + deltas), merges them under
// options.policy, and writes the result as a new full checkpoint into the same storage, keeping
// the chain's creation time, key-group range, backend kind, source positions, log position
// and user metadata (plus "merged_from": the id). The chain is left as it is; retention removes
// it once the merged checkpoint is among the retained ones. Every file read is verified first
// (kCorruption naming it). A RocksDB native checkpoint is kFailedPrecondition.
Result<CheckpointInfo> merge_checkpoint_chain(CheckpointStorage& storage, CheckpointId id,
                                              const MergeOptions& options = {});

// ---- Logged backends (memory state with a write-ahead log) -------------------------------
class LoggedBackend;

struct LoggedRecoveryInfo {
  // The checkpoint restored, when there was one.
  std::optional<CheckpointId> checkpoint;
  std::optional<RestoreInfo> restored;
  // The first log record replayed (the one after the checkpoint's log_position, or the oldest).
  uint64_t replayed_from = 0;
  uint64_t records_replayed = 0;
};

// Brings a LoggedBackend whose inner backend is empty back to its last acknowledged state:
// restores the newest valid checkpoint of `storage` (skipping damaged ones, as
// restore_latest_checkpoint) into the inner backend, then replays the log from the record after
// the checkpoint's log_position (the whole log when there is no checkpoint). Call it at start,
// before writing. kFailedPrecondition when the checkpoint has no log_position (it was not taken
// of a LoggedBackend), or when the log no longer holds the records that must be replayed (it was
// truncated past them): recovery would silently lose them.
Result<LoggedRecoveryInfo> recover_logged_backend(LoggedBackend& backend, CheckpointStorage& storage,
                                                  const RestoreOptions& options = {});

// ---- Retention and garbage collection -----------------------------------------------------

struct GarbageCollectionOptions {
  // Valid checkpoints kept, the newest ones; at least 1. Default: 1.
  size_t retain_last = 1;
  // Also delete orphans (objects under "chk-" that no manifest references, e.g. left by a
  // crashed checkpoint). Only when no checkpoint is being written into this storage (at
  // start-up): a checkpoint in flight has no manifest yet. Default: false.
  bool remove_orphans = false;
  // List what would be deleted, delete nothing (and skip remove_incomplete). Default: false.
  bool dry_run = false;
};

struct GarbageCollectionReport {
  std::vector<CheckpointId> retained;           // ascending
  std::vector<CheckpointId> removed;            // checkpoints whose manifest is (or would be) deleted
  std::vector<std::string> deleted_objects;     // every object deleted (or to delete), sorted
  std::vector<std::string> orphans;             // unreferenced objects found, sorted
};

// Keeps the newest `retain_last` valid checkpoints and deletes the older ones: first each
// manifest, then its files that no retained manifest references (shared files survive as long
// as a retained checkpoint names them). Which files are needed is derived from the retained
// manifests only. A damaged checkpoint older than the oldest retained one is removed with its
// folder; a newer damaged one is left alone. Calls storage.remove_incomplete() first.
Result<GarbageCollectionReport> collect_garbage(CheckpointStorage& storage, const GarbageCollectionOptions& options);

// Objects under "chk-" that no usable checkpoint references, that are not a manifest and that
// are not in the folder of a damaged checkpoint (listed by list_checkpoints as skipped), sorted:
// the leftovers of a checkpoint that failed or crashed before its manifest was committed.
Result<std::vector<std::string>> find_orphans(CheckpointStorage& storage);

}  // namespace streamstate
