// Restore: prepare (read and verify everything, write nothing), then apply.
#include "checkpoint/restore.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>

#include "checkpoint/checkpoint_scan.h"
#include "checkpoint/restore_renames.h"
#include "checkpoint/store_catalog.h"
#include "util/parallel.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

constexpr uint32_t kMaxRestoreThreads = 256;

Status check_sources_fit(const std::vector<std::unique_ptr<RestorePlan::Source>>& sources, KeyGroupRange target) {
  const CheckpointManifest& first = sources.front()->manifest;
  for (const auto& source : sources) {
    const CheckpointManifest& m = source->manifest;
    if (m.max_parallelism != first.max_parallelism) {
      return Status::invalid_argument("checkpoints " + std::to_string(first.id) + " and " + std::to_string(m.id) +
                                      " were written with max_parallelism " + std::to_string(first.max_parallelism) +
                                      " and " + std::to_string(m.max_parallelism) + "; restore them separately");
    }
    for (const CheckpointFile& file : m.files) {
      if (file.content == CheckpointFileContent::kRocksDbFile) {
        return Status::failed_precondition("checkpoint " + std::to_string(m.id) +
                                           " is a RocksDB native checkpoint (its files are RocksDB's own); restore it "
                                           "with restore_rocksdb_checkpoint (streamstate/rocksdb_checkpoint.h)");
      }
    }
    for (const auto& other : sources) {
      if (other != source && !m.key_groups.intersect(other->manifest.key_groups).empty()) {
        return Status::invalid_argument("checkpoints " + std::to_string(m.id) + " and " +
                                        std::to_string(other->manifest.id) + " both hold key groups " +
                                        m.key_groups.intersect(other->manifest.key_groups).to_string() +
                                        "; give checkpoints of disjoint key-group ranges");
      }
    }
  }
  if (target.end() > first.max_parallelism) {
    return Status::invalid_argument("RestoreOptions::key_groups " + target.to_string() +
                                    " reaches past the checkpoints' max_parallelism " +
                                    std::to_string(first.max_parallelism));
  }
  for (uint32_t group = target.begin(); group < target.end(); ++group) {
    bool covered = std::any_of(sources.begin(), sources.end(),
                               [&](const auto& source) { return source->manifest.key_groups.contains(group); });
    if (!covered) {
      return Status::invalid_argument("key group " + std::to_string(group) + " of the restore range " +
                                      target.to_string() +
                                      " is in none of the checkpoints given; its state would be missing");
    }
  }
  return Status::ok();
}

// The columns to restore and the store records that go with them.
Status select_columns(RestorePlan& plan, const RestoreOptions& options) {
  // A column is restored when the checkpoint lists it: an incremental checkpoint's chain may
  // hold columns dropped since its full checkpoint.
  std::set<std::string, std::less<>> available;
  for (const auto& source : plan.sources) {
    const std::vector<std::string>& listed = source->manifest.columns;
    for (const CheckpointFile& file : source->manifest.files) {
      for (const CheckpointFileColumn& column : file.columns) {
        if (listed.empty() || std::find(listed.begin(), listed.end(), column.name) != listed.end()) {
          available.insert(column.name);
        }
      }
    }
  }
  std::set<std::string> named(options.states.begin(), options.states.end());
  for (const std::string& name : named) {
    if (!available.contains(name)) {
      std::string list;
      for (const std::string& column : available) list += (list.empty() ? "" : ", ") + column;
      return Status::invalid_argument("RestoreOptions::states names '" + name +
                                      "', which is not in the checkpoint (it holds: " + list + ")");
    }
    plan.columns.insert(name);
    if (available.contains(migration_staging_column(name))) plan.columns.insert(migration_staging_column(name));
  }
  if (named.empty()) plan.columns = available;
  for (const auto& source : plan.sources) {
    for (const auto& [key, value] : source->manifest.store_records) {
      bool wanted = named.empty() || named.contains(key) ||
                    (key.starts_with(kMigrationMarkerPrefix) &&
                     named.contains(key.substr(kMigrationMarkerPrefix.size()))) ||
                    (key.starts_with("!") && !key.starts_with(kMigrationMarkerPrefix));
      if (!wanted) continue;
      auto [it, inserted] = plan.store_records.emplace(key, value);
      if (!inserted && it->second != value) {
        return Status::invalid_argument("the checkpoints disagree on the store record '" + key +
                                        "' (e.g. a state's type or the key-group layout); restore them separately");
      }
    }
  }
  return apply_state_renames(plan, options, available);
}

