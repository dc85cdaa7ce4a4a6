// The generator and click-event sources: records depend only on (seed, index), splits partition
// the index space, positions replay exactly (also regrouped), restores of foreign splits are
// refused, and the rate limit holds against an injected clock.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/clock.h"
#include "streamstate/sources.h"
#include "testutil/status_matchers.h"
#include "unit/runtime/sources_test_helpers.h"

namespace streamstate {
namespace {

using testing::CollectingOutput;
using testing::deal;
using testing::open_or_fail;
using testing::read_all;

struct Sample {
  uint64_t index = 0;
  uint64_t value = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

std::shared_ptr<Source<Sample>> samples(GeneratorOptions options) {
  return generator_source<Sample>(std::move(options), [](uint64_t index, GeneratorRandom& random) {
    return Sample{index, random()};
  });
}

GeneratorOptions bounded(uint64_t count, uint32_t splits = 4, uint64_t seed = 7) {
  GeneratorOptions options;
  options.count = count;
  options.splits = splits;
  options.seed = seed;
  return options;
}

std::vector<SourceSplit> discover(Source<Sample>& source) {
  Result<std::vector<SourceSplit>> splits = source.discover_splits();
  EXPECT_OK(splits);
  return splits.is_ok() ? *splits : std::vector<SourceSplit>{};
}

TEST(GeneratorSource, OneReaderOverAllSplitsEmitsIndexesInOrderAndEnds) {
  auto source = samples(bounded(103));
  const std::vector<Sample> records = read_all(*source, discover(*source));
  ASSERT_EQ(records.size(), 103u);
  for (uint64_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].index, i);
}

TEST(GeneratorSource, SequenceDoesNotDependOnPollSizes) {
  auto source = samples(bounded(500, 3));
  const std::vector<Sample> one_by_one = read_all(*source, discover(*source), 1);
  EXPECT_TRUE(one_by_one == read_all(*source, discover(*source), 1000));
  std::vector<SourceSplit> two = discover(*source);
  two.pop_back();
  EXPECT_TRUE(read_all(*source, two, 1) == read_all(*source, two, 13));
}

TEST(GeneratorSource, RecordDependsOnlyOnSeedAndIndex) {
  // The same seed with 4 splits in one reader and 7 splits over 3 readers: same record i.
  auto four = samples(bounded(200, 4));
  auto seven = samples(bounded(200, 7));
  std::vector<Sample> by_index(200);
  for (const Sample& s : read_all(*four, discover(*four))) by_index.at(s.index) = s;
  size_t seen = 0;
  for (const std::vector<SourceSplit>& group : deal(discover(*seven), 3)) {
    for (const Sample& s : read_all(*seven, group)) {
      EXPECT_EQ(s, by_index.at(s.index));
      ++seen;
    }
  }
  EXPECT_EQ(seen, 200u);
  std::set<uint64_t> distinct;
  for (const Sample& s : by_index) distinct.insert(s.value);
  EXPECT_EQ(distinct.size(), 200u) << "records of different indexes must differ";
  EXPECT_EQ(by_index[5].value, [] {
    GeneratorRandom random(generator_record_seed(7, 5));
    return random();
  }());
  // Another seed gives other values.
  auto other = samples(bounded(200, 4, 8));
  const std::vector<Sample> other_records = read_all(*other, discover(*other));
  size_t equal = 0;
  for (size_t i = 0; i < 200; ++i) equal += other_records[i].value == by_index[i].value ? 1 : 0;
  EXPECT_EQ(equal, 0u);
}

TEST(GeneratorSource, SplitEmitsItsResidueClassAndCountsItsPosition) {
  auto source = samples(bounded(10, 4));
  const std::vector<SourceSplit> splits = discover(*source);
  ASSERT_EQ(splits.size(), 4u);
  EXPECT_EQ(splits[1], (SourceSplit{"partition-1-of-4", ""}));
  CollectingOutput<Sample> out;
  auto reader = open_or_fail(*source, {splits[1]});
  ASSERT_NE(reader, nullptr);
  ASSERT_OK(reader->poll(out, 2));
  EXPECT_EQ(reader->splits(), (std::vector<SourceSplit>{{"partition-1-of-4", "2"}}));
  Result<SourcePoll> last = reader->poll(out, 100);
  ASSERT_OK(last);
  EXPECT_EQ(*last, SourcePoll::kEnd);
  ASSERT_EQ(out.records.size(), 3u);  // 1, 5, 9
  EXPECT_EQ(out.records[0].index, 1u);
  EXPECT_EQ(out.records[1].index, 5u);
  EXPECT_EQ(out.records[2].index, 9u);
  EXPECT_EQ(reader->splits(), (std::vector<SourceSplit>{{"partition-1-of-4", "3"}}));
}

TEST(GeneratorSource, ContinuesExactlyFromItsSplits) {
  auto source = samples(bounded(157));
  testing::expect_exact_replay<Sample>(*source, {0, 1, 4, 50, 156, 157});
}

TEST(GeneratorSource, ReaderOverSomeSplitsContinuesExactly) {
  auto source = samples(bounded(90, 5));
  std::vector<SourceSplit> two = discover(*source);
  two = {two[1], two[3]};
  const std::vector<Sample> full = read_all(*source, two);
  CollectingOutput<Sample> out;
  auto first = open_or_fail(*source, two);
  ASSERT_OK(first->poll(out, 7));
  auto second = open_or_fail(*source, first->splits());
  testing::read_to_end(*second, out);
  EXPECT_TRUE(out.records == full);
}

TEST(GeneratorSource, RegroupedSplitsGiveTheSameRecords) {
  auto source = samples(bounded(301, 6));
  testing::expect_same_records_regrouped<Sample>(*source, 40, [](const Sample& s) {
    return std::to_string(s.index) + ":" + std::to_string(s.value);
  });
}

TEST(GeneratorSource, MersenneTwisterFunctionIsSeededPerRecordToo) {
  auto source = generator_source<uint64_t>(bounded(50), [](uint64_t, std::mt19937_64& random) { return random(); });
  Result<std::vector<SourceSplit>> splits = source->discover_splits();
  ASSERT_OK(splits);
  const std::vector<uint64_t> values = read_all(*source, *splits);
  ASSERT_EQ(values.size(), 50u);
  std::mt19937_64 expected(generator_record_seed(7, 17));
  EXPECT_EQ(values[17], expected());
  testing::expect_exact_replay<uint64_t>(*source, {3, 20});
}

TEST(GeneratorSource, RefusesSplitsItDidNotMake) {
  auto source = samples(bounded(100, 4));
  EXPECT_STATUS(source->open_reader({{"partition-1-of-8", ""}}, {}), StatusCode::kInvalidArgument, "splits = 8");
  EXPECT_STATUS(source->open_reader({{"file.csv", ""}}, {}), StatusCode::kInvalidArgument, "file.csv");
  EXPECT_STATUS(source->open_reader({{"partition-1-of-4", "x1"}}, {}), StatusCode::kInvalidArgument, "'x1'");
  EXPECT_STATUS(source->open_reader({{"partition-1-of-4", "26"}}, {}), StatusCode::kInvalidArgument, "past its end");
  EXPECT_OK(source->open_reader({{"partition-1-of-4", "25"}}, {}));
  EXPECT_STATUS(samples(bounded(100, 0))->discover_splits(), StatusCode::kInvalidArgument, "splits is 0");
}

TEST(GeneratorSource, UserExceptionFailsThePollNamingTheRecord) {
  auto source = generator_source<int>(bounded(10), [](uint64_t index, GeneratorRandom&) -> int {
    if (index == 3) throw std::runtime_error("no three");
    return static_cast<int>(index);
  });
  auto reader = open_or_fail(*source, *source->discover_splits());
  CollectingOutput<int> out;
  EXPECT_STATUS(reader->poll(out, 10), StatusCode::kInvalidArgument,
                "record 3 (split partition-3-of-4, position 0): no three");
}

TEST(GeneratorSource, RateLimitGrantsTheRateOverTimeAndBurstsAtMostATenthOfASecond) {
  auto clock = std::make_shared<ManualClock>(1'000'000);
  GeneratorOptions options = bounded(0);
  options.records_per_second = 1000;
  options.clock = clock;
  auto source = samples(options);
  auto reader = open_or_fail(*source, discover(*source));
  CollectingOutput<Sample> out;
  Result<SourcePoll> poll = reader->poll(out, 100'000);
  ASSERT_OK(poll);
  EXPECT_EQ(out.records.size(), 100u);  // the burst: 0.1 s of the rate
  poll = reader->poll(out, 100'000);
  ASSERT_OK(poll);
  EXPECT_EQ(*poll, SourcePoll::kIdle);
  EXPECT_EQ(out.records.size(), 100u);
  clock->advance_millis(10);
  ASSERT_OK(reader->poll(out, 100'000));
  EXPECT_EQ(out.records.size(), 110u);
  // Two simulated seconds in 5 ms steps: 10 more per step, never more.
  for (int step = 0; step < 400; ++step) {
    clock->advance_millis(5);
    const size_t before = out.records.size();
    ASSERT_OK(reader->poll(out, 100'000));
    ASSERT_EQ(out.records.size() - before, 5u) << "step " << step;
  }
  // A long pause refills only the burst, not the whole pause.
  clock->advance_millis(60'000);
  const size_t before = out.records.size();
  ASSERT_OK(reader->poll(out, 100'000));
  EXPECT_EQ(out.records.size() - before, 100u);
  // The records are still 0, 1, 2, ... in order.
  for (uint64_t i = 0; i < out.records.size(); ++i) ASSERT_EQ(out.records[i].index, i);
}

TEST(GeneratorSource, RateIsSharedByReadersInProportionToTheirSplits) {
  auto clock = std::make_shared<ManualClock>(0);
  GeneratorOptions options = bounded(0, 4);
  options.records_per_second = 2000;
  options.clock = clock;
  auto source = samples(options);
  std::vector<std::vector<SourceSplit>> groups = deal(discover(*source), 3);  // 2, 1 and 1 splits
  std::vector<std::unique_ptr<SourceReader<Sample>>> readers;
  for (auto& group : groups) readers.push_back(open_or_fail(*source, group));
  std::vector<CollectingOutput<Sample>> outs(3);
  for (int step = 0; step <= 1000; ++step) {
    for (size_t r = 0; r < 3; ++r) ASSERT_OK(readers[r]->poll(outs[r], 1'000'000));
    clock->advance_millis(1);
  }
  // One simulated second plus the bursts (100, 50 and 50).
  EXPECT_EQ(outs[0].records.size(), 1000u + 100u);
  EXPECT_EQ(outs[1].records.size(), 500u + 50u);
  EXPECT_EQ(outs[2].records.size(), 500u + 50u);
  // Within the first reader, its two splits progressed evenly.
  std::vector<SourceSplit> splits = readers[0]->splits();
  ASSERT_EQ(splits.size(), 2u);
  EXPECT_EQ(splits[0].position, "550");
  EXPECT_EQ(splits[1].position, "550");
}

TEST(ClickEventSource, EventsAreDeterministicWithUsersInRangeAndTimesJitteredBackwards) {
  ClickEventOptions options;
  options.count = 2000;
  options.users = 50;
  options.seed = 3;
  options.start_millis = 1'000'000;
  options.events_per_second = 500;  // 2 ms apart
  options.max_out_of_order_millis = 30;
  auto source = click_event_source(options);
  Result<std::vector<SourceSplit>> splits = source->discover_splits();
  ASSERT_OK(splits);
  CollectingOutput<ClickEvent> out;
  auto reader = open_or_fail(*source, *splits);
  testing::read_to_end(*reader, out, 64);
  ASSERT_EQ(out.records.size(), 2000u);
  std::set<std::string> users;
  bool jittered = false;
  for (size_t i = 0; i < out.records.size(); ++i) {
    const ClickEvent& event = out.records[i];
    GeneratorRandom random(generator_record_seed(3, i));
    EXPECT_EQ(event, make_click_event(options, i, random));
    EXPECT_EQ(out.times[i], event.time_millis);
    const int64_t on_time = 1'000'000 + static_cast<int64_t>(i) * 2;
    EXPECT_LE(event.time_millis, on_time);
    EXPECT_GE(event.time_millis, on_time - 30);
    jittered = jittered || event.time_millis != on_time;
    ASSERT_EQ(event.user.size(), 10u) << event.user;
    EXPECT_EQ(event.user.rfind("user-000", 0), 0u) << event.user;
    EXPECT_LT(std::stoi(event.user.substr(5)), 50);
    EXPECT_EQ(event.page[0], '/');
    users.insert(event.user);
  }
  EXPECT_TRUE(jittered);
  EXPECT_EQ(users.size(), 50u);
  testing::expect_exact_replay<ClickEvent>(*source, {1, 999});
}

TEST(ClickEventSource, RefusesZeroUsers) {
  ClickEventOptions options;
  options.users = 0;
  EXPECT_STATUS(click_event_source(options)->discover_splits(), StatusCode::kInvalidArgument, "users is 0");
}

}  // namespace
}  // namespace streamstate
