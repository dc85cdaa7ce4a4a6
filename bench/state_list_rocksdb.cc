// rocksdb/list-append-100k: does a ListState append cost more when the list is long? Both
// sides of the case are ours, in one KeyedStateStore over RocksDbBackend, running the same
// loop (set_current_key, then add() of a 100-byte string) on the same elements in the same
// order; only the lists appended to differ:
//   - "ours": kLongLists lists holding kLongListLength (100,000) elements each, appended to
//     in turn (each gets appends / kLongLists per measurement, so they stay near 100,000);
//   - "baseline": `appends` lists holding kShortListLength (10) elements, one append each
//     per measurement (10 to 10 + runs elements).
// The reported ratio is throughput at 100,000 elements over throughput at 10 elements: 1.0
// means an append costs the same at any length, lower means appends slow down as lists grow
// (a layout that rewrote the list, or read it, on every append would score near 0). The long
// lists' heads are few and stay hot in the memtable while the short lists' heads are many;
// both working sets fit the block cache, so this favours the long side by at most the cost of
// a cached block read per append.
//
// Setup is untimed: elements are written with add_all() in batches, then the database is
// compacted. Afterwards every list is read back: its length and the checksum of its elements
// must be what setup and every measurement appended.
#include "state_suite.h"
#include "streamstate/config.h"

#if STREAMSTATE_HAS_ROCKSDB

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "measure.h"
#include "raw_rocksdb.h"
#include "scratch_dir.h"
#include "streamstate/keyed_state_store.h"
#include "streamstate/rocksdb.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

constexpr size_t kLongLists = 10;
constexpr uint64_t kLongListLength = 100'000;
constexpr uint64_t kShortListLength = 10;
// Appends per measurement (fewer when --keys is smaller): the number of short lists.
constexpr uint64_t kMaxAppends = 20'000;
// Setup appends to a long list go in batches of this many elements.
constexpr uint64_t kSetupBatch = 1'000;

using Events = ListState<std::string>;

// A list to append to, with what it must hold once the measurements are done.
struct ListUnderTest {
  std::string key;
  uint64_t expected_length = 0;
  uint64_t expected_checksum = 0;
};

// Setup element k of list number `list` (of its side), from the dataset's value pool.
BytesView setup_element(const Dataset& data, size_t list, uint64_t length, uint64_t k) {
  return data.value((list * length + k) % data.size());
}

// Fills every list with `length` elements, in batches of at most kSetupBatch.
Status fill_lists(KeyedStateStore& store, Events& events, const Dataset& data,
                  std::vector<ListUnderTest>& lists, uint64_t length) {
  std::vector<std::string> batch;
  for (size_t list = 0; list < lists.size(); ++list) {
    STREAMSTATE_RETURN_IF_ERROR(store.set_current_key(lists[list].key));
    for (uint64_t k = 0; k < length; k += kSetupBatch) {
      batch.clear();
      for (uint64_t j = k; j < std::min(length, k + kSetupBatch); ++j) {
        batch.emplace_back(setup_element(data, list, length, j));
        lists[list].expected_checksum += value_checksum(batch.back());
      }
      STREAMSTATE_RETURN_IF_ERROR(events.add_all(batch));
    }
    lists[list].expected_length = length;
  }
  return Status::ok();
}

// The timed loop of both sides: append n goes to lists[n % lists.size()] and is element
// data.value(n % data.size()). Checksum: sum of value_checksum of the elements appended.
Result<Sample> append_round(KeyedStateStore& store, Events& events, const Dataset& data,
                            const std::vector<ListUnderTest>& lists, uint64_t appends) {
  std::string element;
  uint64_t checksum = 0;
  Stopwatch watch;
  for (uint64_t n = 0; n < appends; ++n) {
    element.assign(data.value(n % data.size()));
    STREAMSTATE_RETURN_IF_ERROR(store.set_current_key(lists[n % lists.size()].key));
    STREAMSTATE_RETURN_IF_ERROR(events.add(element));
    checksum += value_checksum(element);
  }
  double seconds = watch.seconds();
  return Sample{seconds, appends, checksum};
}

// Adds what `runs` measurements of append_round appended to each list's expectations.
void expect_appends(std::vector<ListUnderTest>& lists, const Dataset& data, uint64_t appends, int runs) {
  for (uint64_t n = 0; n < appends; ++n) {
    ListUnderTest& list = lists[n % lists.size()];
    list.expected_length += static_cast<uint64_t>(runs);
    list.expected_checksum += static_cast<uint64_t>(runs) * value_checksum(data.value(n % data.size()));
  }
}

