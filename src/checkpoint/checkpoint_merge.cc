// Merging an incremental chain into one full checkpoint: the chain's files are read in order
// into a memory backend under the merge policy, and that backend is checkpointed in full with
// the chain's metadata.
#include <memory>
#include <set>
#include <string>

#include "checkpoint/checkpoint_verify.h"
#include "checkpoint/checkpoint_writer.h"
#include "checkpoint/store_catalog.h"
#include "streamstate/checkpoint.h"
#include "streamstate/memory.h"
#include "streamstate/write_batch.h"
#include "util/status_macros.h"

namespace streamstate {
namespace {

using EntryViews = std::vector<std::pair<BytesView, BytesView>>;

// Applies one block of the chain to the merged state.
Status apply_block(StateBackend& merged, StateColumn& column, const std::string& name, EntryViews& entries,
                   bool deletes, const MergeOptions& options) {
  if (deletes) {
    WriteBatch batch;
    for (const auto& entry : entries) batch.remove(name, entry.first);
    return merged.write(batch);
  }
  if (options.policy == MergePolicy::kLastWriteWins) return merged.put_entries(name, entries);
  std::string current;
  for (const auto& [key, value] : entries) {
    STREAMSTATE_ASSIGN_OR_RETURN(bool present, column.get_into(key, current));
    bool wins = !present;
    if (present && options.policy == MergePolicy::kTimestampPriority) {
      wins = options.timestamp_of(name, key, value) >= options.timestamp_of(name, key, current);
    }
    if (wins) STREAMSTATE_RETURN_IF_ERROR(column.put(key, value));
  }
  return Status::ok();
}

}  // namespace

Result<CheckpointInfo> merge_checkpoint_chain(CheckpointStorage& storage, CheckpointId id, const MergeOptions& options) {
  if (options.policy == MergePolicy::kTimestampPriority && !options.timestamp_of) {
    return Status::invalid_argument("MergeOptions::timestamp_of is empty; kTimestampPriority needs it to tell "
                                    "which put of a key is newer");
  }
  STREAMSTATE_ASSIGN_OR_RETURN(CheckpointManifest manifest, read_checkpoint(storage, id));
  const std::string where = "merge of checkpoint " + std::to_string(id);
  std::set<std::string, std::less<>> columns(manifest.columns.begin(), manifest.columns.end());
  columns.erase(std::string(internal::kStoreRecordsColumn));
  std::set<std::string> expiring;

  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBackend> merged, MemoryBackend::open({}));
  if (!manifest.store_records.empty()) {
    WriteBatch records;
    for (const auto& [key, value] : manifest.store_records) records.put(internal::kStoreRecordsColumn, key, value);
    STREAMSTATE_RETURN_IF_ERROR(merged->column(internal::kStoreRecordsColumn).status());
    STREAMSTATE_RETURN_IF_ERROR(merged->write(records));
  }
  for (const CheckpointFile& file : manifest.files) {
    if (file.content == CheckpointFileContent::kRocksDbFile) {
      return Status::failed_precondition(where + ": it is a RocksDB native checkpoint, whose tables RocksDB "
                                         "compacts itself; there is no chain of deltas to merge");
    }
    // Whole files, each checked against the manifest (size, XXH3, index) before use.
    STREAMSTATE_ASSIGN_OR_RETURN(internal::LoadedFile loaded, internal::load_file(storage, id, file));
    const bool deletes = file.content == CheckpointFileContent::kTombstones;
    STREAMSTATE_RETURN_IF_ERROR(loaded.reader->for_each_block(
        internal::SnapshotReadFilter{.key_groups = std::nullopt, .columns = &columns, .as_deletes = false},
        [&](const internal::SnapshotColumnInfo& info, EntryViews& entries) -> Status {
          if (info.values_carry_expiry) expiring.insert(info.name);
          STREAMSTATE_ASSIGN_OR_RETURN(
              std::shared_ptr<StateColumn> column,
              merged->column_with_options(info.name, {.values_carry_expiry = info.values_carry_expiry}));
          return apply_block(*merged, *column, info.name, entries, deletes, options);
        }));
  }
  // Columns the checkpoint lists without entries exist in the merged one too.
  for (const std::string& name : columns) {
    STREAMSTATE_RETURN_IF_ERROR(
        merged->column_with_options(name, {.values_carry_expiry = expiring.contains(name)}).status());
  }

  CheckpointOptions write;
  write.id = options.id;
  write.compression = options.compression;
  write.block_bytes = options.block_bytes;
  write.key_groups = manifest.key_groups;
  write.max_parallelism = manifest.max_parallelism;
  write.expiring_columns = expiring;
  write.source_positions = manifest.source_positions;
  write.user_metadata = manifest.user_metadata;
  write.user_metadata["merged_from"] = std::to_string(id);
  write.clock = std::make_shared<ManualClock>(manifest.created_millis);
  internal::CheckpointOverrides overrides{.backend_kind = manifest.backend_kind, .log_position = manifest.log_position};
  STREAMSTATE_ASSIGN_OR_RETURN(PendingCheckpoint pending,
                               internal::start_checkpoint_with(*merged, storage, std::move(write), overrides));
  Result<CheckpointInfo> info = pending.wait();
  if (!info.is_ok()) return info.status().with_context(where);
  return info;
}

}  // namespace streamstate
