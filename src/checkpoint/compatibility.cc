// check_compatibility: the states of a checkpoint against the states a program will register,
// with the same rules a KeyedStateStore applies when it opens a recorded state.
#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "checkpoint/store_catalog.h"
#include "streamstate/checkpoint.h"

namespace streamstate {
namespace {

using internal::is_state_name;

std::string describe(const CheckpointState& state) {
  return state.kind + " state (codec '" + state.codec + "', schema " + state.schema_version.to_string() +
         (state.ttl ? ", with TTL)" : ", without TTL)");
}

// A chain of registered steps from `from` to `to` (breadth first over the steps).
bool has_migration_path(const std::vector<std::pair<uint32_t, uint32_t>>& steps, uint32_t from, uint32_t to) {
  std::set<uint32_t> reached{from};
  std::deque<uint32_t> queue{from};
  while (!queue.empty()) {
    const uint32_t major = queue.front();
    queue.pop_front();
    if (major == to) return true;
    for (const auto& [step_from, step_to] : steps) {
      if (step_from == major && reached.insert(step_to).second) queue.push_back(step_to);
    }
  }
  return false;
}

StateCompatibility compare(const CheckpointState& stored, const CheckpointState& wanted,
                           const CompatibilityOptions& options) {
  StateCompatibility result{wanted.name, stored.name, StateVerdict::kSame, ""};
  const std::string renamed = stored.name == wanted.name ? "" : " (renamed from '" + stored.name + "')";
  if (stored.kind != wanted.kind || stored.codec != wanted.codec) {
    result.verdict = StateVerdict::kIncompatible;
    result.reason = "stored as a " + describe(stored) + " but registered as a " + describe(wanted) + renamed +
                    "; a state keeps its kind and codec - restore it under another name or drop it";
    return result;
  }
  std::vector<std::string> needs;
  if (stored.ttl != wanted.ttl) {
    if (!options.ttl_switches.contains(wanted.name)) {
      result.verdict = StateVerdict::kIncompatible;
      result.reason = std::string("stored ") + (stored.ttl ? "with" : "without") + " a TTL but registered " +
                      (wanted.ttl ? "with" : "without") + " one" + renamed + "; register_ttl_change(\"" + wanted.name +
                      "\", " + (wanted.ttl ? "TtlChange::kEnable" : "TtlChange::kDisable") + ") allows the switch";
      return result;
    }
    needs.push_back(std::string("TTL switched ") + (wanted.ttl ? "on" : "off"));
  }
  const uint32_t from = stored.schema_version.major;
  const uint32_t to = wanted.schema_version.major;
  if (from != to) {
    const auto steps = options.migrations.find(wanted.name);
    if (steps == options.migrations.end() || !has_migration_path(steps->second, from, to)) {
      result.verdict = StateVerdict::kIncompatible;
      result.reason = "stored with schema major version " + std::to_string(from) + " but registered with " +
                      std::to_string(to) + renamed + " and no registered migration leads from " +
                      std::to_string(from) + " to " + std::to_string(to);
      return result;
    }
    needs.push_back("migration from schema major " + std::to_string(from) + " to " + std::to_string(to));
  }
  if (!needs.empty()) {
    result.verdict = StateVerdict::kMigratable;
    for (size_t i = 0; i < needs.size(); ++i) result.reason += (i == 0 ? "" : " and ") + needs[i];
    result.reason += renamed;
  } else if (!renamed.empty()) {
    result.reason = "same state" + renamed;
  }
  return result;
}


// Renames and drops a restore would refuse (RestoreOptions takes the same ones): a state the
// checkpoint does not hold, a state both renamed and dropped, a new name that is no state name.
void check_options(const CheckpointManifest& manifest, const CompatibilityOptions& options,
                   CompatibilityReport& report) {
  std::set<std::string> held;
  for (const CheckpointState& state : manifest.states) held.insert(state.name);
  for (const std::string& column : manifest.columns) {
    if (is_state_name(column)) held.insert(column);
  }
  auto refuse = [&](const std::string& name, std::string reason) {
    report.states.push_back({name, name, StateVerdict::kIncompatible, std::move(reason)});
  };
  for (const std::string& name : options.drops) {
    if (!held.contains(name)) refuse(name, "dropped, but the checkpoint has no state '" + name + "'");
    if (options.renames.contains(name)) refuse(name, "both renamed and dropped; rename it or drop it, not both");
  }
  for (const auto& [from, to] : options.renames) {
    if (!held.contains(from)) refuse(from, "renamed, but the checkpoint has no state '" + from + "'");
    if (!is_state_name(to)) {
      refuse(from, "renamed to '" + to + "', which is not a state name (empty, or starting with '!' or '_ss.')");
    }
  }
}

}  // namespace

std::string_view state_verdict_name(StateVerdict verdict) {
  switch (verdict) {
    case StateVerdict::kSame:
      return "same";
    case StateVerdict::kMigratable:
      return "migratable";
    case StateVerdict::kIncompatible:
      return "incompatible";
    case StateVerdict::kMissing:
      return "missing";
    case StateVerdict::kExtra:
      return "extra";
    case StateVerdict::kDropped:
      return "dropped";
  }
  return "unknown";
}

bool CompatibilityReport::restorable() const {
  return std::none_of(states.begin(), states.end(),
                      [](const StateCompatibility& state) { return state.verdict == StateVerdict::kIncompatible; });
}

std::string CompatibilityReport::summary() const {
  std::string out;
  for (const StateCompatibility& state : states) {
    if (state.verdict == StateVerdict::kSame) continue;
    out += "state '" + state.name + "': " + std::string(state_verdict_name(state.verdict));
    if (!state.reason.empty()) out += " - " + state.reason;
    out += "\n";
  }
  return out;
}

CompatibilityReport check_compatibility(const CheckpointManifest& manifest, const std::vector<CheckpointState>& expected,
                                        const CompatibilityOptions& options) {
  std::map<std::string, const CheckpointState*> wanted;
  for (const CheckpointState& state : expected) wanted.emplace(state.name, &state);
  CompatibilityReport report;
  std::map<std::string, std::string> taken;  // program name -> the checkpoint state restored there
  std::set<std::string> matched;
  for (const CheckpointState& stored : manifest.states) {
    if (options.drops.contains(stored.name)) {
      report.states.push_back({stored.name, stored.name, StateVerdict::kDropped, "left out of the restore"});
      continue;
    }
    const auto rename = options.renames.find(stored.name);
    const std::string name = rename != options.renames.end() ? rename->second : stored.name;
    const auto [previous, inserted] = taken.emplace(name, stored.name);
    if (!inserted) {
      report.states.push_back({name, stored.name, StateVerdict::kIncompatible,
                               "the checkpoint states '" + previous->second + "' and '" + stored.name +
                                   "' would both be restored as '" + name + "'; rename or drop one of them"});
      continue;
    }
    const auto it = wanted.find(name);
    if (it == wanted.end()) {
      report.states.push_back({name, stored.name, StateVerdict::kExtra,
                               "in the checkpoint but not registered by the program (restored unused; drop it "
                               "to leave it out)"});
      continue;
    }
    matched.insert(name);
    report.states.push_back(compare(stored, *it->second, options));
  }
  for (const CheckpointState& state : expected) {
    if (!matched.contains(state.name) && !taken.contains(state.name)) {
      report.states.push_back({state.name, "", StateVerdict::kMissing, "not in the checkpoint; it starts empty"});
    }
  }
  check_options(manifest, options, report);
  std::sort(report.states.begin(), report.states.end(), [](const StateCompatibility& a, const StateCompatibility& b) {
    return a.name != b.name ? a.name < b.name : a.checkpoint_name < b.checkpoint_name;
  });
  return report;
}

}  // namespace streamstate
