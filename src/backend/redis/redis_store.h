// What the Redis backend, its column handles and its snapshots share: the options, the key
// layout, the scripts, the connection, the client-side counters, what open() learned about the
// server's persistence, and the registry of live snapshots (whose server-side copies close()
// deletes, so that closing never leaves copies behind).
//
// Held by shared_ptr so that handles and snapshots outlive the backend object safely; after
// close() they fail with kClosed.
//
// Thread-safety: all members are safe to use from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "backend/redis/redis_connection.h"
#include "backend/redis/redis_keys.h"
#include "backend/redis/redis_scripts.h"
#include "streamstate/backend.h"
#include "streamstate/redis.h"

namespace streamstate::internal {

struct RedisCounters {
  std::atomic<uint64_t> gets{0};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
  std::atomic<uint64_t> puts{0};
  std::atomic<uint64_t> removes{0};
  std::atomic<uint64_t> scans{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> update_attempts{0};
  std::atomic<uint64_t> update_conflicts{0};
  std::atomic<uint64_t> batch_conflicts{0};

  static void add(std::atomic<uint64_t>& counter, uint64_t amount = 1) {
    counter.fetch_add(amount, std::memory_order_relaxed);
  }
};

struct RedisStore {
  RedisStore(const RedisBackendOptions& options_in, std::unique_ptr<RedisConnection> connection_in)
      : options(options_in), keys(options_in.key_prefix), connection(std::move(connection_in)) {}

  const RedisBackendOptions options;
  const RedisKeys keys;
  const std::unique_ptr<RedisConnection> connection;
  RedisScripts scripts;  // loaded by open(), read-only afterwards
  RedisCounters counters;
  // Set by open(), read-only afterwards: the server's persistence settings and the warning
  // when neither AOF nor RDB is on (empty otherwise).
  std::string persistence;
  std::string persistence_warning;

  // Serializes taking, releasing and closing snapshots (see RedisSnapshot); taken before the
  // connection's mutex, never after it.
  std::mutex snapshot_mutex;
  // Snapshot id -> the copy keys it owns on the server. Guarded by snapshot_mutex.
  std::map<uint64_t, std::vector<std::string>> live_snapshots;
};

// Deletes `keys` on the server with UNLINK (the memory is freed in the background).
Status unlink_keys(RedisStore& store, const std::vector<std::string>& keys);

// Pages through the entries of one column whose keys start with a prefix, group by group in
// byte order: ZRANGEBYLEX on the group's index for pipeline_depth keys, then MGET of their
// entries, in one hold of the connection. Entries removed between the two are skipped.
class GroupScanner {
 public:
  GroupScanner(std::shared_ptr<RedisStore> store, std::string column, BytesView prefix);

  // Replaces `page` with the next entries (possibly none while more may follow); sets `more`
  // to false once the scan is complete.
  Status next_page(std::vector<std::pair<std::string, std::string>>& page, bool& more);

 private:
  Status load_groups();

  std::shared_ptr<RedisStore> store_;
  std::string column_;
  std::string prefix_;
  bool groups_loaded_ = false;
  std::vector<std::string> groups_;  // hex, in byte order
  size_t group_ = 0;                 // the group being read
  std::string min_;                  // ZRANGEBYLEX lower bound within it
  std::string max_;
};

// Pages through a hash with HSCAN, as snapshot iterators need: MATCH on a key
// prefix, COUNT pipeline_depth, and no key returned twice even when Redis repeats one while
// the hash is being resized.
class HashScanner {
 public:
  HashScanner(std::shared_ptr<RedisStore> store, std::string hash, BytesView prefix);

  // Replaces `page` with the next entries not returned before (possibly none while more may
  // follow); sets `more` to false once the scan is complete.
  Status next_page(std::vector<std::pair<std::string, std::string>>& page, bool& more);

 private:
  std::shared_ptr<RedisStore> store_;
  std::string hash_;
  std::string prefix_;
  std::string pattern_;
  std::string cursor_ = "0";
  bool finished_ = false;
  std::unordered_set<std::string> seen_;  // keys returned so far
};

}  // namespace streamstate::internal
