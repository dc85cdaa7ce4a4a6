// StateCore: the untyped engine behind every typed state handle of one state name in one
// KeyedStateStore. The templates (ValueState<T>, MapState<K,V>, ...) only encode and decode;
// StateCore stores bytes under the current key's prefixes, applies the TTL rules (expiry
// headers, update on read, visibility, removal of expired entries when read), runs
// incremental cleanup, and lays out map entries and list elements (docs/keyed-state.md).
//
// Views it returns point into its own buffers and stay valid until its next call. Buffers
// keep their capacity, so the value hot path (get + put of one key) allocates nothing beyond
// what the backend itself needs.
//
// Part of the internal layer behind the typed state templates; not a stable API.
// Thread-safety: none; used by the one thread that owns the store (like the store itself).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "streamstate/backend.h"
#include "streamstate/clock.h"
#include "streamstate/detail/key_context.h"
#include "streamstate/schema.h"
#include "streamstate/state_descriptor.h"
#include "streamstate/status.h"
#include "streamstate/ttl.h"
#include "streamstate/write_batch.h"

namespace streamstate::internal {
class IncrementalCleanup;
}  // namespace streamstate::internal

namespace streamstate::detail {

// What the store records about a state and checks a descriptor against.
struct StateSpec {
  std::string name{};
  StateKind kind = StateKind::kValue;
  // The stored format's codec: Codec<T>::name(); for map state "<key codec> => <value codec>";
  // for aggregating state the accumulator's codec.
  std::string codec_name{};
  StateTtlConfig ttl{};
  SchemaVersion schema{};
};

class StateCore {
 public:
  // Called for each live entry: its key suffix (after the scoped prefix) and its payload.
  // Return false to stop.
  using EntryVisitor = std::function<bool(BytesView suffix, BytesView payload)>;
  // Called for each live list element's payload, in list order. Return false to stop.
  using PayloadVisitor = std::function<bool(BytesView payload)>;
  // A non-owning reference to update()'s function (no allocation, unlike std::function):
  // Status(std::optional<BytesView> current, std::string& out, bool& remove). The callable
  // must outlive the call it is passed to.
  class PayloadUpdate {
   public:
    template <typename Fn>
      requires(!std::is_same_v<std::remove_cv_t<Fn>, PayloadUpdate>)
    explicit PayloadUpdate(Fn& fn)
        : callable_(&fn), call_([](void* callable, std::optional<BytesView> current, std::string& out,
                                   bool& remove) { return (*static_cast<Fn*>(callable))(current, out, remove); }) {}
    Status operator()(std::optional<BytesView> current, std::string& out, bool& remove) const {
      return call_(callable_, current, out, remove);
    }

   private:
    void* callable_;
    Status (*call_)(void*, std::optional<BytesView>, std::string&, bool&);
  };

  StateCore(StateSpec spec, std::shared_ptr<StateBackend> backend, std::shared_ptr<StateColumn> column,
            std::shared_ptr<const KeyContext> context, std::shared_ptr<const Clock> clock);
  ~StateCore();
  StateCore(const StateCore&) = delete;
  StateCore& operator=(const StateCore&) = delete;

  // Drops the backend, column and cleanup references, when the store closes. Only
  // begin_access() may be called afterwards (it fails with kClosed).
  void release();

  const StateSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }

  // First call of every state operation: FailedPrecondition naming the state when the store
  // has no current key (kClosed once the store is closed); one step of incremental TTL
  // cleanup when configured.
  Status begin_access() {
    if (!context_->has_key()) return no_current_key();
    if (cleanup_ != nullptr) return cleanup_step();
    return Status::ok();
  }

  // ---- Keys (views valid until the next key function call)
  BytesView value_key() const { return context_->value_key(); }
  BytesView value_key_in(BytesView name_space);
  // scoped_prefix() + suffix: the key of a map entry.
  BytesView entry_key(BytesView suffix);
  // An empty buffer to encode into: a map key before entry_key(), a list element before
  // list_append().
  std::string& scratch() {
    scratch_.clear();
    return scratch_;
  }

