// Snapshots of the Redis backend.
//
// take_redis_snapshot() runs one Lua script, atomic on the server, that draws a unique id
// from "<prefix>:snap-seq" and copies every (column, group) with entries into the hash
// "<prefix>:snap{<column>:<group>}:<id>" (ZRANGE of the group's index, MGET of its entries,
// HSET into the copy), returning the id and the groups copied per column. Writes after the
// script are invisible through the copies. The cost is O(state size) in server memory and
// time while the script runs: Redis suits small and medium state. The copies are UNLINKed
// when the snapshot is destroyed, or by the backend's close() if that comes first.
//
// Iterators page through the copies of the groups a prefix can match with HSCAN; order is
// unspecified, no entry repeats.
//
// Thread-safety: a snapshot may be used from any thread; one iterator from one thread at a time.
#pragma once

#include <memory>

#include "backend/redis/redis_store.h"
#include "streamstate/backend.h"

namespace streamstate::internal {

Result<std::unique_ptr<BackendSnapshot>> take_redis_snapshot(const std::shared_ptr<RedisStore>& store);

// Deletes the copies of every live snapshot, then closes the connection; no snapshot can be
// taken in between. Idempotent.
void release_snapshots_and_close(RedisStore& store);

}  // namespace streamstate::internal
