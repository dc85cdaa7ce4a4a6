// KeyedStateStore: the keyed state of one operator instance, like Flink's keyed state
// backend. It owns the current key and namespace, the key-group range the instance serves,
// and the states created from descriptors; each state lives in the backend column named after
// it (layout in docs/keyed-state.md).
//
//   auto store = KeyedStateStore::open(backend);      // Result<std::unique_ptr<KeyedStateStore>>
//   if (!store.is_ok()) return store.status();
//   auto count = (*store)->value_state(ValueStateDescriptor<int64_t>{.name = "count", .default_value = 0});
//   if (!count.is_ok()) return count.status();
//   if (Status status = (*store)->set_current_key("user-1"); !status.is_ok()) return status;  // scopes every state
//   Result<int64_t> n = count->update_with([](int64_t n) { return n + 1; });
//
// Every state is recorded in the column "_ss.states" (kind, codec, schema version, TTL), so
// reopening a name as another kind or type fails, also after a restart, and a new schema
// major version runs the registered migration (schema.h). The store's max_parallelism is
// recorded there too, on first open, and a later open with another value fails (see
// rescale.h to change it). Errors name the state, and keys as the user key with its key group
// and namespace (never the stored bytes):
//   - a key outside the store's key-group range: OutOfRange naming the key group and range;
//   - no current key: FailedPrecondition;
//   - a name registered twice in one store with another kind, codec, TTL or schema:
//     InvalidArgument;
//   - a stored record of another kind or codec, another schema major version without a
//     migration, or a TTL switched on or off without register_ttl_change: FailedPrecondition;
//   - another recorded max_parallelism: FailedPrecondition naming both values;
//   - stored bytes a codec rejects: Corruption naming the state and the key;
//   - anything after close(), on the store or on any state handle it returned: kClosed.
//
// Lifecycle: close() - and, without the flush and the backend's close, the destructor -
// detaches every state handle from the backend, so a handle that outlives the store fails
// with kClosed and holds no backend resources (a RocksDB directory can be reopened at once).
//
// Thread-safety: NOT thread-safe, like Flink's keyed state: one store, and every state handle
// it returned, belongs to the one thread that runs the operator instance. Snapshots returned
// by snapshot() may be read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/aggregating_state.h"
#include "streamstate/backend.h"
#include "streamstate/clock.h"
#include "streamstate/codec.h"
#include "streamstate/detail/key_context.h"
#include "streamstate/detail/state_core.h"
#include "streamstate/key_group.h"
#include "streamstate/list_state.h"
#include "streamstate/map_state.h"
#include "streamstate/reducing_state.h"
#include "streamstate/schema.h"
#include "streamstate/state_descriptor.h"
#include "streamstate/status.h"
#include "streamstate/value_state.h"

namespace streamstate {

struct KeyedStateStoreOptions {
  // Number of key groups keys are hashed into; 1..32768. Default: kDefaultMaxParallelism (128).
  uint32_t max_parallelism = kDefaultMaxParallelism;
  // The key groups this operator instance serves (KeyGroupRange::for_operator); must be a
  // non-empty part of [0, max_parallelism). Default: all key groups.
  std::optional<KeyGroupRange> key_groups{};
  // Time for TTL. Default: system_clock().
  std::shared_ptr<const Clock> clock{};
  // Whether close() also closes the backend. Set it to false when the backend is shared with
  // other stores or other users that go on using it. Default: true (the store is usually the
  // backend's only user).
  bool close_backend_on_close = true;
};

class KeyedStateStore {
 public:
  // Checks the options (errors name the option), opens the "_ss.states" column and records
  // options.max_parallelism there, or checks it against the recorded value: FailedPrecondition
  // naming both values when they differ.
  static Result<std::unique_ptr<KeyedStateStore>> open(std::shared_ptr<StateBackend> backend,
                                                       KeyedStateStoreOptions options = {});
  // Detaches the state handles (they fail with kClosed) and drops the store's reference to the
  // backend; does not close the backend (call close() for that).
  ~KeyedStateStore();
  KeyedStateStore(const KeyedStateStore&) = delete;
  KeyedStateStore& operator=(const KeyedStateStore&) = delete;

