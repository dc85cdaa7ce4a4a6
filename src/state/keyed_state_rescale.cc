// rescale_keyed_state: moves every stored keyed-state key to its key group under another
// max_parallelism, one atomic batch of moves at a time, restartable (see rescale.h).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "state/printable.h"
#include "state/state_record.h"
#include "streamstate/key_group.h"
#include "streamstate/rescale.h"
#include "streamstate/state_key.h"
#include "streamstate/write_batch.h"
#include "util/status_macros.h"

namespace streamstate {

namespace {

constexpr size_t kMovesPerBatch = 512;

struct Rescale {
  uint32_t from = 0;
  uint32_t to = 0;
  std::string what() const {
    return "rescale_keyed_state(" + std::to_string(from) + " -> " + std::to_string(to) + ")";
  }
};

// The state names recorded in "_ss.states"; FailedPrecondition when a migration is half-done.
Result<std::vector<std::string>> recorded_states(StateColumn& states, const Rescale& rescale) {
  std::vector<std::string> names;
  std::string pending;
  STREAMSTATE_RETURN_IF_ERROR(states.scan("", [&](BytesView key, BytesView) {
    const std::string marker_prefix = internal::migration_marker_key("");
    if (key.starts_with(marker_prefix)) pending.assign(key.substr(marker_prefix.size()));
    if (!key.starts_with(internal::kStatesMetaPrefix)) names.emplace_back(key);
    return true;
  }));
  if (!pending.empty()) {
    return Status::failed_precondition(rescale.what() + ": a schema migration of state '" + pending +
                                       "' has not finished; open the state once (with its migration) "
                                       "to finish it, then rescale");
  }
  return names;
}

// Moves the keys of one state column whose key group is the old one.
Status rescale_column(StateBackend& backend, BackendSnapshot& snapshot, const std::string& state,
                      const Rescale& rescale) {
  auto iterator = snapshot.iterate(state);
  if (iterator.status().code() == StatusCode::kNotFound) return Status::ok();
  if (!iterator.is_ok()) return iterator.status();
  SnapshotIterator& it = *iterator.value();
  WriteBatch batch;
  size_t moves = 0;
  std::string moved_key;
  for (; it.valid(); it.next()) {
    Result<StateKeyParts> decoded = decode_state_key(it.key());
    if (!decoded.is_ok()) return decoded.status().with_context(rescale.what() + ": state '" + state + "'");
    const StateKeyParts& parts = *decoded;
    const uint32_t new_group = key_group_for_key(parts.user_key, rescale.to);
    if (parts.key_group == new_group) continue;  // moved by an earlier attempt, or not moving
    if (parts.key_group != key_group_for_key(parts.user_key, rescale.from)) {
      return Status::corruption(rescale.what() + ": state '" + state + "', user key " +
                                internal::printable_bytes(parts.user_key) + " is stored in key group " +
                                std::to_string(parts.key_group) + ", which is its key group under neither "
                                "max_parallelism; was the state written with another one?");
    }
    moved_key.clear();
    append_state_key(moved_key, new_group, parts.user_key, parts.name_space);
    batch.put(state, moved_key, it.value());
    batch.remove(state, it.key());
    if (++moves == kMovesPerBatch) {
      STREAMSTATE_RETURN_IF_ERROR(backend.write(batch));
      batch.clear();
      moves = 0;
    }
  }
  STREAMSTATE_RETURN_IF_ERROR(it.status());
  if (moves > 0) STREAMSTATE_RETURN_IF_ERROR(backend.write(batch));
  return Status::ok();
}

// Checks the recorded layout: true when the rescale is already complete.
Result<bool> check_start(StateColumn& states, const Rescale& rescale) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, states.get(internal::kLayoutKey));
  if (!bytes.has_value()) return false;  // nothing recorded: trust the caller's `from`
  STREAMSTATE_ASSIGN_OR_RETURN(const internal::LayoutRecord stored, internal::decode_layout_record(*bytes));
  if (stored.key_group_hash != internal::kKeyGroupHashName) {
    return Status::failed_precondition(rescale.what() + ": the backend's keys were hashed with '" +
                                       stored.key_group_hash + "', this build uses '" +
                                       std::string(internal::kKeyGroupHashName) + "'");
  }
  if (stored.rescale_target == 0 && stored.max_parallelism == rescale.to) return true;
  if (stored.max_parallelism == rescale.from && (stored.rescale_target == 0 || stored.rescale_target == rescale.to)) {
    return false;
  }
  return Status::failed_precondition(
      rescale.what() + ": the backend records max_parallelism " + std::to_string(stored.max_parallelism) +
      (stored.rescale_target != 0 ? " with an unfinished rescale to " + std::to_string(stored.rescale_target)
                                  : std::string()) +
      "; rescale from the recorded value" +
      (stored.rescale_target != 0 ? " to " + std::to_string(stored.rescale_target) + " first" : std::string()));
}

}  // namespace

Status rescale_keyed_state(StateBackend& backend, uint32_t from_max_parallelism, uint32_t to_max_parallelism) {
  const Rescale rescale{from_max_parallelism, to_max_parallelism};
  STREAMSTATE_RETURN_IF_ERROR(validate_max_parallelism(rescale.from).with_context(rescale.what() + ": from"));
  STREAMSTATE_RETURN_IF_ERROR(validate_max_parallelism(rescale.to).with_context(rescale.what() + ": to"));
  if (rescale.from == rescale.to) {
    return Status::invalid_argument(rescale.what() + ": both values are equal; nothing to rescale");
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> states, backend.column(internal::kStatesColumn));
  STREAMSTATE_ASSIGN_OR_RETURN(const bool done, check_start(*states, rescale));
  if (done) return Status::ok();
  STREAMSTATE_ASSIGN_OR_RETURN(const std::vector<std::string> names, recorded_states(*states, rescale));
  STREAMSTATE_RETURN_IF_ERROR(states->put(
      internal::kLayoutKey,
      internal::encode_layout_record({.max_parallelism = rescale.from, .rescale_target = rescale.to})));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<BackendSnapshot> snapshot, backend.snapshot());
  for (const std::string& name : names) {
    STREAMSTATE_RETURN_IF_ERROR(rescale_column(backend, *snapshot, name, rescale));
  }
  snapshot.reset();
  return states->put(internal::kLayoutKey, internal::encode_layout_record({.max_parallelism = rescale.to}));
}

}  // namespace streamstate
