// ScratchState: typed helpers over plain string-keyed state, for code that needs a few named
// values ("user_count", "last_offset") and no keyed partitioning, key groups or descriptors.
//
//   auto scratch = ScratchState::open(backend).value();              // column "scratch"
//   scratch.put_typed<int64_t>("user_count", 42);
//   scratch.put_with_ttl("session_token", std::string("abc"), std::chrono::minutes(5));
//   std::optional<int64_t> n = scratch.get_typed<int64_t>("user_count").value();
//
//   ScratchState::Batch batch = scratch.batch();                     // all or nothing
//   batch.put_typed<int64_t>("a", 1);
//   batch.remove("b");
//   Status committed = batch.commit();                               // one WriteBatch
//
// Layout: one backend column (opened with values_carry_expiry); the entry's name is the key
// as is, and the value is [expires_at: fixed64 LE][codec name: length-prefixed][codec bytes],
// with expires_at = INT64_MAX for entries without a TTL. Storing the codec name lets
// get_typed<T> refuse an entry written as another type instead of misreading its bytes.
//
// Expired entries (put_with_ttl) are never returned: get_typed gives nullopt, contains false,
// and the read removes them; backends also drop them on their own (memory cleanup, RocksDB
// compaction, the registry's sweeper). Time comes from the clock given to open().
//
// Typed like keyed state, per entry: get_typed<T> of an entry written as another type fails
// (FailedPrecondition naming the entry and both types) instead of misreading it; put_typed
// replaces an entry, its type included. open() refuses a column that is keyed state recorded
// in "_ss.states" (a KeyedStateStore's or a StateAccess's state), whose typed values scratch
// entries would make unreadable.
//
// Errors: InvalidArgument for an empty name or a TTL that is not positive; FailedPrecondition
// naming the entry and both types when get_typed<T> finds another type, and naming the state
// when open() is given a keyed state's column; Corruption naming the entry for bytes that do
// not decode.
//
// Thread-safety: a ScratchState is a cheap handle (copies share one state) and may be used
// from any thread at once on a thread-safe backend. A Batch is a value for one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/clock.h"
#include "streamstate/codec.h"
#include "streamstate/status.h"

namespace streamstate::detail {

// One staged operation of a ScratchState::Batch.
struct ScratchOperation {
  bool remove = false;
  std::string name;
  std::string body;        // [codec name][codec bytes]; empty for a remove
  int64_t ttl_millis = 0;  // 0 = never expires
};

// The untyped, thread-safe engine behind ScratchState. Not a stable API.
class ScratchCore {
 public:
  static Result<std::shared_ptr<ScratchCore>> open(std::shared_ptr<StateBackend> backend, std::string column,
                                                   std::shared_ptr<const Clock> clock);

  const std::string& column_name() const { return column_name_; }

  // The codec bytes of the live entry `name` written with `codec`, into `payload`; false when
  // absent or expired.
  Result<bool> read(std::string_view name, std::string_view codec, std::string& payload);
  Result<bool> contains(std::string_view name);
  Status write(const ScratchOperation& operation);
  Status remove(std::string_view name);
  Status clear();
  // Applies the operations in one WriteBatch: all or none.
  Status commit(const std::vector<ScratchOperation>& operations);

  // Checks name and ttl of a put; InvalidArgument saying what to change.
  static Status check_put(std::string_view name, std::chrono::milliseconds ttl, bool with_ttl);
  static Status check_name(std::string_view name);
  // [length-prefixed codec name][payload].
  static std::string make_body(std::string_view codec, const std::string& payload);

 private:
  ScratchCore(std::shared_ptr<StateBackend> backend, std::shared_ptr<StateColumn> column,
              std::string column_name, std::shared_ptr<const Clock> clock);

  // Reads and splits the stored value; false when absent or expired (then removed).
  Result<bool> read_live(std::string_view name, std::string& stored, BytesView& body);
  Status remove_if_expired(std::string_view name);
  void append_stored(std::string& out, const ScratchOperation& operation, int64_t now) const;
  Status corrupt(std::string_view name, const std::string& what) const;

  const std::shared_ptr<StateBackend> backend_;
  const std::shared_ptr<StateColumn> column_;
  const std::string column_name_;
  const std::shared_ptr<const Clock> clock_;
};

}  // namespace streamstate::detail