// Absent or empty, else FailedPrecondition; remembers which exist.
Status check_target(RestorePlan& plan, StateBackend& target) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<std::string> existing, target.list_columns());
  std::set<std::string, std::less<>> touched = target_columns(plan);
  if (!plan.store_records.empty()) touched.emplace(kStoreRecordsColumn);
  for (const std::string& name : existing) {
    if (!touched.contains(name)) continue;
    STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column, target.column(name));
    bool empty = true;
    STREAMSTATE_RETURN_IF_ERROR(column->scan({}, [&](BytesView, BytesView) { return empty = false; }));
    if (!empty) {
      return Status::failed_precondition("restore target column '" + name +
                                         "' holds entries; a restore writes into absent or empty columns only, so "
                                         "that a failed restore can leave the target as it was: restore into a "
                                         "fresh backend, or drop or clear the column first");
    }
    plan.existing_columns.insert(name);
  }
  return Status::ok();
}

// A file is read when it holds a selected column (even one without entries in the range, so
// that the restored backend has the same columns).
bool file_needed(const CheckpointFile& file, const RestorePlan& plan) {
  for (const CheckpointFileColumn& column : file.columns) {
    if (plan.columns.contains(column.name)) return true;
  }
  return false;
}

// Splits a range into at most `parts` contiguous pieces of nearly equal size.
std::vector<KeyGroupRange> split(KeyGroupRange range, uint32_t parts) {
  std::vector<KeyGroupRange> pieces;
  parts = std::max<uint32_t>(1, std::min(parts, range.size()));
  for (uint32_t i = 0; i < parts; ++i) {
    uint32_t begin = range.begin() + static_cast<uint32_t>(uint64_t{range.size()} * i / parts);
    uint32_t end = range.begin() + static_cast<uint32_t>(uint64_t{range.size()} * (i + 1) / parts);
    if (begin < end) pieces.emplace_back(begin, end);
  }
  return pieces;
}

// One file's key-group sub-range: what one thread verifies or restores at a time.
struct WorkUnit {
  const LoadedFile* file;
  KeyGroupRange key_groups;
};

// One key-group sub-range of one source: the files of its chain are applied to it in order
// (a later file's puts and deletes override an earlier one's), and different sub-ranges hold
// different keys, so they are applied in parallel.
struct ApplyUnit {
  const RestorePlan::Source* source;
  KeyGroupRange key_groups;
};

// With several threads each source is cut into a few pieces per thread: threads that take the
// next piece when done even out pieces that cost more (denser key groups, a thread that waits
// for memory) instead of the slowest of `threads` equal halves deciding the time.
uint32_t pieces_per_source(const RestorePlan& plan) { return plan.threads == 1 ? 1 : plan.threads * 4; }

std::vector<ApplyUnit> apply_units(const RestorePlan& plan) {
  std::vector<ApplyUnit> units;
  for (const auto& source : plan.sources) {
    if (source->files.empty()) continue;
    for (KeyGroupRange piece : split(source->key_groups, pieces_per_source(plan))) {
      units.push_back({source.get(), piece});
    }
  }
  return units;
}

std::vector<WorkUnit> work_units(const RestorePlan& plan) {
  std::vector<WorkUnit> units;
  for (const auto& source : plan.sources) {
    for (const LoadedFile& file : source->files) {
      for (KeyGroupRange piece : split(source->key_groups, pieces_per_source(plan))) units.push_back({&file, piece});
    }
  }
  return units;
}

void undo(const RestorePlan& plan, StateBackend& target) {
  std::set<std::string, std::less<>> touched = target_columns(plan);
  if (!plan.store_records.empty()) touched.emplace(kStoreRecordsColumn);
  for (const std::string& name : touched) {
    if (plan.existing_columns.contains(name)) {
      Result<std::shared_ptr<StateColumn>> column = target.column(name);
      if (column.is_ok()) (void)(*column)->clear();
    } else {
      (void)target.drop_column(name);
    }
  }
}

}  // namespace

