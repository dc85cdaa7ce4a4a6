// Time-to-live of keyed state, with Flink's semantics (StateTtlConfig).
//
// A state with a TTL stores the expiry time with every value (every map entry and every list
// element has its own), so entries expire individually. Which accesses restart the clock is
// the update type; whether an expired value that is still stored may be returned is the
// visibility. Expired entries are removed when a read finds them, and by the cleanup
// strategies switched on here:
//   (a) cleanup_in_snapshot: snapshots taken through KeyedStateStore::snapshot() skip them;
//   (b) incremental_cleanup_entries: each access of the state also checks that many entries
//       of the state and removes the expired ones;
//   (c) cleanup_in_compaction: RocksDB drops them in compaction;
//   (d) cleanup_in_background: the memory backend's cleanup thread (or cleanup_expired())
//       drops them.
// Time comes from KeyedStateStoreOptions::clock. See docs/keyed-state.md.
//
// Thread-safety: a plain value type.
#pragma once

#include <chrono>
#include <cstdint>

#include "streamstate/status.h"

namespace streamstate {

// Which accesses give an entry a fresh time to live.
enum class TtlUpdateType : uint8_t {
  // Creating and writing (update, add, put) restart it; reads do not.
  kOnCreateAndWrite = 0,
  // Reads restart it as well (a read of a live entry rewrites its expiry).
  kOnReadAndWrite = 1,
};

// Whether an expired entry that is still stored may be returned.
enum class TtlVisibility : uint8_t {
  // Never: reads, iteration, contains and store snapshots behave as if it were gone.
  kNeverReturnExpired = 0,
  // The first read that finds it returns it (and removes it); later reads see nothing.
  kReturnExpiredIfNotCleanedUp = 1,
};

// A TTL switched on or off for a state whose values are already stored: the explicit
// consent KeyedStateStore::register_ttl_change takes before it rewrites every stored value.
enum class TtlChange : uint8_t {
  // The state was stored without a TTL and is now opened with one: every value gets an
  // expiry header of (time of the rewrite + ttl).
  kEnable = 1,
  // The state was stored with a TTL and is now opened without one: expired values are
  // dropped, the live ones lose their expiry header (they never expire again).
  kDisable = 2,
};

struct StateTtlConfig {
  // Time to live; zero disables TTL (the other fields are then unused). Default: 0.
  std::chrono::milliseconds ttl{0};
  // Default: kOnCreateAndWrite.
  TtlUpdateType update_type = TtlUpdateType::kOnCreateAndWrite;
  // Default: kNeverReturnExpired.
  TtlVisibility visibility = TtlVisibility::kNeverReturnExpired;
  // (a) Snapshots taken through KeyedStateStore::snapshot() leave out expired entries.
  // Default: true.
  bool cleanup_in_snapshot = true;
  // (b) Entries of the state checked (and removed when expired) per access of the state;
  // 0 = off. Default: 0.
  uint32_t incremental_cleanup_entries = 0;
  // (c) Let RocksDB drop expired entries when it compacts. Default: true.
  bool cleanup_in_compaction = true;
  // (d) Let the memory backend's background cleanup drop expired entries. Default: true.
  bool cleanup_in_background = true;

  bool enabled() const { return ttl.count() > 0; }
  // InvalidArgument naming the field and the fix: a negative ttl, or cleanup asked for
  // without a ttl.
  Status validate() const;

  friend bool operator==(const StateTtlConfig&, const StateTtlConfig&) = default;
};

}  // namespace streamstate
