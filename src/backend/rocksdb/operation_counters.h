// OperationCounters: the per-operation counts behind RocksDbBackend::statistics().
//
// Counters are striped by thread (see this_thread_stripe) so that counting a get does not
// bounce one shared cache line between cores; a reader sums the stripes. gets is not kept:
// it is hits + misses, which saves one increment per lookup.
//
// Thread-safety: add_* may be called from any thread concurrently; sum() gives a value that
// may miss increments racing with it, which is fine for statistics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "backend/rocksdb/lifecycle_gate.h"
#include "streamstate/backend.h"

namespace streamstate::internal {

class OperationCounters {
 public:
  enum Counter : size_t { kHits = 0, kMisses, kPuts, kRemoves, kScans, kBatches, kCounterCount };

  void add(Counter counter, uint64_t amount = 1) {
    stripes_[this_thread_stripe()].values[counter].fetch_add(amount, std::memory_order_relaxed);
  }

  // Fills the operation counts of `out` (gets, hits, misses, puts, removes, scans, batches).
  void sum_into(BackendStatistics& out) const {
    std::array<uint64_t, kCounterCount> totals{};
    for (const Stripe& stripe : stripes_) {
      for (size_t i = 0; i < kCounterCount; ++i)
        totals[i] += stripe.values[i].load(std::memory_order_relaxed);
    }
    out.hits = totals[kHits];
    out.misses = totals[kMisses];
    out.gets = out.hits + out.misses;
    out.puts = totals[kPuts];
    out.removes = totals[kRemoves];
    out.scans = totals[kScans];
    out.batches = totals[kBatches];
  }

 private:
  struct alignas(64) Stripe {
    std::array<std::atomic<uint64_t>, kCounterCount> values{};
  };
  std::array<Stripe, kLifecycleStripes> stripes_;
};

}  // namespace streamstate::internal