Status verify_lists(KeyedStateStore& store, Events& events, const std::vector<ListUnderTest>& lists,
                    std::string_view side) {
  for (size_t list = 0; list < lists.size(); ++list) {
    STREAMSTATE_RETURN_IF_ERROR(store.set_current_key(lists[list].key));
    uint64_t length = 0;
    uint64_t checksum = 0;
    STREAMSTATE_RETURN_IF_ERROR(events.for_each([&](const std::string& element) {
      ++length;
      checksum += value_checksum(element);
    }));
    if (length != lists[list].expected_length || checksum != lists[list].expected_checksum) {
      return Status::internal(
          std::string(side) + ": list #" + std::to_string(list) + " holds " + std::to_string(length) +
          " elements (checksum " + std::to_string(checksum) + ") but setup and the measurements appended " +
          std::to_string(lists[list].expected_length) + " (checksum " +
          std::to_string(lists[list].expected_checksum) + "); appends were lost or doubled");
    }
  }
  return Status::ok();
}

Status run_case(const BenchOptions& options, const Dataset& data, RocksDbBackend& backend,
                KeyedStateStore& store, std::vector<CaseResult>& results) {
  STREAMSTATE_ASSIGN_OR_RETURN(Events events,
                               store.list_state(ListStateDescriptor<std::string>{.name = kListState}));
  const uint64_t appends = std::min<uint64_t>(kMaxAppends, data.size());

  // Long lists are keyed "long-list-N": 11 or 12 bytes, never one of the dataset's 16-byte keys.
  std::vector<ListUnderTest> long_lists(kLongLists);
  for (size_t list = 0; list < kLongLists; ++list) long_lists[list].key = "long-list-" + std::to_string(list);
  std::vector<ListUnderTest> short_lists(appends);
  for (uint64_t i = 0; i < appends; ++i) short_lists[i].key.assign(data.key(i));
  STREAMSTATE_RETURN_IF_ERROR(fill_lists(store, events, data, long_lists, kLongListLength));
  STREAMSTATE_RETURN_IF_ERROR(fill_lists(store, events, data, short_lists, kShortListLength));
  STREAMSTATE_RETURN_IF_ERROR(backend.compact());

  const SampleFunction long_side = [&](int) {
    return append_round(store, events, data, long_lists, appends);
  };
  const SampleFunction short_side = [&](int) {
    return append_round(store, events, data, short_lists, appends);
  };
  STREAMSTATE_RETURN_IF_ERROR(
      measure_and_add(results, options,
                      {"rocksdb/list-append-100k",
                       "list of 10 elements (ratio = appends/s at 100k over at 10; 1.0 = constant cost)"},
                      long_side, short_side));

  expect_appends(long_lists, data, appends, options.runs);
  expect_appends(short_lists, data, appends, options.runs);
  STREAMSTATE_RETURN_IF_ERROR(verify_lists(store, events, long_lists, "100,000-element lists"));
  return verify_lists(store, events, short_lists, "10-element lists");
}

}  // namespace

Status run_rocksdb_list_case(const BenchOptions& options, const Dataset& data,
                             std::vector<CaseResult>& results) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch, ScratchDir::create(options.dir));
  STREAMSTATE_ASSIGN_OR_RETURN(std::shared_ptr<RocksDbBackend> backend,
                               RocksDbBackend::open(backend_options_at(scratch->subdirectory("lists"))));
  Status status;
  {
    Result<std::unique_ptr<KeyedStateStore>> store = KeyedStateStore::open(backend);
    status = store.is_ok() ? run_case(options, data, *backend, **store, results) : store.status();
  }
  Status closed = backend->close();
  return status.is_ok() ? closed : status;
}

}  // namespace streamstate::bench

#else  // !STREAMSTATE_HAS_ROCKSDB

#include <iostream>

namespace streamstate::bench {

Status run_rocksdb_list_case(const BenchOptions&, const Dataset&, std::vector<CaseResult>&) {
  std::cerr << "state: this build has no RocksDB backend (STREAMSTATE_WITH_ROCKSDB=OFF); "
               "rocksdb/list-append-100k skipped\n";
  return Status::ok();
}

}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_ROCKSDB