  // Makes `user_key` the key every state operation applies to. OutOfRange naming the key's
  // key group and the store's range when the key belongs to another operator instance; the
  // store then has no current key until the next successful call.
  Status set_current_key(BytesView user_key);
  // set_current_key for a caller that has already hashed the key (a runtime routing records by
  // key group): skips the hash. Precondition: key_group == key_group_for_key(user_key,
  // max_parallelism()); a wrong group makes the key's state unreachable by set_current_key.
  // OutOfRange as set_current_key when the group is outside the store's range.
  Status set_current_key_in_group(uint32_t key_group, BytesView user_key);
  // As set_current_key with the key's Codec<K> bytes. A key must always be given the same
  // way: set_current_key("a") and set_current_key_typed(std::string("a")) are different keys.
  template <Encodable K>
  Status set_current_key_typed(const K& key) {
    typed_key_.clear();
    encode_value_to(key, typed_key_);
    return set_current_key(typed_key_);
  }
  // Scopes states further, e.g. by window. Default: empty. Kept across set_current_key.
  Status set_current_namespace(BytesView name_space);

  // Makes every acknowledged write durable where the backend buffers writes: StateBackend::flush
  // (RocksDB: syncs the write-ahead log and flushes the memtables to table files; memory:
  // nothing to do; Redis: nothing, durability is the server's persistence setting). kClosed
  // after close().
  Status flush();
  // Ends the store: flushes the backend, detaches every state handle it returned (their
  // operations fail with kClosed from now on, and they no longer hold the backend or its
  // columns), and closes the backend when options.close_backend_on_close (the default). Later
  // calls on the store fail with kClosed; close() itself is idempotent. Returns the first error
  // of the flush or of the backend's close; the store is closed either way.
  Status close();
  bool is_closed() const { return closed_; }

  bool has_current_key() const { return context_->has_key(); }
  // The current key and its key group; empty and 0 without a current key.
  BytesView current_key() const { return context_->user_key(); }
  uint32_t current_key_group() const { return context_->key_group(); }
  BytesView current_namespace() const { return context_->name_space(); }
  uint32_t max_parallelism() const { return options_.max_parallelism; }
  const KeyGroupRange& key_groups() const { return key_groups_; }
  // The backend; null after close().
  const std::shared_ptr<StateBackend>& backend() const { return backend_; }

  template <typename T>
  Result<ValueState<T>> value_state(const ValueStateDescriptor<T>& descriptor) {
    auto core = open_state(spec_of(descriptor, StateKind::kValue, codec_name<T>()));
    if (!core.is_ok()) return core.status();
    return ValueState<T>(std::move(core).value(),
                         std::make_shared<const ValueStateDescriptor<T>>(descriptor));
  }

  template <typename T>
  Result<ListState<T>> list_state(const ListStateDescriptor<T>& descriptor) {
    auto core = open_state(spec_of(descriptor, StateKind::kList, codec_name<T>()));
    if (!core.is_ok()) return core.status();
    return ListState<T>(std::move(core).value(), std::make_shared<const ListStateDescriptor<T>>(descriptor));
  }

  template <typename K, typename V>
  Result<MapState<K, V>> map_state(const MapStateDescriptor<K, V>& descriptor) {
    auto core = open_state(spec_of(descriptor, StateKind::kMap, codec_name<K>() + " => " + codec_name<V>()));
    if (!core.is_ok()) return core.status();
    return MapState<K, V>(std::move(core).value(),
                          std::make_shared<const MapStateDescriptor<K, V>>(descriptor));
  }

  template <typename T>
  Result<ReducingState<T>> reducing_state(const ReducingStateDescriptor<T>& descriptor) {
    if (!descriptor.reduce) return missing_function(descriptor.name, "reducing", "reduce");
    auto core = open_state(spec_of(descriptor, StateKind::kReducing, codec_name<T>()));
    if (!core.is_ok()) return core.status();
    return ReducingState<T>(std::move(core).value(),
                            std::make_shared<const ReducingStateDescriptor<T>>(descriptor));
  }