Result<RestorePlan> prepare_restore(const std::vector<RestoreSource>& sources, StateBackend& target,
                                    const RestoreOptions& options) {
  if (sources.empty()) return Status::invalid_argument("restore: no checkpoint given");
  if (options.threads == 0 || options.threads > kMaxRestoreThreads) {
    return Status::invalid_argument("RestoreOptions::threads " + std::to_string(options.threads) +
                                    " is out of range; use 1 to " + std::to_string(kMaxRestoreThreads));
  }
  RestorePlan plan;
  // A backend that is not safe for concurrent use is written by one thread.
  plan.threads = target.capabilities().thread_safe ? options.threads : 1;
  plan.on_progress = options.on_progress;
  for (const RestoreSource& given : sources) {
    if (given.storage == nullptr) return Status::invalid_argument("restore: a RestoreSource has no storage");
    auto source = std::make_unique<RestorePlan::Source>();
    STREAMSTATE_ASSIGN_OR_RETURN(source->manifest, read_manifest(*given.storage, given.id));
    plan.sources.push_back(std::move(source));
  }
  KeyGroupRange range = plan.sources.front()->manifest.key_groups;
  for (const auto& source : plan.sources) {
    range = KeyGroupRange(std::min(range.begin(), source->manifest.key_groups.begin()),
                          std::max(range.end(), source->manifest.key_groups.end()));
  }
  if (options.key_groups) range = *options.key_groups;
  if (range.empty()) return Status::invalid_argument("RestoreOptions::key_groups is empty");
  STREAMSTATE_RETURN_IF_ERROR(check_sources_fit(plan.sources, range));
  STREAMSTATE_RETURN_IF_ERROR(select_columns(plan, options));
  STREAMSTATE_RETURN_IF_ERROR(check_target(plan, target));
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    RestorePlan::Source& source = *plan.sources[i];
    source.key_groups = source.manifest.key_groups.intersect(range);
    for (const CheckpointFile& file : source.manifest.files) {
      if (source.key_groups.empty() || !file_needed(file, plan)) continue;
      // A file restored whole is read whole and its XXH3 checked; ranged reads are for parts.
      const bool whole = source.key_groups == source.manifest.key_groups &&
                         std::all_of(file.columns.begin(), file.columns.end(), [&](const CheckpointFileColumn& column) {
                           return plan.columns.contains(column.name);
                         });
      STREAMSTATE_ASSIGN_OR_RETURN(
          LoadedFile loaded,
          whole ? load_file(*sources[i].storage, source.manifest.id, file)
                : load_file_for_restore(*sources[i].storage, source.manifest.id, file, plan.columns, source.key_groups));
      source.files.push_back(std::move(loaded));
    }
  }
  // Every block to be restored is checked before the first write, on the restore's threads.
  std::vector<WorkUnit> units = work_units(plan);
  STREAMSTATE_RETURN_IF_ERROR(run_parallel(units.size(), plan.threads, [&](size_t i) {
    return units[i].file->reader->verify(SnapshotReadFilter{.key_groups = units[i].key_groups, .columns = &plan.columns});
  }));
  return plan;
}

// Opens each restored column as the restore will (same options) and tells the backend how many
// entries are coming, so a memory backend sizes its tables once instead of growing them.
Status reserve_columns(const RestorePlan& plan, StateBackend& target) {
  std::map<std::string, std::pair<uint64_t, bool>, std::less<>> coming;  // column -> (entries, expiring)
  for (const auto& source : plan.sources) {
    for (const LoadedFile& file : source->files) {
      if (file.entry->content != CheckpointFileContent::kEntries) continue;
      for (const CheckpointFileColumn& column : file.entry->columns) {
        if (!plan.columns.contains(column.name)) continue;
        uint64_t entries = 0;
        for (const CheckpointKeyGroupOffset& group : column.key_groups) {
          if (source->key_groups.contains(group.key_group)) entries += group.entries;
        }
        auto& [total, expiring] = coming[target_column(plan, column.name)];
        total += entries;
        expiring = column.values_carry_expiry;
      }
    }
  }
  for (const auto& [name, entry] : coming) {
    if (entry.first == 0) continue;
    Result<std::shared_ptr<StateColumn>> column =
        target.column_with_options(name, ColumnOptions{.values_carry_expiry = entry.second});
    if (!column.is_ok()) return column.status();
    (*column)->reserve(entry.first);
  }
  return Status::ok();
}

// Puts and deletes the plan will apply, from the manifests' key-group entry counts.
uint64_t entries_to_apply(const RestorePlan& plan) {
  uint64_t total = 0;
  for (const auto& source : plan.sources) {
    for (const LoadedFile& file : source->files) {
      for (const CheckpointFileColumn& column : file.entry->columns) {
        if (!plan.columns.contains(column.name)) continue;
        for (const CheckpointKeyGroupOffset& group : column.key_groups) {
          if (source->key_groups.contains(group.key_group)) total += group.entries;
        }
      }
    }
  }
  return total;
}

