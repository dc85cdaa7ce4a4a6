// KeyedStateStore: options, the current key, migrations registry and snapshots. Opening a
// state (checks against "_ss.states", migrations) is in state_registration.cc.
#include "streamstate/keyed_state_store.h"

#include <set>
#include <utility>

#include "state/printable.h"
#include "state/state_record.h"
#include "state/store_layout.h"
#include "state/ttl_filtering_snapshot.h"
#include "util/status_macros.h"

namespace streamstate {

Result<std::unique_ptr<KeyedStateStore>> KeyedStateStore::open(std::shared_ptr<StateBackend> backend,
                                                               KeyedStateStoreOptions options) {
  if (backend == nullptr) {
    return Status::invalid_argument("KeyedStateStore::open: backend is null; pass an opened StateBackend");
  }
  STREAMSTATE_RETURN_IF_ERROR(validate_max_parallelism(options.max_parallelism)
                                  .with_context("KeyedStateStoreOptions.max_parallelism"));
  const KeyGroupRange all = KeyGroupRange::all(options.max_parallelism);
  const KeyGroupRange key_groups = options.key_groups.value_or(all);
  if (key_groups.empty() || key_groups.intersect(all) != key_groups) {
    return Status::invalid_argument(
        "KeyedStateStoreOptions.key_groups " + key_groups.to_string() + " must be a non-empty part of " +
        all.to_string() + " (max_parallelism " + std::to_string(options.max_parallelism) +
        "); use KeyGroupRange::for_operator(max_parallelism, parallelism, index)");
  }
  if (options.clock == nullptr) options.clock = system_clock();
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> states, backend->column(internal::kStatesColumn));
  STREAMSTATE_RETURN_IF_ERROR(internal::check_or_record_layout(*states, options.max_parallelism));
  return std::unique_ptr<KeyedStateStore>(
      new KeyedStateStore(std::move(backend), std::move(options), key_groups, std::move(states)));
}

KeyedStateStore::KeyedStateStore(std::shared_ptr<StateBackend> backend, KeyedStateStoreOptions options,
                                 KeyGroupRange key_groups, std::shared_ptr<StateColumn> states)
    : backend_(std::move(backend)),
      options_(std::move(options)),
      key_groups_(key_groups),
      states_(std::move(states)),
      context_(std::make_shared<detail::KeyContext>()) {}

KeyedStateStore::~KeyedStateStore() {
  // Handles that outlive the store must not keep the backend (and e.g. its RocksDB lock) alive.
  context_->mark_closed();
  for (auto& entry : cores_) entry.second->release();
}

Status KeyedStateStore::closed_error(std::string_view operation) const {
  return Status::closed("KeyedStateStore::" + std::string(operation) +
                        ": the store was closed (close() was called); open a new KeyedStateStore");
}

Status KeyedStateStore::flush() {
  if (closed_) return closed_error("flush");
  return backend_->flush();
}

Status KeyedStateStore::close() {
  if (closed_) return Status::ok();
  closed_ = true;
  Status status = backend_->flush();
  context_->mark_closed();
  for (auto& entry : cores_) entry.second->release();
  cores_.clear();
  states_.reset();
  if (options_.close_backend_on_close) {
    Status closed = backend_->close();
    if (status.is_ok()) status = std::move(closed);
  }
  backend_.reset();
  return status;
}

Status KeyedStateStore::set_current_key(BytesView user_key) {
  if (closed_) return closed_error("set_current_key");
  return set_current_key_in_group(key_group_for_key(user_key, options_.max_parallelism), user_key);
}

Status KeyedStateStore::set_current_key_in_group(uint32_t key_group, BytesView user_key) {
  if (closed_) return closed_error("set_current_key");
  if (!key_groups_.contains(key_group)) {
    context_->clear_key();
    return Status::out_of_range("key " + internal::printable_bytes(user_key) + " belongs to key group " +
                                std::to_string(key_group) + ", outside this store's key-group range " +
                                key_groups_.to_string() + " (max_parallelism " +
                                std::to_string(options_.max_parallelism) +
                                "); route each key to the operator instance given by "
                                "operator_index_for_key_group");
  }
  context_->set_key(key_group, user_key);
  return Status::ok();
}

Status KeyedStateStore::set_current_namespace(BytesView name_space) {
  if (closed_) return closed_error("set_current_namespace");
  context_->set_namespace(name_space);
  return Status::ok();
}

Status KeyedStateStore::missing_function(const std::string& state_name, std::string_view kind,
                                         std::string_view field) {
  return Status::invalid_argument(std::string(kind) + " state '" + state_name + "': the descriptor's " +
                                  std::string(field) + " function is empty; set it");
}

Status KeyedStateStore::register_migration(std::string state_name, uint32_t from_major, uint32_t to_major,
                                           SchemaMigration fn) {
  const std::string what = "register_migration(\"" + state_name + "\", " + std::to_string(from_major) + ", " +
                           std::to_string(to_major) + ")";
  if (from_major == to_major) {
    return Status::invalid_argument(what +
                                    ": from and to major versions are equal; migrations are only needed "
                                    "between different major versions");
  }
  if (closed_) return closed_error("register_migration");
  if (!fn) return Status::invalid_argument(what + ": the migration function is empty");
  if (cores_.contains(state_name)) {
    return Status::failed_precondition(what +
                                       ": the state is already open in this store; register migrations "
                                       "before the first value_state/list_state/... call for it");
  }
  auto& pairs = migrations_[state_name];
  if (!pairs.emplace(std::make_pair(from_major, to_major), std::move(fn)).second) {
    return Status::already_exists(what + ": a migration for this pair of versions is already registered");
  }
  return Status::ok();
}

Status KeyedStateStore::register_ttl_change(std::string state_name, TtlChange change) {
  const std::string what = "register_ttl_change(\"" + state_name + "\", " +
                           (change == TtlChange::kEnable ? "TtlChange::kEnable" : "TtlChange::kDisable") + ")";
  if (closed_) return closed_error("register_ttl_change");
  if (change != TtlChange::kEnable && change != TtlChange::kDisable) {
    return Status::invalid_argument(what + ": unknown TtlChange value");
  }
  if (cores_.contains(state_name)) {
    return Status::failed_precondition(what +
                                       ": the state is already open in this store; register the change "
                                       "before the first value_state/list_state/... call for it");
  }
  if (!ttl_changes_.emplace(std::move(state_name), change).second) {
    return Status::already_exists(what + ": a TTL change is already registered for this state");
  }
  return Status::ok();
}

Result<std::unique_ptr<BackendSnapshot>> KeyedStateStore::snapshot() {
  if (closed_) return closed_error("snapshot");
  std::set<std::string, std::less<>> filtered;
  for (const auto& [name, core] : cores_) {
    if (core->spec().ttl.enabled() && core->spec().ttl.cleanup_in_snapshot) filtered.insert(name);
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<BackendSnapshot> inner, backend_->snapshot());
  const int64_t now = options_.clock->now_millis();
  return std::unique_ptr<BackendSnapshot>(
      std::make_unique<internal::TtlFilteringSnapshot>(std::move(inner), std::move(filtered), now));
}

std::vector<std::string> KeyedStateStore::state_names() const {
  std::vector<std::string> names;
  names.reserve(cores_.size());
  for (const auto& entry : cores_) names.push_back(entry.first);
  return names;
}

}  // namespace streamstate
