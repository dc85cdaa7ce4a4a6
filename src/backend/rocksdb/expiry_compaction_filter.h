// The compaction filter of RocksDB column families whose values carry an expiry header
// (ColumnOptions::values_carry_expiry; layout in src/core/expiring_value.h): compaction drops
// every entry whose expiry time has passed by the backend clock, so expired keyed state
// leaves the disk without anyone reading it.
//
// Expiring columns are stored in column families named with kExpiringColumnFamilyPrefix, so
// that a reopened database installs the filter again before any compaction can run.
//
// Thread-safety: the factory and its filters may be used by any number of compaction threads
// at once (the clock is thread-safe; the filters keep no mutable state).
#pragma once

#include <rocksdb/compaction_filter.h>
#include <rocksdb/options.h>

#include <memory>
#include <string_view>

#include "streamstate/clock.h"

namespace streamstate::internal {

// Column families of expiring columns use this prefix instead of kColumnFamilyPrefix ("s.").
inline constexpr std::string_view kExpiringColumnFamilyPrefix = "e.";

// Creates one filter per compaction; each reads the clock for every entry it decides on.
std::shared_ptr<rocksdb::CompactionFilterFactory> make_expiry_compaction_filter_factory(
    std::shared_ptr<const Clock> clock);

// `base` with the expiry compaction filter installed: the options of an expiring column family.
rocksdb::ColumnFamilyOptions expiring_column_family_options(const rocksdb::ColumnFamilyOptions& base,
                                                            std::shared_ptr<const Clock> clock);

}  // namespace streamstate::internal
