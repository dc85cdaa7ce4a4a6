// Conformance: prefix scans (exact at key-group and user-key boundaries), early stop, order,
// and scans racing with writers.
#include <algorithm>
#include <random>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "conformance/backend_conformance.h"
#include "streamstate/state_key.h"

namespace streamstate::testing {
namespace {

struct StateKeyCase {
  uint32_t key_group;
  std::string user_key;
  std::string name_space;
};

// Key groups on both sides of the byte boundaries of the big-endian key-group prefix (255/256,
// 0/1, the largest), and user keys that are prefixes of each other.
std::vector<StateKeyCase> boundary_keys() {
  std::vector<StateKeyCase> cases;
  for (uint32_t group : {0u, 1u, 255u, 256u, 257u, 511u, 512u, 32767u}) {
    for (const char* user_key : {"", "a", "ab", "abc", "b"}) {
      for (const char* name_space : {"", "ns", "\xff"}) cases.push_back({group, user_key, name_space});
    }
  }
  // A user key with a zero byte and one whose length needs a two-byte varint.
  cases.push_back({256, std::string("a\0", 2), ""});
  cases.push_back({256, std::string(130, 'a'), "ns"});
  return cases;
}

std::string value_of(const StateKeyCase& c) {
  return std::to_string(c.key_group) + "|" + c.user_key + "|" + c.name_space;
}

// The entries an exact prefix scan must return, computed from the key parts.
template <typename Predicate>
Entries expected_entries(const std::vector<StateKeyCase>& cases, Predicate matches) {
  Entries expected;
  for (const StateKeyCase& c : cases) {
    if (matches(c)) expected.emplace_back(make_state_key(c.key_group, c.user_key, c.name_space), value_of(c));
  }
  return sorted(std::move(expected));
}

TEST_P(BackendConformanceTest, ScanByKeyGroupAndUserKeyPrefixIsExact) {
  auto column = open_column("keyed");
  ASSERT_NE(column, nullptr);
  const std::vector<StateKeyCase> cases = boundary_keys();
  for (const StateKeyCase& c : cases) {
    ASSERT_OK(column->put(make_state_key(c.key_group, c.user_key, c.name_space), value_of(c)));
  }
  EXPECT_EQ(sorted(scan_entries(*column)), expected_entries(cases, [](const StateKeyCase&) { return true; }));

  for (uint32_t group : {0u, 1u, 255u, 256u, 257u, 32767u, 2u, 258u}) {
    SCOPED_TRACE("key group " + std::to_string(group));
    EXPECT_EQ(sorted(scan_entries(*column, key_group_prefix(group))),
              expected_entries(cases, [&](const StateKeyCase& c) { return c.key_group == group; }));
    for (const std::string user_key : {"", "a", "ab", "abc", "abcd"}) {
      SCOPED_TRACE("user key " + user_key);
      EXPECT_EQ(sorted(scan_entries(*column, user_key_prefix(group, user_key))),
                expected_entries(cases, [&](const StateKeyCase& c) {
                  return c.key_group == group && c.user_key == user_key;
                }));
    }
  }
  // A one-byte prefix spans whole ranges of key groups: 0x00 is groups 0..255, 0x01 is 256..511.
  EXPECT_EQ(sorted(scan_entries(*column, std::string("\0", 1))),
            expected_entries(cases, [](const StateKeyCase& c) { return c.key_group < 256; }));
  EXPECT_EQ(sorted(scan_entries(*column, "\x01")), expected_entries(cases, [](const StateKeyCase& c) {
              return c.key_group >= 256 && c.key_group < 512;
            }));
}

// Prefixes ending in 0xff have no "next prefix" of the same length: a backend that computes the
// scan's upper bound by incrementing the last byte gets these wrong.
TEST_P(BackendConformanceTest, ScanPrefixesEndingInFfBytes) {
  auto column = open_column("ff");
  ASSERT_NE(column, nullptr);
  const std::vector<std::string> keys = {"\xfe",
                                         "\xfe\xff",
                                         "\xff",
                                         std::string("\xff\0", 2),
                                         "\xff\xfe",
                                         "\xff\xff",
                                         "\xff\xff\xff",
                                         std::string("\xff\xff\0", 3),
                                         "\x7f",
                                         "\x80",
                                         std::string("\0\xff", 2)};
  for (const std::string& key : keys) ASSERT_OK(column->put(key, "v" + key));
  auto expect_prefix = [&](const std::string& prefix) {
    SCOPED_TRACE("prefix " + printable(prefix));
    Entries expected;
    for (const std::string& key : keys) {
      if (key.compare(0, prefix.size(), prefix) == 0) expected.emplace_back(key, "v" + key);
    }
    EXPECT_EQ(sorted(scan_entries(*column, prefix)), sorted(expected));
  };
  for (const std::string prefix : {"\xff", "\xff\xff", "\xff\xff\xff", "\xfe", "\x7f", "\x80"})
    expect_prefix(prefix);
  expect_prefix(std::string("\0", 1));
  expect_prefix(std::string("\0\xff", 2));
  expect_prefix("no-such-prefix");
}

TEST_P(BackendConformanceTest, ScanStopsWhenTheVisitorReturnsFalse) {
  auto column = open_column("stop");
  ASSERT_NE(column, nullptr);
  for (int i = 0; i < 600; ++i) ASSERT_OK(column->put("k" + std::to_string(1000 + i), "v"));
  for (size_t limit : {size_t{1}, size_t{10}, size_t{300}, size_t{599}}) {
    size_t visited = 0;
    ASSERT_OK(column->scan("k", [&](BytesView, BytesView) { return ++visited < limit; }));
    EXPECT_EQ(visited, limit) << "the visitor returned false at entry " << limit;
  }
  size_t visited = 0;
  ASSERT_OK(column->scan("k", [&](BytesView, BytesView) { return ++visited < 10000; }));
  EXPECT_EQ(visited, 600u);
}

TEST_P(BackendConformanceTest, OrderedScanVisitsKeysInBytewiseOrder) {
  if (!capabilities().ordered_scan) GTEST_SKIP() << GetParam().name << " does not claim ordered_scan";
  auto column = open_column("ordered");
  ASSERT_NE(column, nullptr);
  // Bytes >= 0x80 must sort after ASCII (unsigned comparison), and a key after its prefixes.
  std::vector<std::string> keys = {"b", "a", "ab", "abc", "\x80", "\x7f", "\xff", std::string("a\0", 2),
                                   "A", "0"};
  for (int i = 0; i < 700; ++i)
    keys.push_back(make_state_key(static_cast<uint32_t>(i * 47 % 600), "u" + std::to_string(i)));
  std::shuffle(keys.begin(), keys.end(), std::mt19937(7));
  for (const std::string& key : keys) ASSERT_OK(column->put(key, "v"));
  std::sort(keys.begin(), keys.end());  // std::string compares bytes as unsigned char

  EXPECT_EQ(keys_of(scan_entries(*column)), keys);
  std::vector<std::string> a_keys;
  std::copy_if(keys.begin(), keys.end(), std::back_inserter(a_keys),
               [](const std::string& k) { return k[0] == 'a'; });
  EXPECT_EQ(keys_of(scan_entries(*column, "a")), a_keys);
  std::vector<std::string> group_zero;
  std::copy_if(keys.begin(), keys.end(), std::back_inserter(group_zero), [](const std::string& k) {
    return k.size() > 2 && k.compare(0, 2, key_group_prefix(0)) == 0;
  });
  EXPECT_EQ(keys_of(scan_entries(*column, key_group_prefix(0))), group_zero);
}

TEST_P(BackendConformanceTest, ScanOfAnEmptyColumnVisitsNothing) {
  auto column = open_column("nothing");
  ASSERT_NE(column, nullptr);
  EXPECT_TRUE(scan_entries(*column).empty());
  EXPECT_TRUE(scan_entries(*column, "x").empty());
  auto other = open_column("something");
  ASSERT_NE(other, nullptr);
  ASSERT_OK(other->put("x", "v"));
  EXPECT_TRUE(scan_entries(*column, "x").empty()) << "a scan saw another column's entry";
}

// The visitor runs without backend locks held, so it may call back into the backend.
TEST_P(BackendConformanceTest, ScanVisitorMayCallTheBackend) {
  auto source = open_column("source");
  auto target = open_column("target");
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  for (int i = 0; i < 300; ++i) ASSERT_OK(source->put("k" + std::to_string(i), std::to_string(i)));
  const Status scanned = source->scan("", [&](BytesView key, BytesView value) {
    EXPECT_OK(target->put(key, value));
    Result<std::optional<std::string>> read = source->get(key);
    EXPECT_TRUE(read.is_ok() && read->has_value() && **read == value);
    return true;
  });
  ASSERT_OK(scanned);
  EXPECT_EQ(sorted(scan_entries(*target)), sorted(scan_entries(*source)));
}

// A scan is not a snapshot, but it never visits an entry twice, and entries that exist for the
// whole scan are visited.
TEST_P(BackendConformanceTest, ScanRacingWithWritersVisitsEachEntryAtMostOnce) {
  if (!capabilities().thread_safe) GTEST_SKIP() << GetParam().name << " does not claim thread_safe";
  auto column = open_column("racing");
  ASSERT_NE(column, nullptr);
  constexpr int kStable = 2000;
  for (int i = 0; i < kStable; ++i) ASSERT_OK(column->put("stable-" + std::to_string(i), "v"));
  // A jthread is stopped and joined even when an assertion below returns early.
  std::jthread writer([&](std::stop_token stop) {
    // New keys make hash tables grow and rehash; overwrites touch the stable keys.
    for (int i = 0; !stop.stop_requested() && i < 20000; ++i) {
      EXPECT_OK(column->put("new-" + std::to_string(i), "v"));
      EXPECT_OK(column->put("stable-" + std::to_string(i % kStable), "w"));
    }
  });
  for (int round = 0; round < 3; ++round) {
    std::multiset<std::string> seen;
    ASSERT_OK(column->scan("", [&](BytesView key, BytesView) {
      seen.emplace(key);
      return true;
    }));
    for (const std::string& key : seen) {
      ASSERT_EQ(seen.count(key), 1u) << "visited twice: " << key;
    }
    for (int i = 0; i < kStable; ++i) {
      ASSERT_EQ(seen.count("stable-" + std::to_string(i)), 1u) << "never visited: stable-" << i;
    }
  }
}

}  // namespace
}  // namespace streamstate::testing
