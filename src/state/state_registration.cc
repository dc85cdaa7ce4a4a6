// KeyedStateStore: opening a state. A name opened twice in one store must describe the same
// state; a name recorded in "_ss.states" must keep its kind and codec, and a new schema major
// version (with a registered migration) or a TTL switched on or off (with a registered TTL
// change) rewrites the stored entries first.
#include <deque>
#include <utility>

#include "core/expiring_value.h"
#include "state/state_migration.h"
#include "state/state_record.h"
#include "streamstate/keyed_state_store.h"
#include "util/status_macros.h"

namespace streamstate {

namespace {

std::string describe_spec(const detail::StateSpec& spec) {
  return std::string(state_kind_name(spec.kind)) + " state (codec '" + spec.codec_name + "', schema " +
         spec.schema.to_string() + (spec.ttl.enabled() ? ", with TTL)" : ", without TTL)");
}

internal::StateRecord record_of(const detail::StateSpec& spec) {
  return internal::StateRecord{spec.kind, spec.codec_name, spec.schema, spec.ttl.enabled()};
}

}  // namespace

Result<std::shared_ptr<detail::StateCore>> KeyedStateStore::open_state(detail::StateSpec spec) {
  if (closed_) return closed_error("opening state '" + spec.name + "'");
  if (auto found = cores_.find(spec.name); found != cores_.end()) {
    STREAMSTATE_RETURN_IF_ERROR(check_registered(found->second->spec(), spec));
    return found->second;
  }
  STREAMSTATE_RETURN_IF_ERROR(check_new_state(spec));
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column, prepare_column(spec));
  auto core =
      std::make_shared<detail::StateCore>(spec, backend_, std::move(column), context_, options_.clock);
  cores_.emplace(spec.name, core);
  return core;
}

Status KeyedStateStore::check_registered(const detail::StateSpec& existing,
                                         const detail::StateSpec& wanted) const {
  std::string difference;
  if (existing.kind != wanted.kind || existing.codec_name != wanted.codec_name) {
    difference = "type";
  } else if (existing.ttl != wanted.ttl) {
    difference = "TTL configuration";
  } else if (existing.schema != wanted.schema) {
    difference = "schema version";
  } else {
    return Status::ok();
  }
  return Status::invalid_argument("state '" + wanted.name + "' is already registered in this store as a " +
                                  describe_spec(existing) + " and is now requested as a " +
                                  describe_spec(wanted) + " (different " + difference +
                                  "); one name holds one state: use the same descriptor, or another name");
}

Status KeyedStateStore::check_new_state(const detail::StateSpec& spec) const {
  STREAMSTATE_RETURN_IF_ERROR(validate_column_name(spec.name).with_context("state name"));
  if (spec.name.starts_with(internal::kReservedColumnPrefix)) {
    return Status::invalid_argument("state name '" + spec.name + "' starts with \"" +
                                    std::string(internal::kReservedColumnPrefix) +
                                    "\", which is reserved for the store's own columns; choose another name");
  }
  return spec.ttl.validate().with_context("state '" + spec.name + "'");
}

ColumnOptions KeyedStateStore::column_options_for(const StateTtlConfig& ttl) const {
  ColumnOptions options;
  if (!ttl.enabled()) return options;
  // values_carry_expiry lets the backend drop expired entries on its own: in compaction on
  // RocksDB, in its cleanup on the memory backend. Each of those is a strategy the user may
  // switch off. The values carry the header either way (the record's TTL flag says so).
  const std::string_view kind = backend_->kind();
  if (kind == "rocksdb") {
    options.values_carry_expiry = ttl.cleanup_in_compaction;
  } else if (kind == "memory") {
    options.values_carry_expiry = ttl.cleanup_in_background;
  } else {
    options.values_carry_expiry = ttl.cleanup_in_compaction || ttl.cleanup_in_background;
  }
  return options;
}

Status KeyedStateStore::check_ttl_switch(const detail::StateSpec& spec, bool stored_ttl) const {
  const TtlChange needed = stored_ttl ? TtlChange::kDisable : TtlChange::kEnable;
  const auto registered = ttl_changes_.find(spec.name);
  if (registered != ttl_changes_.end() && registered->second == needed) return Status::ok();
  const std::string wanted_setting =
      stored_ttl ? std::string("without a TTL")
                 : "with a TTL of " + std::to_string(spec.ttl.ttl.count()) + " ms";
  const std::string call = "store.register_ttl_change(\"" + spec.name + "\", " +
                           (stored_ttl ? "TtlChange::kDisable" : "TtlChange::kEnable") + ")";
  return Status::failed_precondition(
      "state '" + spec.name + "' is stored " + (stored_ttl ? "with a TTL" : "without a TTL") +
      " (its values carry " + (stored_ttl ? "an" : "no") + " expiry header) but is opened " + wanted_setting +
      "; switching TTL " + (stored_ttl ? "off" : "on") +
      " rewrites every stored value and cannot be undone without another rewrite. To switch it, call " + call +
      " before opening the state; otherwise open it " + (stored_ttl ? "with its TTL" : "without a TTL") +
      " as stored (changing only the TTL duration needs no rewrite)");
}

