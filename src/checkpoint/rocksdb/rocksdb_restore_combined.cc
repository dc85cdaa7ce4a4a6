// Restore of several native RocksDB checkpoints of disjoint key-group ranges into one database
// (rescaling to fewer instances): the first is restored as is and trimmed, the others' entries
// in the range are copied into it through write batches.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "checkpoint/rocksdb/native_catalog.h"
#include "checkpoint/rocksdb/native_restore_steps.h"
#include "checkpoint/rocksdb/native_state_selection.h"
#include "checkpoint/store_catalog.h"
#include "streamstate/bytes.h"
#include "streamstate/rocksdb_checkpoint.h"
#include "util/status_macros.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;


struct Part {
  CheckpointStorage* storage = nullptr;
  CheckpointManifest manifest;
  KeyGroupRange groups;  // the checkpoint's range within the one restored
  fs::path staging;
};

// The sources' manifests, checked to fit together, and the range restored.
Result<KeyGroupRange> plan_parts(const std::vector<RestoreSource>& sources, const RocksDbRestoreOptions& options,
                                 std::vector<Part>& parts) {
  if (sources.empty()) return Status::invalid_argument("restore_rocksdb_checkpoints: no checkpoint given");
  std::vector<Part> all;
  for (const RestoreSource& source : sources) {
    if (source.storage == nullptr) return Status::invalid_argument("restore_rocksdb_checkpoints: a source has no storage");
    Part part;
    part.storage = source.storage;
    STREAMSTATE_ASSIGN_OR_RETURN(part.manifest, read_checkpoint(*source.storage, source.id));
    STREAMSTATE_RETURN_IF_ERROR(internal::check_native_checkpoint(part.manifest));
    all.push_back(std::move(part));
  }
  const CheckpointManifest& first = all.front().manifest;
  uint32_t begin = first.key_groups.begin();
  uint32_t end = first.key_groups.end();
  for (const Part& part : all) {
    const CheckpointManifest& m = part.manifest;
    const std::string pair = "checkpoints " + std::to_string(first.id) + " and " + std::to_string(m.id);
    if (m.max_parallelism != first.max_parallelism) {
      return Status::invalid_argument(pair + " were written with max_parallelism " +
                                      std::to_string(first.max_parallelism) + " and " +
                                      std::to_string(m.max_parallelism) + "; restore them separately");
    }
    if (m.store_records != first.store_records) {
      return Status::invalid_argument(pair + " disagree on their store records (_ss.states); they are not of one job");
    }
    for (const Part& other : all) {
      if (&other != &part && !m.key_groups.intersect(other.manifest.key_groups).empty()) {
        return Status::invalid_argument("checkpoints " + std::to_string(m.id) + " and " +
                                        std::to_string(other.manifest.id) + " both hold key groups " +
                                        m.key_groups.intersect(other.manifest.key_groups).to_string() +
                                        "; give checkpoints of disjoint key-group ranges");
      }
    }
    begin = std::min(begin, m.key_groups.begin());
    end = std::max(end, m.key_groups.end());
  }
  const KeyGroupRange range = options.key_groups.value_or(KeyGroupRange(begin, end));
  if (range.empty() || range.end() > first.max_parallelism) {
    return Status::invalid_argument("RocksDbRestoreOptions::key_groups " + range.to_string() +
                                    " is empty or reaches past max_parallelism " +
                                    std::to_string(first.max_parallelism));
  }
  for (uint32_t group = range.begin(); group < range.end(); ++group) {
    if (std::none_of(all.begin(), all.end(), [&](const Part& part) { return part.manifest.key_groups.contains(group); })) {
      return Status::invalid_argument("no checkpoint given holds key group " + std::to_string(group) + " of " +
                                      range.to_string() + "; add the checkpoint of the instance that owned it");
    }
  }
  for (Part& part : all) {
    part.groups = part.manifest.key_groups.intersect(range);
    if (!part.groups.empty()) parts.push_back(std::move(part));
  }
  return range;
}

