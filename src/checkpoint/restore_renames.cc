// RestoreOptions::renames and ::drops: validated against the checkpoint, then applied to the
// plan's columns and store records.
#include "checkpoint/restore_renames.h"

#include <map>

#include "checkpoint/store_catalog.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

// The state names the checkpoints hold: their state columns and recorded states.
std::set<std::string> states_held(const RestorePlan& plan, const std::set<std::string, std::less<>>& available) {
  std::set<std::string> held;
  for (const std::string& column : available) {
    if (is_state_name(column)) held.insert(column);
  }
  for (const auto& source : plan.sources) {
    for (const auto& [key, value] : source->manifest.store_records) {
      if (is_state_name(key)) held.insert(key);
    }
  }
  return held;
}

// The states this restore writes (selected columns and records), by checkpoint name.
std::set<std::string> states_restored(const RestorePlan& plan) {
  std::set<std::string> restored;
  for (const std::string& column : plan.columns) {
    if (is_state_name(column)) restored.insert(column);
  }
  for (const auto& [key, value] : plan.store_records) {
    if (is_state_name(key)) restored.insert(key);
  }
  return restored;
}

}  // namespace

Status check_state_renames(std::string_view options_type, const std::set<std::string>& held,
                           const std::set<std::string>& restored, const std::vector<std::string>& states,
                           const std::map<std::string, std::string>& renames, const std::set<std::string>& drops) {
  const std::string options(options_type);
  for (const std::string& name : drops) {
    if (!held.contains(name)) {
      return Status::invalid_argument(options + "::drops names '" + name +
                                      "', which is not a state of the checkpoint (it holds " + quoted_state_names(held) + ")");
    }
    if (renames.contains(name)) {
      return Status::invalid_argument(options + "::renames and ::drops both name state '" + name +
                                      "'; rename it or drop it, not both");
    }
    for (const std::string& selected : states) {
      if (selected == name) {
        return Status::invalid_argument(options + "::states and ::drops both name state '" + name +
                                        "'; restore it or drop it, not both");
      }
    }
  }
  for (const auto& [from, to] : renames) {
    if (!held.contains(from)) {
      return Status::invalid_argument(options + "::renames names '" + from +
                                      "', which is not a state of the checkpoint (it holds " + quoted_state_names(held) + ")");
    }
    if (!is_state_name(to)) {
      return Status::invalid_argument(options + "::renames would restore state '" + from + "' as '" + to +
                                      "', which is not a valid state name (empty, or starting with '!' or '_ss.')");
    }
  }
  std::map<std::string, std::string> taken;  // new name -> checkpoint name
  for (const std::string& state : restored) {
    if (drops.contains(state)) continue;
    auto rename = renames.find(state);
    const std::string& name = rename == renames.end() ? state : rename->second;
    auto [previous, inserted] = taken.emplace(name, state);
    if (!inserted) {
      return Status::invalid_argument(options + "::renames would restore the checkpoint states '" +
                                      previous->second + "' and '" + state + "' both as '" + name +
                                      "'; rename or drop one of them");
    }
  }
  return Status::ok();
}

Status apply_state_renames(RestorePlan& plan, const RestoreOptions& options,
                           const std::set<std::string, std::less<>>& available) {
  if (options.renames.empty() && options.drops.empty()) return Status::ok();
  STREAMSTATE_RETURN_IF_ERROR(check_state_renames("RestoreOptions", states_held(plan, available), states_restored(plan),
                                                  options.states, options.renames, options.drops));
  for (const std::string& name : options.drops) {
    plan.columns.erase(name);
    plan.columns.erase(migration_staging_column(name));
  }
  for (const auto& [from, to] : options.renames) {
    if (from == to) continue;
    if (plan.columns.contains(from)) plan.column_renames[from] = to;
    if (plan.columns.contains(migration_staging_column(from))) plan.column_renames[migration_staging_column(from)] = migration_staging_column(to);
  }
  std::map<std::string, std::string> records;
  for (auto& [key, value] : plan.store_records) {
    const bool marker = key.starts_with(kMigrationMarkerPrefix);
    const std::string state = marker ? key.substr(kMigrationMarkerPrefix.size()) : key;
    if (!marker && !is_state_name(key)) {
      records.emplace(key, std::move(value));  // "!layout" and other store-wide records
      continue;
    }
    if (options.drops.contains(state)) continue;
    auto rename = options.renames.find(state);
    std::string name = rename == options.renames.end() ? state : rename->second;
    records.emplace(marker ? std::string(kMigrationMarkerPrefix) + name : name, std::move(value));
  }
  plan.store_records = std::move(records);
  return Status::ok();
}

const std::string& target_column(const RestorePlan& plan, const std::string& column) {
  auto it = plan.column_renames.find(column);
  return it == plan.column_renames.end() ? column : it->second;
}

std::set<std::string, std::less<>> target_columns(const RestorePlan& plan) {
  std::set<std::string, std::less<>> out;
  for (const std::string& column : plan.columns) out.insert(target_column(plan, column));
  return out;
}

}  // namespace streamstate::internal