Result<std::vector<SchemaMigration>> KeyedStateStore::migration_path(const std::string& state_name,
                                                                     uint32_t from_major,
                                                                     uint32_t to_major) const {
  // Breadth-first over the registered pairs: the shortest chain of migrations.
  const auto registered = migrations_.find(state_name);
  if (registered != migrations_.end()) {
    std::map<uint32_t, std::pair<uint32_t, const SchemaMigration*>> reached;  // major -> (previous, step)
    std::deque<uint32_t> queue{from_major};
    reached.emplace(from_major, std::make_pair(from_major, nullptr));
    while (!queue.empty() && !reached.contains(to_major)) {
      const uint32_t major = queue.front();
      queue.pop_front();
      for (const auto& [pair, fn] : registered->second) {
        if (pair.first == major && reached.emplace(pair.second, std::make_pair(major, &fn)).second) {
          queue.push_back(pair.second);
        }
      }
    }
    if (reached.contains(to_major)) {
      std::vector<SchemaMigration> path;
      for (uint32_t major = to_major; major != from_major; major = reached.at(major).first) {
        path.insert(path.begin(), *reached.at(major).second);
      }
      return path;
    }
  }
  return Status::failed_precondition(
      "state '" + state_name + "' is stored with schema major version " + std::to_string(from_major) +
      " but its descriptor has major version " + std::to_string(to_major) +
      "; register a migration before opening it: store.register_migration(\"" + state_name + "\", " +
      std::to_string(from_major) + ", " + std::to_string(to_major) +
      ", fn) where fn rewrites one stored value, or keep the descriptor at major version " +
      std::to_string(from_major));
}

Result<std::shared_ptr<StateColumn>> KeyedStateStore::prepare_column(const detail::StateSpec& spec) {
  const internal::StateRecord wanted = record_of(spec);
  const ColumnOptions options = column_options_for(spec.ttl);
  // A rewrite interrupted after its commit point is finished first.
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> marker,
                               states_->get(internal::migration_marker_key(spec.name)));
  if (marker.has_value()) {
    STREAMSTATE_ASSIGN_OR_RETURN(const internal::StateRecord target,
                                 internal::decode_state_record(spec.name, *marker));
    STREAMSTATE_RETURN_IF_ERROR(internal::finish_state_rewrite(*backend_, spec.name, target, options));
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> stored_bytes, states_->get(spec.name));
  if (!stored_bytes.has_value()) {
    STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<StateColumn> column,
                                 backend_->column_with_options(spec.name, options));
    STREAMSTATE_RETURN_IF_ERROR(states_->put(spec.name, internal::encode_state_record(wanted)));
    return column;
  }
  STREAMSTATE_ASSIGN_OR_RETURN(const internal::StateRecord stored,
                               internal::decode_state_record(spec.name, *stored_bytes));
  if (stored.kind != wanted.kind) {
    return Status::failed_precondition(
        "state '" + spec.name + "' is stored as a " + internal::describe_state_record(stored) +
        " and cannot be opened as a " + describe_spec(spec) +
        "; a state's kind never changes: use another state name, or drop the column '" + spec.name +
        "' (StateBackend::drop_column) to discard the old state");
  }
  std::vector<SchemaMigration> migrations;
  if (stored.schema.major != wanted.schema.major) {
    STREAMSTATE_ASSIGN_OR_RETURN(migrations,
                                 migration_path(spec.name, stored.schema.major, wanted.schema.major));
  } else if (stored.codec_name != wanted.codec_name) {
    return Status::failed_precondition(
        "state '" + spec.name + "' is stored with codec '" + stored.codec_name + "' (" +
        internal::describe_state_record(stored) + ") and is opened with codec '" + spec.codec_name +
        "' under the same schema major version " + std::to_string(stored.schema.major) +
        "; keep the stored type, or bump the descriptor's schema major version and register a migration");
  }
  if (stored.ttl != wanted.ttl) STREAMSTATE_RETURN_IF_ERROR(check_ttl_switch(spec, stored.ttl));
  if (!migrations.empty() || stored.ttl != wanted.ttl) {
    const int64_t now = options_.clock->now_millis();
    internal::StateRewrite rewrite{spec.name,
                                   stored,
                                   wanted,
                                   std::move(migrations),
                                   options,
                                   now,
                                   internal::expiry_after(now, static_cast<int64_t>(spec.ttl.ttl.count()))};
    STREAMSTATE_RETURN_IF_ERROR(internal::rewrite_state(*backend_, *states_, rewrite));
  } else if (stored != wanted) {
    STREAMSTATE_RETURN_IF_ERROR(states_->put(spec.name, internal::encode_state_record(wanted)));
  }
  return backend_->column_with_options(spec.name, options);
}

}  // namespace streamstate