  // ---- Single entries (value, reducing and aggregating state; map entries)
  // The payload of the live entry at `key`, or nullopt. An expired entry is removed, and
  // returned this once only with kReturnExpiredIfNotCleanedUp; a live one has its expiry
  // renewed under kOnReadAndWrite.
  Result<std::optional<BytesView>> get(BytesView key);
  // As get, without the payload.
  Result<bool> contains(BytesView key);
  // Empties the write buffer (reserving the expiry header under a TTL); append the payload,
  // then call put() or stage_put().
  std::string& begin_write();
  Status put(BytesView key);
  Status remove(BytesView key);
  // One-call read-modify-write of the entry at `key` (ValueState/MapState update_with): `fn`
  // sees the payload get() would return and writes the new one into `out`, or sets `remove`.
  // All of it runs in one StateColumn::update, so on the memory backend it is one table
  // lookup. TTL as get() then put(): an expired entry is passed on only under
  // kReturnExpiredIfNotCleanedUp, and what is written gets a fresh expiry. A non-OK Status
  // from `fn`, a thrown exception (InvalidArgument) or corrupt stored bytes leave the entry
  // as it was.
  Status update(BytesView key, const PayloadUpdate& fn);
  // Batched writes of several entries, applied at once by commit().
  void stage_put(BytesView key);
  void stage_remove(BytesView key);
  Status commit();

  // ---- Map state: the entries under the current key and namespace
  Status scan_entries(const EntryVisitor& visitor);
  Result<bool> has_entries();
  Status clear_entries();

  // ---- List state under the current key and namespace
  Status list_append(std::span<const std::string> payloads);
  Status list_for_each(const PayloadVisitor& visitor);
  // Replaces the list (an empty span clears it).
  Status list_replace(std::span<const std::string> payloads);
  Status list_clear();

  // Corruption naming the state, its codec and the current key, for bytes the codec rejected.
  Status decode_error(const Status& cause) const;

 private:
  struct ListHead {
    bool present = false;
    int64_t expires_at = 0;
    uint64_t first = 0;
    uint64_t next = 0;
  };
  struct ListScan;

  Status no_current_key() const;
  Status cleanup_step();
  Status corrupt(const std::string& what) const;
  // A backend error about `stored_key`, with the key shown as user key, key group and
  // namespace instead of its stored bytes.
  Status key_error(const Status& cause, BytesView stored_key) const;
  Status keyed(Status status, BytesView stored_key) const {
    return status.is_ok() ? status : key_error(status, stored_key);
  }
  template <typename T>
  Result<T> keyed(Result<T> result, BytesView stored_key) const {
    if (result.is_ok()) return result;
    return key_error(result.status(), stored_key);
  }
  // What update() stores in place of `stored` (nullopt = remove); failure says why it is unchanged.
  std::optional<std::string> update_stored(std::optional<BytesView> stored, const PayloadUpdate& fn,
                                           int64_t time, Status& failure);
  int64_t now() const { return clock_->now_millis(); }
  int64_t fresh_expiry() const;
  bool expired(int64_t expires_at, int64_t now) const { return now >= expires_at; }
  bool return_expired() const { return spec_.ttl.visibility == TtlVisibility::kReturnExpiredIfNotCleanedUp; }
  bool update_on_read() const { return spec_.ttl.update_type == TtlUpdateType::kOnReadAndWrite; }
  // Splits a stored value into expiry and payload; Corruption when too short. Without a TTL
  // the whole value is the payload (inline: every read and update comes here).
  Status split_value(BytesView stored, int64_t& expires_at, BytesView& payload) const {
    if (ttl_millis_ == 0) {
      expires_at = INT64_MAX;  // never (internal::kNeverExpiresMillis)
      payload = stored;
      return Status();
    }
    return split_expiring_value(stored, expires_at, payload);
  }
  Status split_expiring_value(BytesView stored, int64_t& expires_at, BytesView& payload) const;
  void fill_expiry(std::string& stored, int64_t expires_at) const;
  // Appends header (under a TTL) and payload.
  void append_stored(std::string& out, int64_t expires_at, BytesView payload) const;

  Result<ListHead> read_list_head();
  void stage_list_head(const ListHead& head);
  void list_element_key(uint64_t sequence, std::string& out) const;
  Status visit_list_elements(const ListHead& head, ListScan& scan);
  Status visit_list_element(uint64_t sequence, BytesView stored, ListScan& scan);
  Status finish_list_scan(ListHead head, const ListScan& scan);

  const StateSpec spec_;
  const int64_t ttl_millis_;
  std::shared_ptr<StateBackend> backend_;  // null after release()
  std::shared_ptr<StateColumn> column_;    // null after release()
  const std::shared_ptr<const KeyContext> context_;
  const std::shared_ptr<const Clock> clock_;
  const bool ordered_scan_;
  std::unique_ptr<internal::IncrementalCleanup> cleanup_;

  std::string key_buffer_;
  std::string scratch_;
  std::string read_buffer_;
  std::string write_buffer_;
  WriteBatch batch_;
};

// FailedPrecondition for an operation on a default-constructed (unbound) state handle.
Status unbound_state_handle(std::string_view handle_type);

// FailedPrecondition for `call` (value_or_default, update_with) on a state whose descriptor has
// no default_value.
Status missing_default_value(std::string_view state_name, std::string_view call);

}  // namespace streamstate::detail