namespace streamstate {

class ScratchState {
 public:
  // A group of puts and removes committed at once through one WriteBatch: either every
  // operation is applied or none is. A put with a bad name or TTL makes commit() fail
  // (InvalidArgument naming it) without applying anything. TTLs count from commit().
  class Batch {
   public:
    template <Encodable T>
    Batch& put_typed(std::string_view name, const T& value) {
      return stage(name, value, std::chrono::milliseconds(0), false);
    }
    template <Encodable T>
    Batch& put_with_ttl(std::string_view name, const T& value, std::chrono::milliseconds ttl) {
      return stage(name, value, ttl, true);
    }
    Batch& remove(std::string_view name);

    size_t size() const { return operations_.size(); }
    // Applies the operations (or none, returning why) and empties the batch either way.
    Status commit();

   private:
    friend class ScratchState;
    explicit Batch(std::shared_ptr<detail::ScratchCore> core) : core_(std::move(core)) {}

    template <Encodable T>
    Batch& stage(std::string_view name, const T& value, std::chrono::milliseconds ttl, bool with_ttl) {
      if (Status status = detail::ScratchCore::check_put(name, ttl, with_ttl); !status.is_ok()) {
        if (error_.is_ok()) error_ = status;
        return *this;
      }
      operations_.push_back(detail::ScratchOperation{
          false, std::string(name), detail::ScratchCore::make_body(codec_name<T>(), encode_value(value)),
          with_ttl ? static_cast<int64_t>(ttl.count()) : 0});
      return *this;
    }

    std::shared_ptr<detail::ScratchCore> core_;
    std::vector<detail::ScratchOperation> operations_;
    Status error_;  // the first staging error
  };

  // Opens (creating if needed) the scratch column `column` of `backend`; the name must pass
  // validate_column_name and not start with the reserved "_ss.", and must not be a keyed
  // state's column (FailedPrecondition naming its record). `clock` null = system_clock().
  static Result<ScratchState> open(std::shared_ptr<StateBackend> backend, std::string column = "scratch",
                                   std::shared_ptr<const Clock> clock = {});

  const std::string& column_name() const { return core_->column_name(); }

  // The value stored under `name`, or nullopt when absent or expired.
  template <Encodable T>
  Result<std::optional<T>> get_typed(std::string_view name) const {
    std::string payload;
    Result<bool> found = core_->read(name, codec_name<T>(), payload);
    if (!found.is_ok()) return found.status();
    if (!*found) return std::optional<T>();
    std::optional<T> value(std::in_place);
    if (Status status = decode_value_into(payload, *value); !status.is_ok()) {
      return Status::corruption("scratch entry '" + std::string(name) + "' in column '" +
                                core_->column_name() +
                                "': stored bytes cannot be decoded: " + status.message());
    }
    return value;
  }

  // Stores `value` under `name` without expiry (replacing any earlier value and TTL).
  template <Encodable T>
  Status put_typed(std::string_view name, const T& value) const {
    return put(name, value, std::chrono::milliseconds(0), false);
  }

  // Stores `value` under `name`, visible until `ttl` (> 0) from now.
  template <Encodable T>
  Status put_with_ttl(std::string_view name, const T& value, std::chrono::milliseconds ttl) const {
    return put(name, value, ttl, true);
  }

  // Whether `name` holds a live entry (of any type).
  Result<bool> contains(std::string_view name) const { return core_->contains(name); }
  // Removing an absent entry is not an error.
  Status remove(std::string_view name) const { return core_->remove(name); }
  // Removes every entry of the scratch column.
  Status clear() const { return core_->clear(); }

  Batch batch() const { return Batch(core_); }

 private:
  explicit ScratchState(std::shared_ptr<detail::ScratchCore> core) : core_(std::move(core)) {}

  template <Encodable T>
  Status put(std::string_view name, const T& value, std::chrono::milliseconds ttl, bool with_ttl) const {
    if (Status status = detail::ScratchCore::check_put(name, ttl, with_ttl); !status.is_ok()) return status;
    return core_->write(detail::ScratchOperation{
        false, std::string(name), detail::ScratchCore::make_body(codec_name<T>(), encode_value(value)),
        with_ttl ? static_cast<int64_t>(ttl.count()) : 0});
  }

  std::shared_ptr<detail::ScratchCore> core_;
};

}  // namespace streamstate
