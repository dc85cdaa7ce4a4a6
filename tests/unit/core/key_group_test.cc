// Tests of key groups: option validation, the stable key -> key group mapping (pinned literals
// and an independent XXH3 computation), its spread, and the key group -> operator assignment
// for every parallelism of several max parallelisms (contiguous, disjoint, covering, balanced).
#include "streamstate/key_group.h"

#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using namespace std::string_literals;

uint64_t reference_hash(BytesView key) { return XXH3_64bits(key.data(), key.size()); }

// True when `message` mentions `option` as a word of its own, e.g. "parallelism" but not only
// as the tail of "max_parallelism".
bool mentions_option(const std::string& message, const std::string& option) {
  for (size_t pos = message.find(option); pos != std::string::npos; pos = message.find(option, pos + 1)) {
    const bool after_max = pos >= 4 && message.compare(pos - 4, 4, "max_") == 0;
    if (!after_max) return true;
  }
  return false;
}

TEST(KeyGroupValidationTest, MaxParallelismBounds) {
  EXPECT_OK(validate_max_parallelism(1));
  EXPECT_OK(validate_max_parallelism(kDefaultMaxParallelism));
  EXPECT_OK(validate_max_parallelism(128));
  EXPECT_OK(validate_max_parallelism(1000));
  EXPECT_OK(validate_max_parallelism(32768));
  EXPECT_EQ(kDefaultMaxParallelism, 128u);
  EXPECT_EQ(kUpperBoundMaxParallelism, 32768u);

  for (uint32_t bad : {0u, 32769u, 65536u, 0xFFFFFFFFu}) {
    const Status status = validate_max_parallelism(bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("max_parallelism"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("32768"), std::string::npos) << status.message();
  }
}

TEST(KeyGroupValidationTest, ParallelismBounds) {
  EXPECT_OK(validate_parallelism(1, 1));
  EXPECT_OK(validate_parallelism(128, 1));
  EXPECT_OK(validate_parallelism(128, 128));
  EXPECT_OK(validate_parallelism(32768, 32768));

  for (uint32_t bad : {0u, 129u, 1000u}) {
    const Status status = validate_parallelism(128, bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(mentions_option(status.message(), "parallelism")) << status.message();
  }
  // The message for a too-large parallelism names both numbers.
  const Status too_many = validate_parallelism(128, 129);
  EXPECT_NE(too_many.message().find("129"), std::string::npos) << too_many.message();
  EXPECT_NE(too_many.message().find("128"), std::string::npos) << too_many.message();

  // A bad max parallelism is reported as such even when parallelism looks fine.
  EXPECT_STATUS(validate_parallelism(0, 1), StatusCode::kInvalidArgument, "max_parallelism");
  EXPECT_STATUS(validate_parallelism(32769, 4), StatusCode::kInvalidArgument, "max_parallelism");
}

TEST(KeyGroupHashTest, HashKeyIsXxh3Seed0) {
  EXPECT_EQ(hash_key(""), 0x2D06800538D394C2ULL);
  EXPECT_EQ(hash_key("a"), 0xE6C632B61E964E1FULL);
  EXPECT_EQ(hash_key("user-1"), 0x7C7615C11438E5C9ULL);
  EXPECT_EQ(hash_key("key-42"), 0x98B6221EF4CC9EBAULL);
  for (int i = 0; i < 1000; ++i) {
    const std::string key =
        "k" + std::to_string(i) + "\0\xFF"s + std::string(static_cast<size_t>(i % 300), 'x');
    ASSERT_EQ(hash_key(key), reference_hash(key)) << i;
  }
}

TEST(KeyGroupForKeyTest, PinnedValuesForDefaultMaxParallelism) {
  // Computed once from XXH3-64 (seed 0) mod 128; a change of hasher or reduction fails here.
  EXPECT_EQ(key_group_for_key("a", 128), 31u);
  EXPECT_EQ(key_group_for_key("abc", 128), 80u);
  EXPECT_EQ(key_group_for_key("streamstate", 128), 106u);
  EXPECT_EQ(key_group_for_key("user-1", 128), 73u);
  EXPECT_EQ(key_group_for_key("user-2", 128), 84u);
  EXPECT_EQ(key_group_for_key("user-3", 128), 85u);
  EXPECT_EQ(key_group_for_key("key-42", 128), 58u);
  EXPECT_EQ(key_group_for_key("hello world", 128), 11u);
  EXPECT_EQ(key_group_for_key("", 128), 66u);
}

TEST(KeyGroupForKeyTest, PinnedValuesForOtherMaxParallelisms) {
  EXPECT_EQ(key_group_for_key("a", 1000), 719u);
  EXPECT_EQ(key_group_for_key("abc", 1000), 104u);
  EXPECT_EQ(key_group_for_key("a", 32768), 19999u);
  EXPECT_EQ(key_group_for_key("user-3", 32768), 29269u);
  EXPECT_EQ(key_group_for_key("a", 7), 1u);
  EXPECT_EQ(key_group_for_key("user-3", 7), 5u);
  EXPECT_EQ(key_group_for_key("anything", 1), 0u);
}

TEST(KeyGroupForKeyTest, MatchesDefinitionAndStaysInRange) {
  for (uint32_t max_parallelism : {1u, 2u, 7u, 128u, 1000u, 32768u}) {
    for (int i = 0; i < 2000; ++i) {
      const std::string key = "user:" + std::to_string(i) + (i % 3 == 0 ? "\0tail"s : ""s);
      const uint32_t group = key_group_for_key(key, max_parallelism);
      ASSERT_LT(group, max_parallelism) << key;
      ASSERT_EQ(group, reference_hash(key) % max_parallelism) << "max " << max_parallelism << " key " << i;
      ASSERT_EQ(key_group_for_key(key, max_parallelism), group);  // deterministic
    }
  }
}

TEST(KeyGroupForKeyTest, RoughlyUniform) {
  for (uint32_t max_parallelism : {128u, 1000u}) {
    std::vector<int> counts(max_parallelism, 0);
    constexpr int kKeys = 100000;
    for (int i = 0; i < kKeys; ++i) ++counts[key_group_for_key("key-" + std::to_string(i), max_parallelism)];
    const double expected = static_cast<double>(kKeys) / max_parallelism;
    const auto [min_it, max_it] = std::minmax_element(counts.begin(), counts.end());
    // Loose bounds: more than 5 standard deviations from the mean for both sizes.
    EXPECT_GT(*min_it, expected * 0.5) << "max " << max_parallelism;
    EXPECT_LT(*max_it, expected * 1.5) << "max " << max_parallelism;
  }
}

// Checks every range of every parallelism 1..max against the documented formula and the
// properties rescaling relies on.
void check_assignment(uint32_t max_parallelism, uint32_t parallelism) {
  SCOPED_TRACE("max " + std::to_string(max_parallelism) + " parallelism " + std::to_string(parallelism));
  uint32_t expected_begin = 0;
  uint32_t smallest = max_parallelism;
  uint32_t largest = 0;
  for (uint32_t index = 0; index < parallelism; ++index) {
    const KeyGroupRange range = KeyGroupRange::for_operator(max_parallelism, parallelism, index);
    const uint64_t m = max_parallelism;
    const uint64_t p = parallelism;
    const auto formula_begin = static_cast<uint32_t>((index * m + p - 1) / p);
    const auto formula_end = static_cast<uint32_t>(((index + 1) * m + p - 1) / p);
    ASSERT_EQ(range.begin(), expected_begin) << "index " << index;  // contiguous and disjoint
    ASSERT_EQ(range.begin(), formula_begin) << "index " << index;
    ASSERT_EQ(range.end(), formula_end) << "index " << index;
    ASSERT_FALSE(range.empty()) << "index " << index;
    smallest = std::min(smallest, range.size());
    largest = std::max(largest, range.size());
    for (uint32_t group = range.begin(); group < range.end(); ++group) {
      ASSERT_EQ(operator_index_for_key_group(max_parallelism, parallelism, group), index)
          << "group " << group;
    }
    expected_begin = range.end();
  }
  ASSERT_EQ(expected_begin, max_parallelism);  // covers [0, max)
  ASSERT_LE(largest - smallest, 1u);
}

TEST(KeyGroupRangeTest, ForOperatorEveryParallelism) {
  for (uint32_t max_parallelism : {1u, 7u, 128u, 1000u}) {
    for (uint32_t parallelism = 1; parallelism <= max_parallelism; ++parallelism) {
      check_assignment(max_parallelism, parallelism);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(KeyGroupRangeTest, ForOperatorAtUpperBound) {
  for (uint32_t parallelism : {1u, 2u, 3u, 1000u, 32767u, 32768u}) {
    check_assignment(32768, parallelism);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(KeyGroupRangeTest, ForOperatorPinnedRanges) {
  EXPECT_EQ(KeyGroupRange::for_operator(128, 3, 0), KeyGroupRange(0, 43));
  EXPECT_EQ(KeyGroupRange::for_operator(128, 3, 1), KeyGroupRange(43, 86));
  EXPECT_EQ(KeyGroupRange::for_operator(128, 3, 2), KeyGroupRange(86, 128));
  EXPECT_EQ(KeyGroupRange::for_operator(10, 4, 0), KeyGroupRange(0, 3));
  EXPECT_EQ(KeyGroupRange::for_operator(10, 4, 1), KeyGroupRange(3, 5));
  EXPECT_EQ(KeyGroupRange::for_operator(10, 4, 2), KeyGroupRange(5, 8));
  EXPECT_EQ(KeyGroupRange::for_operator(10, 4, 3), KeyGroupRange(8, 10));
  EXPECT_EQ(KeyGroupRange::for_operator(128, 1, 0), KeyGroupRange::all(128));
  EXPECT_EQ(KeyGroupRange::for_operator(128, 128, 5), KeyGroupRange(5, 6));

  EXPECT_EQ(operator_index_for_key_group(128, 3, 0), 0u);
  EXPECT_EQ(operator_index_for_key_group(128, 3, 42), 0u);
  EXPECT_EQ(operator_index_for_key_group(128, 3, 43), 1u);
  EXPECT_EQ(operator_index_for_key_group(128, 3, 85), 1u);
  EXPECT_EQ(operator_index_for_key_group(128, 3, 86), 2u);
  EXPECT_EQ(operator_index_for_key_group(128, 3, 127), 2u);
}

TEST(KeyGroupRangeTest, BasicsAndClamping) {
  const KeyGroupRange empty_default;
  EXPECT_TRUE(empty_default.empty());
  EXPECT_EQ(empty_default.begin(), 0u);
  EXPECT_EQ(empty_default.end(), 0u);
  EXPECT_EQ(empty_default.size(), 0u);

  const KeyGroupRange range(3, 7);
  EXPECT_EQ(range.size(), 4u);
  EXPECT_FALSE(range.empty());
  EXPECT_FALSE(range.contains(2));
  EXPECT_TRUE(range.contains(3));
  EXPECT_TRUE(range.contains(6));
  EXPECT_FALSE(range.contains(7));

  // An end before the begin yields an empty range rather than a huge one.
  const KeyGroupRange reversed(9, 4);
  EXPECT_TRUE(reversed.empty());
  EXPECT_EQ(reversed.size(), 0u);
  EXPECT_FALSE(reversed.contains(5));
  EXPECT_FALSE(reversed.contains(9));

  EXPECT_EQ(KeyGroupRange::all(128), KeyGroupRange(0, 128));
  EXPECT_TRUE(KeyGroupRange::all(128).contains(127));
  EXPECT_FALSE(KeyGroupRange::all(128).contains(128));
  EXPECT_FALSE(KeyGroupRange(1, 2) == KeyGroupRange(1, 3));
}

TEST(KeyGroupRangeTest, Intersect) {
  const KeyGroupRange a(3, 7);
  EXPECT_EQ(a.intersect(KeyGroupRange(5, 10)), KeyGroupRange(5, 7));
  EXPECT_EQ(KeyGroupRange(5, 10).intersect(a), KeyGroupRange(5, 7));
  EXPECT_EQ(a.intersect(KeyGroupRange(0, 100)), a);
  EXPECT_EQ(a.intersect(KeyGroupRange(4, 5)), KeyGroupRange(4, 5));
  EXPECT_EQ(a.intersect(a), a);
  EXPECT_EQ(a.intersect(KeyGroupRange(0, 4)), KeyGroupRange(3, 4));

  // Touching and disjoint ranges share nothing.
  EXPECT_TRUE(a.intersect(KeyGroupRange(7, 9)).empty());
  EXPECT_TRUE(a.intersect(KeyGroupRange(0, 3)).empty());
  EXPECT_TRUE(a.intersect(KeyGroupRange(20, 30)).empty());
  EXPECT_TRUE(KeyGroupRange(20, 30).intersect(a).empty());
  EXPECT_TRUE(a.intersect(KeyGroupRange()).empty());

  // Whatever an empty intersection holds, it contains no key group of either range.
  const KeyGroupRange none = a.intersect(KeyGroupRange(20, 30));
  for (uint32_t group = 0; group < 40; ++group) EXPECT_FALSE(none.contains(group)) << group;
}

TEST(KeyGroupRangeTest, ToString) {
  EXPECT_EQ(KeyGroupRange(3, 7).to_string(), "[3, 7)");
  EXPECT_EQ(KeyGroupRange().to_string(), "[0, 0)");
  EXPECT_EQ(KeyGroupRange::all(32768).to_string(), "[0, 32768)");
}

}  // namespace
}  // namespace streamstate
