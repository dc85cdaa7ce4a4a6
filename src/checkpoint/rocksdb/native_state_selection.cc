// State selection, renames and drops of native RocksDB restores (native_state_selection.h).
#include "checkpoint/rocksdb/native_state_selection.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "checkpoint/restore_renames.h"
#include "checkpoint/store_catalog.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

constexpr size_t kCopyBatchEntries = 4096;

// The states the checkpoint holds: its state columns and recorded states.
std::set<std::string> states_held(const CheckpointManifest& manifest) {
  std::set<std::string> held;
  for (const std::string& column : manifest.columns) {
    if (is_state_name(column)) held.insert(column);
  }
  for (const auto& [key, value] : manifest.store_records) {
    if (is_state_name(key)) held.insert(key);
  }
  return held;
}

// The states the restore keeps under their own name or a new one, by checkpoint name.
std::set<std::string> kept_states(const std::set<std::string>& held, const RocksDbRestoreOptions& options) {
  std::set<std::string> kept =
      options.states.empty() ? held : std::set<std::string>(options.states.begin(), options.states.end());
  for (const std::string& name : options.drops) kept.erase(name);
  return kept;
}

bool has_column(const std::vector<std::string>& columns, const std::string& name) {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

// Moves the entries of column `from` into a new column `to` (bulk puts), then drops `from`.
Status move_column(RocksDbBackend& db, const std::string& from, const std::string& to, const ColumnOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> source, db.column_with_options(from, options));
  STREAMSTATE_RETURN_IF_ERROR(db.column_with_options(to, options).status());
  std::vector<std::pair<std::string, std::string>> owned;
  Status written;
  auto flush = [&]() -> Status {
    std::vector<std::pair<BytesView, BytesView>> views(owned.begin(), owned.end());
    Status status = db.put_entries(to, views);
    owned.clear();
    return status;
  };
  STREAMSTATE_RETURN_IF_ERROR(source->scan({}, [&](BytesView key, BytesView value) {
    owned.emplace_back(key, value);
    if (owned.size() < kCopyBatchEntries) return true;
    written = flush();
    return written.is_ok();
  }));
  STREAMSTATE_RETURN_IF_ERROR(written);
  if (!owned.empty()) STREAMSTATE_RETURN_IF_ERROR(flush());
  source.reset();
  return db.drop_column(from);
}

// Moves "_ss.states" entry `from` to key `to` (when there is one).
Status move_record(StateColumn& records, const std::string& from, const std::string& to) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> record, records.get(from));
  if (!record) return Status::ok();
  STREAMSTATE_RETURN_IF_ERROR(records.put(to, *record));
  return records.remove(from);
}

}  // namespace

bool selects_states(const RocksDbRestoreOptions& options) {
  return !options.states.empty() || !options.renames.empty() || !options.drops.empty();
}

Status check_native_selection(const CheckpointManifest& manifest, const RocksDbRestoreOptions& options) {
  if (!selects_states(options)) return Status::ok();
  const std::set<std::string> held = states_held(manifest);
  for (const std::string& name : options.states) {
    if (!held.contains(name)) {
      return Status::invalid_argument("RocksDbRestoreOptions::states names '" + name +
                                      "', which is not a state of the checkpoint (it holds " +
                                      quoted_state_names(held) + ")");
    }
  }
  const std::set<std::string> selected =
      options.states.empty() ? held : std::set<std::string>(options.states.begin(), options.states.end());
  STREAMSTATE_RETURN_IF_ERROR(check_state_renames("RocksDbRestoreOptions", held, selected, options.states,
                                                  options.renames, options.drops));
  for (const auto& [from, to] : options.renames) {
    if (!selected.contains(from)) {
      return Status::invalid_argument("RocksDbRestoreOptions::renames names '" + from +
                                      "', which RocksDbRestoreOptions::states leaves out; select it too");
    }
  }
  return Status::ok();
}

Status apply_native_selection(RocksDbBackend& db, const NativeCatalog& catalog, const CheckpointManifest& manifest,
                              const RocksDbRestoreOptions& options) {
  if (!selects_states(options)) return Status::ok();
  const std::set<std::string> held = states_held(manifest);
  const std::set<std::string> kept = kept_states(held, options);
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<std::string> columns, db.list_columns());
  std::shared_ptr<StateColumn> records;
  if (has_column(columns, std::string(kStoreRecordsColumn))) {
    STREAMSTATE_ASSIGN_OR_RETURN(records, db.column(kStoreRecordsColumn));
  }
  auto column_options = [&](const std::string& name) {
    return ColumnOptions{.values_carry_expiry = catalog.expiring_columns.contains(name)};
  };
  const std::string marker_prefix(kMigrationMarkerPrefix);
  for (const std::string& name : held) {
    if (kept.contains(name)) continue;
    for (const std::string& column : {name, migration_staging_column(name)}) {
      if (has_column(columns, column)) STREAMSTATE_RETURN_IF_ERROR(db.drop_column(column));
    }
    if (records != nullptr) {
      STREAMSTATE_RETURN_IF_ERROR(records->remove(name));
      STREAMSTATE_RETURN_IF_ERROR(records->remove(marker_prefix + name));
    }
  }
  // Two steps, so that a swap (a -> b, b -> a) never copies into a column still to be moved.
  std::map<std::string, std::string> interim;  // checkpoint name -> temporary column
  for (const auto& [from, to] : options.renames) {
    if (from == to) continue;
    const std::string temporary = "_ss.restore-rename." + from;
    interim.emplace(from, temporary);
    for (const auto& [source, target] : {std::pair{from, temporary},
                                         std::pair{migration_staging_column(from), temporary + ".staging"}}) {
      if (has_column(columns, source)) {
        STREAMSTATE_RETURN_IF_ERROR(move_column(db, source, target, column_options(source)));
      }
    }
    if (records != nullptr) {
      STREAMSTATE_RETURN_IF_ERROR(move_record(*records, from, "!restore-rename:" + from));
      STREAMSTATE_RETURN_IF_ERROR(move_record(*records, marker_prefix + from, "!restore-rename-marker:" + from));
    }
  }
  STREAMSTATE_ASSIGN_OR_RETURN(columns, db.list_columns());
  for (const auto& [from, temporary] : interim) {
    const std::string& to = options.renames.at(from);
    if (has_column(columns, temporary)) {
      STREAMSTATE_RETURN_IF_ERROR(move_column(db, temporary, to, column_options(from)));
    }
    if (has_column(columns, temporary + ".staging")) {
      STREAMSTATE_RETURN_IF_ERROR(move_column(db, temporary + ".staging", migration_staging_column(to),
                                              column_options(migration_staging_column(from))));
    }
    if (records != nullptr) {
      STREAMSTATE_RETURN_IF_ERROR(move_record(*records, "!restore-rename:" + from, to));
      STREAMSTATE_RETURN_IF_ERROR(move_record(*records, "!restore-rename-marker:" + from, marker_prefix + to));
    }
  }
  return Status::ok();
}

}  // namespace streamstate::internal
