// Helpers of the source tests: an output that collects what a reader emits, reading a reader
// to its end, and the two replay checks every source must pass (continuing from splits() gives
// exactly the rest of the uninterrupted sequence; splits dealt to any number of readers give
// the same records).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "streamstate/sink.h"
#include "streamstate/source.h"
#include "testutil/status_matchers.h"

namespace streamstate::testing {

template <typename T>
class CollectingOutput final : public SourceOutput<T> {
 public:
  void emit(T record) override {
    records.push_back(std::move(record));
    times.push_back(kNoEventTime);
  }
  void emit(T record, int64_t event_time_millis) override {
    records.push_back(std::move(record));
    times.push_back(event_time_millis);
  }
  void select_split(size_t split_index) override { selected.push_back(split_index); }
  void finish_split(size_t split_index) override { finished.push_back(split_index); }
  std::vector<T> records;
  std::vector<size_t> selected;  // every select_split, in order
  std::vector<size_t> finished;
  std::vector<int64_t> times;
};

template <typename T>
std::unique_ptr<SourceReader<T>> open_or_fail(Source<T>& source, std::vector<SourceSplit> splits) {
  Result<std::unique_ptr<SourceReader<T>>> reader = source.open_reader(std::move(splits), SourceReaderContext{});
  EXPECT_OK(reader);
  return reader.is_ok() ? std::move(reader).value() : nullptr;
}

// Polls `reader` (max_records per poll) until kEnd, appending to `out`; fails the test on an
// error, when 10000 polls in a row emit nothing, or past 200,000 records (a reader that
// never ends).
template <typename T>
void read_to_end(SourceReader<T>& reader, CollectingOutput<T>& out, size_t max_records = 7) {
  size_t empty_polls = 0;
  for (;;) {
    const size_t before = out.records.size();
    Result<SourcePoll> poll = reader.poll(out, max_records);
    ASSERT_OK(poll);
    if (*poll == SourcePoll::kEnd) return;
    empty_polls = out.records.size() == before ? empty_polls + 1 : 0;
    ASSERT_LT(empty_polls, 10000u) << "the reader makes no progress";
    ASSERT_LT(out.records.size(), 200'000u) << "the reader does not end";
  }
}

template <typename T>
std::vector<T> read_all(Source<T>& source, const std::vector<SourceSplit>& splits, size_t max_records = 7) {
  CollectingOutput<T> out;
  std::unique_ptr<SourceReader<T>> reader = open_or_fail(source, splits);
  if (reader != nullptr) read_to_end(*reader, out, max_records);
  return out.records;
}

// Deals splits out as the runtime does: split i to reader i % readers.
inline std::vector<std::vector<SourceSplit>> deal(const std::vector<SourceSplit>& splits, size_t readers) {
  std::vector<std::vector<SourceSplit>> dealt(readers);
  for (size_t i = 0; i < splits.size(); ++i) dealt[i % readers].push_back(splits[i]);
  return dealt;
}

// Reads `source` uninterrupted, then for each cut point: reads at least `cut` records with one
// reader, reopens a new reader from its splits() and checks that what it emitted followed by
// what the new reader emits equals the uninterrupted sequence.
template <typename T>
void expect_exact_replay(Source<T>& source, const std::vector<size_t>& cuts, size_t max_records = 5) {
  Result<std::vector<SourceSplit>> splits = source.discover_splits();
  ASSERT_OK(splits);
  const std::vector<T> full = read_all(source, *splits, max_records);
  ASSERT_FALSE(full.empty());
  for (size_t cut : cuts) {
    SCOPED_TRACE("cut after " + std::to_string(cut) + " records");
    CollectingOutput<T> out;
    std::unique_ptr<SourceReader<T>> first = open_or_fail(source, *splits);
    ASSERT_NE(first, nullptr);
    for (size_t polls = 0; out.records.size() < cut; ++polls) {
      ASSERT_LT(polls, 100'000u);
      Result<SourcePoll> poll = first->poll(out, max_records);
      ASSERT_OK(poll);
      if (*poll == SourcePoll::kEnd) break;
    }
    std::vector<SourceSplit> restored = first->splits();
    first.reset();
    std::unique_ptr<SourceReader<T>> second = open_or_fail(source, restored);
    ASSERT_NE(second, nullptr);
    read_to_end(*second, out, max_records);
    EXPECT_EQ(out.records.size(), full.size());
    EXPECT_TRUE(out.records == full) << "the continuation differs from the uninterrupted sequence";
  }
}

// Reads a few records with one reader over every split, deals its splits() to 1..4 readers and
// checks that the records read before plus those of all the readers equal (as a multiset,
// compared through `key`) the uninterrupted stream.
template <typename T>
void expect_same_records_regrouped(Source<T>& source, size_t read_before,
                                   const std::function<std::string(const T&)>& key) {
  Result<std::vector<SourceSplit>> splits = source.discover_splits();
  ASSERT_OK(splits);
  std::vector<std::string> expected;
  for (const T& record : read_all(source, *splits)) expected.push_back(key(record));
  std::sort(expected.begin(), expected.end());
  for (size_t readers = 1; readers <= 4; ++readers) {
    SCOPED_TRACE(std::to_string(readers) + " readers");
    CollectingOutput<T> out;
    std::unique_ptr<SourceReader<T>> first = open_or_fail(source, *splits);
    ASSERT_NE(first, nullptr);
    for (size_t polls = 0; out.records.size() < read_before; ++polls) {
      ASSERT_LT(polls, 100'000u);
      Result<SourcePoll> poll = first->poll(out, 3);
      ASSERT_OK(poll);
      if (*poll == SourcePoll::kEnd) break;
    }
    for (const std::vector<SourceSplit>& group : deal(first->splits(), readers)) {
      std::unique_ptr<SourceReader<T>> reader = open_or_fail(source, group);
      ASSERT_NE(reader, nullptr);
      read_to_end(*reader, out, 4);
    }
    std::vector<std::string> actual;
    for (const T& record : out.records) actual.push_back(key(record));
    std::sort(actual.begin(), actual.end());
    EXPECT_EQ(actual, expected);
  }
}

}  // namespace streamstate::testing
