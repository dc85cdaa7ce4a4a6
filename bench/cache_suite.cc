// Suite "cache": the write-back cache (streamstate/write_back_cache.h) in front of RocksDB.
//
// rocksdb/write-back-cache: read-modify-write updates (StateColumn::update of an 8-byte
// counter) of 10,000 hot keys in a fixed random order, --keys updates per measurement, through
// a WriteBackCache over a RocksDbBackend, against the same updates straight on another
// RocksDbBackend with the same options. Both sides end a checkpoint interval every
// kUpdatesPerBarrier updates and at the end of each measurement with flush() - the cache writes
// its dirty entries in one batch, then each side flushes RocksDB (WAL sync and memtables) - so
// the cached side's figure includes getting every update into RocksDB. The checksum is the sum
// of the counter values the updates stored, the same on both sides when no update is lost.
#include "streamstate/config.h"
#include "suite.h"

#if STREAMSTATE_HAS_ROCKSDB

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "measure.h"
#include "raw_rocksdb.h"
#include "scratch_dir.h"
#include "streamstate/bytes.h"
#include "streamstate/rocksdb.h"
#include "streamstate/write_back_cache.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

constexpr uint64_t kHotKeys = 10'000;
constexpr uint64_t kUpdatesPerBarrier = 250'000;

struct Side {
  std::shared_ptr<StateBackend> backend;
  std::shared_ptr<StateColumn> column;
};

Result<Side> open_side(const ScratchDir& scratch, const std::string& name, bool cached) {
  RocksDbBackendOptions options = backend_options_at(scratch.subdirectory(name));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> rocksdb, RocksDbBackend::open(options));
  Side side;
  side.backend = std::shared_ptr<StateBackend>(std::move(rocksdb));
  if (cached) {
    STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<WriteBackCache> cache, open_write_back_cache(side.backend));
    side.backend = std::move(cache);
  }
  STREAMSTATE_ASSIGN_OR_RETURN(side.column, side.backend->column("counts"));
  return side;
}

// `updates` updates of the hot keys in a fixed random order.
std::vector<uint32_t> update_order(uint64_t updates, uint64_t hot_keys) {
  std::vector<uint32_t> order(updates);
  std::mt19937_64 random(20261126);
  for (uint32_t& index : order) index = static_cast<uint32_t>(random() % hot_keys);
  return order;
}

SampleFunction updates_of(Side& side, const std::vector<std::string>& keys, const std::vector<uint32_t>& order) {
  return [&side, &keys, &order](int) -> Result<Sample> {
    uint64_t checksum = 0;
    const UpdateFunction increment = [&checksum](std::optional<BytesView> current) -> std::optional<std::string> {
      const uint64_t next = (current && current->size() == 8 ? decode_fixed64(current->data()) : 0) + 1;
      checksum += next;
      std::string stored;
      put_fixed64(stored, next);
      return stored;
    };
    Stopwatch watch;
    for (size_t i = 0; i < order.size(); ++i) {
      STREAMSTATE_RETURN_IF_ERROR(side.column->update(keys[order[i]], increment));
      if ((i + 1) % kUpdatesPerBarrier == 0) STREAMSTATE_RETURN_IF_ERROR(side.backend->flush());
    }
    STREAMSTATE_RETURN_IF_ERROR(side.backend->flush());
    return Sample{watch.seconds(), order.size(), checksum};
  };
}

Status run_cache_suite(const BenchOptions& options, std::vector<CaseResult>& results) {
  if (!options.selects("rocksdb/write-back-cache")) return Status::ok();
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch, ScratchDir::create(options.dir));
  const uint64_t hot_keys = std::min<uint64_t>(kHotKeys, std::max<uint64_t>(options.keys, 1));
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < hot_keys; ++i) keys.push_back("hot-key-" + std::to_string(i));
  const std::vector<uint32_t> order = update_order(std::max<uint64_t>(options.keys, 1), hot_keys);
  STREAMSTATE_ASSIGN_OR_RETURN(Side cached, open_side(*scratch, "cached", true));
  STREAMSTATE_ASSIGN_OR_RETURN(Side direct, open_side(*scratch, "direct", false));
  STREAMSTATE_RETURN_IF_ERROR(measure_and_add(
      results, options,
      CaseSpec{.name = "rocksdb/write-back-cache", .baseline = "the same updates straight on RocksDbBackend"},
      updates_of(cached, keys, order), updates_of(direct, keys, order)));
  STREAMSTATE_RETURN_IF_ERROR(cached.backend->close());
  return direct.backend->close();
}

const SuiteRegistration kCacheSuite("cache", "the write-back cache in front of RocksDB: hot-key updates",
                                    &run_cache_suite);

}  // namespace
}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_ROCKSDB
