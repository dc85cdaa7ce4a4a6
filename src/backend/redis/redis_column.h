// One column of the Redis backend (layout 2, see redis_keys.h): each entry is its own string
// key, indexed per key group by a sorted set.
//
// get/contains are single commands (GET, EXISTS); put and remove are short Lua scripts (put:
// SET, ZADD to the group's index, SADD of the group, unless the column was dropped; remove:
// DEL and ZREM). update() is an optimistic transaction that WATCHes the entry's key and the
// column registry, which changes only when a column is created or dropped (WATCH, GET and a
// registry check in one round trip; MULTI, SET+ZADD+SADD or DEL+ZREM, EXEC in a second), run
// while holding the backend's connection, so no other thread of this process can interleave
// with it; a nil EXEC means another client changed that very key (or created or dropped a
// column), and the whole update runs again: the update function may therefore be called more
// than once. Writes to other keys never abort it.
// scan() reads the groups the prefix can match with ZRANGEBYLEX and MGET, page by page, and
// visits each page with no lock held: a prefix of a key group and user key costs in
// proportion to its entries, not to the column.
//
// Writes through the handle of a dropped column fail with NotFound, so that no entry of a
// dropped column can reappear when the column is created again; reads simply find nothing.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "backend/redis/redis_store.h"
#include "streamstate/backend.h"

namespace streamstate::internal {

class RedisColumn final : public StateColumn {
 public:
  RedisColumn(std::shared_ptr<RedisStore> store, std::string name);

  const std::string& name() const override { return name_; }
  Result<bool> get_into(BytesView key, std::string& value) override;
  Status put(BytesView key, BytesView value) override;
  Status remove(BytesView key) override;
  Result<bool> contains(BytesView key) override;
  Status update(BytesView key, const UpdateFunction& fn) override;
  Status scan(BytesView prefix, const ScanVisitor& visitor) override;
  Status clear() override;

 private:
  enum class UpdateOutcome { kUnchanged, kStored, kRemoved, kConflict };

  // One optimistic attempt of update(); sets `outcome`.
  Status update_attempt(RedisSession& session, BytesView key, const UpdateFunction& fn,
                        UpdateOutcome& outcome);
  // NotFound for writes into a column that no longer exists.
  Status column_missing() const;
  // "<operation> of key '<key>' in column '<name>'", for errors.
  std::string context(std::string_view operation, BytesView key) const;

  std::shared_ptr<RedisStore> store_;
  std::string name_;
  std::string groups_;  // "P:groups:<name>"
};

}  // namespace streamstate::internal