  template <typename IN, typename ACC, typename OUT>
  Result<AggregatingState<IN, ACC, OUT>> aggregating_state(
      const AggregatingStateDescriptor<IN, ACC, OUT>& descriptor) {
    if (!descriptor.create_accumulator) {
      return missing_function(descriptor.name, "aggregating", "create_accumulator");
    }
    if (!descriptor.add) return missing_function(descriptor.name, "aggregating", "add");
    if (!descriptor.get_result) return missing_function(descriptor.name, "aggregating", "get_result");
    auto core = open_state(spec_of(descriptor, StateKind::kAggregating, codec_name<ACC>()));
    if (!core.is_ok()) return core.status();
    return AggregatingState<IN, ACC, OUT>(
        std::move(core).value(),
        std::make_shared<const AggregatingStateDescriptor<IN, ACC, OUT>>(descriptor));
  }

  // Registers how to rewrite the stored values of `state_name` from schema major version
  // `from_major` to `to_major`. Migrations chain (1 -> 2 -> 3). Call it before the state is
  // first opened in this store. InvalidArgument for from == to or an empty function,
  // AlreadyExists for a pair registered twice, FailedPrecondition once the state is open.
  Status register_migration(std::string state_name, uint32_t from_major, uint32_t to_major,
                            SchemaMigration fn);

  // Allows the next open of `state_name` in this store to switch its TTL on (kEnable) or off
  // (kDisable) relative to its stored record, which rewrites every stored value (adding or
  // stripping the expiry headers; entries already expired are dropped) and cannot be undone
  // without another rewrite. Without it, such an open fails with FailedPrecondition naming the
  // state and both settings. A changed TTL duration needs no rewrite and no registration.
  // Call it before the state is first opened in this store; FailedPrecondition once it is,
  // AlreadyExists when called twice for a state.
  Status register_ttl_change(std::string state_name, TtlChange change);

  // A point-in-time view of the backend (for checkpoints) in which the columns of states with
  // a TTL and cleanup_in_snapshot leave out entries that had expired when it was taken.
  Result<std::unique_ptr<BackendSnapshot>> snapshot();

  // Names of the states opened in this store, sorted.
  std::vector<std::string> state_names() const;

 private:
  KeyedStateStore(std::shared_ptr<StateBackend> backend, KeyedStateStoreOptions options,
                  KeyGroupRange key_groups, std::shared_ptr<StateColumn> states);

  template <typename Descriptor>
  static detail::StateSpec spec_of(const Descriptor& descriptor, StateKind kind, std::string codec) {
    return detail::StateSpec{descriptor.name, kind, std::move(codec), descriptor.ttl, descriptor.schema};
  }
  static Status missing_function(const std::string& state_name, std::string_view kind,
                                 std::string_view field);

  Result<std::shared_ptr<detail::StateCore>> open_state(detail::StateSpec spec);
  Status check_registered(const detail::StateSpec& existing, const detail::StateSpec& wanted) const;
  Status check_new_state(const detail::StateSpec& spec) const;
  Result<std::shared_ptr<StateColumn>> prepare_column(const detail::StateSpec& spec);
  Result<std::vector<SchemaMigration>> migration_path(const std::string& state_name, uint32_t from_major,
                                                      uint32_t to_major) const;
  ColumnOptions column_options_for(const StateTtlConfig& ttl) const;
  Status check_ttl_switch(const detail::StateSpec& spec, bool stored_ttl) const;
  Status closed_error(std::string_view operation) const;

  std::shared_ptr<StateBackend> backend_;  // null after close()
  const KeyedStateStoreOptions options_;
  const KeyGroupRange key_groups_;
  std::shared_ptr<StateColumn> states_;  // null after close()
  const std::shared_ptr<detail::KeyContext> context_;
  std::map<std::string, std::shared_ptr<detail::StateCore>, std::less<>> cores_;
  // state name -> (from major, to major) -> migration
  std::map<std::string, std::map<std::pair<uint32_t, uint32_t>, SchemaMigration>, std::less<>> migrations_;
  std::map<std::string, TtlChange, std::less<>> ttl_changes_;
  bool closed_ = false;
  std::string typed_key_;
};

}  // namespace streamstate
