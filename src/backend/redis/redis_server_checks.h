// What the Redis backend checks about the server: at open, the key layout under key_prefix
// and the persistence settings; after each reconnect, whether the server lost the data.
//
// Thread-safety: the functions run inside RedisConnection::run (or its reconnect check), which
// serializes them; the once-per-process warning is guarded by its own mutex.
#pragma once

#include "backend/redis/redis_store.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// Loads the scripts, then records layout 2 in P:meta on first use, or fails with
// FailedPrecondition when P holds keys of another layout version.
Status check_layout(RedisStore& store, RedisSession& session);

// Reads CONFIG GET appendonly / save into store.persistence; sets store.persistence_warning
// (and writes it to stderr, once per process for one server and prefix) when neither AOF nor
// RDB is on or the settings cannot be read.
Status read_persistence(RedisStore& store, RedisSession& session);

// The connection's reconnect check: after a restart (a new run_id), DataLoss when P:meta is
// gone, i.e. the server came back without this prefix's data.
RedisConnection::ReconnectCheck data_loss_check(const RedisStore& store);

}  // namespace streamstate::internal