Result<RestoreInfo> apply_restore(RestorePlan& plan, StateBackend& target) {
  RestoreInfo info;
  for (const auto& source : plan.sources) {
    info.ids.push_back(source->manifest.id);
    for (const LoadedFile& file : source->files) info.bytes_read += file.bytes_fetched;
  }
  Status failure;
  if (!plan.store_records.empty()) {
    WriteBatch batch;
    for (const auto& [key, value] : plan.store_records) batch.put(kStoreRecordsColumn, key, value);
    failure = target.column(kStoreRecordsColumn).status();
    if (failure.is_ok()) failure = target.write(batch);
  }
  std::vector<ApplyUnit> units = apply_units(plan);
  if (failure.is_ok()) failure = reserve_columns(plan, target);
  std::atomic<uint64_t> entries{0};
  std::atomic<uint64_t> deleted{0};
  std::mutex progress_mutex;
  RestoreProgress progress;  // guarded by progress_mutex
  if (plan.on_progress) progress.entries_total = entries_to_apply(plan);
  if (failure.is_ok()) {
    failure = run_parallel(units.size(), plan.threads, [&](size_t i) -> Status {
      for (const LoadedFile& file : units[i].source->files) {
        const bool deletes = file.entry->content == CheckpointFileContent::kTombstones;
        SnapshotReadFilter filter{.key_groups = units[i].key_groups, .columns = &plan.columns, .as_deletes = deletes,
                                  .renames = &plan.column_renames};
        STREAMSTATE_ASSIGN_OR_RETURN(SnapshotRestoreStats stats, file.reader->restore_into(target, filter));
        (deletes ? deleted : entries) += stats.entries;
        if (plan.on_progress) {
          std::lock_guard<std::mutex> lock(progress_mutex);
          progress.entries_written += stats.entries;
          plan.on_progress(progress);
        }
      }
      return Status::ok();
    });
  }
  if (!failure.is_ok()) {
    undo(plan, target);
    return failure.with_context("restore of checkpoint " + std::to_string(info.ids.front()) +
                                " failed while writing (the restored columns were cleared again)");
  }
  info.entries = entries.load();
  info.deletes = deleted.load();
  std::set<std::string, std::less<>> written = target_columns(plan);
  info.columns.assign(written.begin(), written.end());
  return info;
}

}  // namespace streamstate::internal

namespace streamstate {

Result<RestoreInfo> restore_checkpoints(const std::vector<RestoreSource>& sources, StateBackend& target,
                                        const RestoreOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(internal::RestorePlan plan, internal::prepare_restore(sources, target, options));
  return internal::apply_restore(plan, target);
}

Result<RestoreInfo> restore_checkpoint(CheckpointStorage& storage, CheckpointId id, StateBackend& target,
                                       const RestoreOptions& options) {
  return restore_checkpoints({RestoreSource{&storage, id}}, target, options);
}

namespace {

Result<RestoreInfo> restore_best(CheckpointStorage& storage, std::optional<int64_t> at_or_before_millis,
                                 StateBackend& target, const RestoreOptions& options) {
  std::vector<SkippedCheckpoint> skipped;
  STREAMSTATE_ASSIGN_OR_RETURN(auto candidates, internal::restore_candidates(storage, at_or_before_millis, &skipped));
  for (const CheckpointManifest& candidate : candidates) {
    Result<internal::RestorePlan> plan = internal::prepare_restore({RestoreSource{&storage, candidate.id}}, target, options);
    if (!plan.is_ok()) {
      StatusCode code = plan.status().code();
      if (code != StatusCode::kCorruption && code != StatusCode::kNotFound) return plan.status();
      skipped.push_back({candidate.id, plan.status()});
      continue;
    }
    STREAMSTATE_ASSIGN_OR_RETURN(RestoreInfo info, internal::apply_restore(*plan, target));
    info.skipped = std::move(skipped);
    return info;
  }
  return Status::not_found("no checkpoint in " + storage.describe() + " could be restored; the newest failed: " +
                           skipped.back().reason.message());
}

}  // namespace

Result<RestoreInfo> restore_latest_checkpoint(CheckpointStorage& storage, StateBackend& target,
                                              const RestoreOptions& options) {
  return restore_best(storage, std::nullopt, target, options);
}

Result<RestoreInfo> restore_checkpoint_at_or_before(CheckpointStorage& storage, int64_t at_or_before_millis,
                                                    StateBackend& target, const RestoreOptions& options) {
  return restore_best(storage, at_or_before_millis, target, options);
}

}  // namespace streamstate
