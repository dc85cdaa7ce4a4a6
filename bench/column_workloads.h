// The timed loops our side of the backend cases runs, over any StateColumn, so the memory,
// RocksDB (and later Redis) cases measure exactly the same calls. Each loop does one
// operation per key, checks every result (a wrong or missing value fails the case instead of
// being timed), and returns the elapsed time, the operation count and a checksum.
//
// Thread-safety: a loop may run on any thread; several may share one column when the backend
// is thread-safe (the scaling case does).
#pragma once

#include <cstdint>
#include <vector>

#include "dataset.h"
#include "measure.h"
#include "streamstate/backend.h"

namespace streamstate::bench {

// put(key(i), value(i)) for every i in index order. Checksum: bytes written.
Result<Sample> put_all(StateColumn& column, const Dataset& data);

// get_into(key(i)) into one reused string for every i of `order`; every key must be found
// with its value. Checksum: sum of value_checksum, which must be the dataset's expected one.
Result<Sample> get_all(StateColumn& column, const Dataset& data, const std::vector<uint32_t>& order);

// get_into(missing_key(i)) for every i of `order`; none may be found. Checksum: hits (0).
Result<Sample> get_missing(StateColumn& column, const Dataset& data, const std::vector<uint32_t>& order);

// Stores the 8-byte little-endian counter 0 under every key (setup for increment_all).
Status load_counters(StateColumn& column, const Dataset& data);

// update() of every key of `order`: decode the 8-byte little-endian counter, add one, store
// it. Every counter must hold `expected_before` (the number of earlier passes): a lost or
// doubled update fails the case. Checksum: sum of the counters read.
Result<Sample> increment_all(StateColumn& column, const Dataset& data, const std::vector<uint32_t>& order,
                             uint64_t expected_before);

// Shared by the baselines: the 8-byte little-endian encoding of a counter.
std::string encode_counter(uint64_t value);

// The error a baseline or our side reports when a counter is not what `expected_before` says.
Status counter_mismatch(std::string_view side, uint64_t index, uint64_t found, uint64_t expected);

}  // namespace streamstate::bench