// Writes the entries of `part`'s state columns in its key groups into `target`.
Status copy_entries(const Part& part, RocksDbBackend& target, uint64_t& entries) {
  STREAMSTATE_ASSIGN_OR_RETURN(internal::NativeCatalog catalog, internal::read_native_catalog(part.staging.string()));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> source, internal::open_staged_database(part.staging));
  Status copied;
  for (const std::string& name : internal::state_columns(part.manifest)) {
    const ColumnOptions column_options{.values_carry_expiry = catalog.expiring_columns.contains(name)};
    Result<std::shared_ptr<StateColumn>> from = source->column_with_options(name, column_options);
    Result<std::shared_ptr<StateColumn>> into = target.column_with_options(name, column_options);
    copied = !from.is_ok() ? from.status() : into.status();
    if (!copied.is_ok()) break;
    // The part's key groups in ascending order, so its keys come sorted: one table file,
    // ingested into the target's column.
    copied = target.ingest_sorted(name, [&](const RocksDbBackend::IngestAdd& add) -> Status {
      Status added;
      for (uint32_t group = part.groups.begin(); group < part.groups.end() && added.is_ok(); ++group) {
        std::string prefix;
        put_fixed16_big_endian(prefix, static_cast<uint16_t>(group));
        STREAMSTATE_RETURN_IF_ERROR((*from)->scan(prefix, [&](BytesView key, BytesView value) {
          added = add(key, value);
          if (added.is_ok()) ++entries;
          return added.is_ok();
        }));
      }
      return added;
    });
    if (!copied.is_ok()) break;
  }
  Status closed = source->close();
  STREAMSTATE_RETURN_IF_ERROR(copied.with_context("copying checkpoint " + std::to_string(part.manifest.id)));
  return closed;
}

Result<RestoreInfo> restore_parts(std::vector<Part>& parts, const RocksDbRestoreOptions& options,
                                  const fs::path& target) {
  RestoreInfo info;
  for (Part& part : parts) {
    STREAMSTATE_ASSIGN_OR_RETURN(uint64_t read,
                                 internal::fetch_native_files(*part.storage, part.manifest, options, part.staging));
    info.bytes_read += read;
    info.ids.push_back(part.manifest.id);
  }
  Part& base = parts.front();
  {
    // Read before the database is opened for writing: which columns carry expiry headers, for
    // renamed states.
    internal::NativeCatalog catalog;
    if (internal::selects_states(options)) {
      STREAMSTATE_ASSIGN_OR_RETURN(catalog, internal::read_native_catalog(base.staging.string()));
    }
    STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> db, internal::open_staged_database(base.staging));
    Status written = db->retain_key_groups(base.groups, internal::state_columns(base.manifest));
    for (size_t i = 1; i < parts.size() && written.is_ok(); ++i) written = copy_entries(parts[i], *db, info.entries);
    if (written.is_ok()) written = internal::apply_native_selection(*db, catalog, base.manifest, options);
    if (written.is_ok()) {
      Result<std::vector<std::string>> columns = db->list_columns();
      written = columns.status();
      if (columns.is_ok()) info.columns = std::move(columns).value();
    }
    Status closed = db->close();
    STREAMSTATE_RETURN_IF_ERROR(written);
    STREAMSTATE_RETURN_IF_ERROR(closed);
  }
  std::sort(info.columns.begin(), info.columns.end());
  STREAMSTATE_RETURN_IF_ERROR(internal::commit_restored_directory(base.staging, target));
  return info;
}

}  // namespace

Result<RestoreInfo> restore_rocksdb_checkpoints(const std::vector<RestoreSource>& sources,
                                                const RocksDbRestoreOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(fs::path target, internal::check_native_restore_target(options));
  std::vector<Part> parts;
  STREAMSTATE_RETURN_IF_ERROR(plan_parts(sources, options, parts).status());
  if (!parts.empty()) STREAMSTATE_RETURN_IF_ERROR(internal::check_native_selection(parts.front().manifest, options));
  for (size_t i = 0; i < parts.size(); ++i) {
    parts[i].staging = internal::native_staging_path(target, i == 0 ? "" : ".part" + std::to_string(i));
  }
  Result<RestoreInfo> info = restore_parts(parts, options, target);
  for (size_t i = info.is_ok() ? 1 : 0; i < parts.size(); ++i) {
    std::error_code ignored;
    fs::remove_all(parts[i].staging, ignored);
  }
  return info;
}

}  // namespace streamstate
