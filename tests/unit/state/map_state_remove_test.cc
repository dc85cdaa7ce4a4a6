// MapState::remove on every backend: removing an absent key, what get / contains / is_empty and
// iteration show after a removal, removal scoped to the current key and namespace (including
// keys and namespaces that are byte prefixes of each other), and removal under a TTL.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "unit/state/state_test_backends.h"

namespace streamstate::testing {
namespace {

using Cart = MapState<std::string, int64_t>;
using CartEntries = std::vector<std::pair<std::string, int64_t>>;

class MapStateRemoveTest : public StateBackendTest {
 protected:
  Cart open_cart(StateTtlConfig ttl = {}) {
    auto cart = store_->map_state(MapStateDescriptor<std::string, int64_t>{.name = "cart", .ttl = ttl});
    EXPECT_OK(cart);
    return cart.is_ok() ? std::move(cart).value() : Cart();
  }

  // The entries of the current key and namespace, sorted, as entries() returns them.
  static CartEntries sorted_entries(Cart& cart) {
    auto entries = cart.entries();
    EXPECT_OK(entries);
    CartEntries result = entries.is_ok() ? *entries : CartEntries();
    std::sort(result.begin(), result.end());
    return result;
  }

  // The same through for_each, keys() and values(), which must agree with entries().
  static void expect_iteration(Cart& cart, const CartEntries& expected) {
    EXPECT_EQ(sorted_entries(cart), expected);
    CartEntries visited;
    EXPECT_OK(cart.for_each([&visited](const std::string& key, int64_t value) { visited.emplace_back(key, value); }));
    std::sort(visited.begin(), visited.end());
    EXPECT_EQ(visited, expected);
    std::vector<std::string> expected_keys;
    std::vector<int64_t> expected_values;
    for (const auto& [key, value] : expected) {
      expected_keys.push_back(key);
      expected_values.push_back(value);
    }
    std::sort(expected_values.begin(), expected_values.end());
    auto keys = cart.keys();
    ASSERT_OK(keys);
    std::sort(keys->begin(), keys->end());
    EXPECT_EQ(*keys, expected_keys);
    auto values = cart.values();
    ASSERT_OK(values);
    std::sort(values->begin(), values->end());
    EXPECT_EQ(*values, expected_values);
    auto empty = cart.is_empty();
    ASSERT_OK(empty);
    EXPECT_EQ(*empty, expected.empty());
  }

  void at(int64_t offset) { clock_->set_millis(kStartMillis + offset); }
};

TEST_P(MapStateRemoveTest, RemovingAnAbsentKeyIsOkAndChangesNothing) {
  Cart cart = open_cart();
  ASSERT_OK(store_->set_current_key("user"));
  // On a map that was never written.
  ASSERT_OK(cart.remove("apple"));
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {}));
  EXPECT_EQ(raw_entry_count("cart"), 0u);

  ASSERT_OK(cart.put("apple", 2));
  ASSERT_OK(cart.put("pear", 1));
  // A key never put, the empty key, a key that extends a stored one, a stored key's prefix.
  ASSERT_OK(cart.remove("kiwi"));
  ASSERT_OK(cart.remove(""));
  ASSERT_OK(cart.remove("apples"));
  ASSERT_OK(cart.remove("app"));
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {{"apple", 2}, {"pear", 1}}));
  // Removing the same key twice: the second removal finds it absent and is fine too.
  ASSERT_OK(cart.remove("pear"));
  ASSERT_OK(cart.remove("pear"));
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {{"apple", 2}}));
  EXPECT_EQ(raw_entry_count("cart"), 1u);
}

TEST_P(MapStateRemoveTest, ARemovedEntryIsGoneFromEveryRead) {
  Cart cart = open_cart();
  ASSERT_OK(store_->set_current_key("user"));
  ASSERT_OK(cart.put_all(std::map<std::string, int64_t>{{"apple", 2}, {"pear", 1}, {"plum", 5}}));

  ASSERT_OK(cart.remove("pear"));
  EXPECT_EQ(cart.get("pear").value(), std::optional<int64_t>());
  EXPECT_FALSE(cart.contains("pear").value());
  EXPECT_EQ(cart.get("apple").value(), std::optional<int64_t>(2));
  EXPECT_TRUE(cart.contains("plum").value());
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {{"apple", 2}, {"plum", 5}}));

  // Removing the last entries leaves an empty map, and no stored entry behind.
  ASSERT_OK(cart.remove("apple"));
  ASSERT_OK(cart.remove("plum"));
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {}));
  EXPECT_FALSE(cart.contains("apple").value());
  EXPECT_EQ(raw_entry_count("cart"), 0u);

  // A removed key can be put again, with its new value.
  ASSERT_OK(cart.put("pear", 7));
  EXPECT_EQ(cart.get("pear").value(), std::optional<int64_t>(7));
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {{"pear", 7}}));
}

TEST_P(MapStateRemoveTest, RemovalIsScopedToTheCurrentKeyAndNamespace) {
  Cart cart = open_cart();
  // The same map key under two user keys and three namespaces; "user" is a byte prefix of
  // "user2" and "w1" of "w10", so a removal or an emptiness check that matched by prefix only
  // would reach into the others.
  const std::vector<std::pair<std::string, std::string>> scopes = {
      {"user", "w1"}, {"user", "w10"}, {"user", "w2"}, {"user2", "w1"}};
  for (const auto& [key, name_space] : scopes) {
    ASSERT_OK(store_->set_current_key(key));
    ASSERT_OK(store_->set_current_namespace(name_space));
    ASSERT_OK(cart.put("apple", 1));
    ASSERT_OK(cart.put(key + "/" + name_space, 2));
  }

  ASSERT_OK(store_->set_current_key("user"));
  ASSERT_OK(store_->set_current_namespace("w1"));
  ASSERT_OK(cart.remove("apple"));
  ASSERT_OK(cart.remove("user/w1"));
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {}));
  // Keys that exist only in other scopes are absent here, and removing them here is a no-op.
  ASSERT_OK(cart.remove("user/w10"));
  ASSERT_OK(cart.remove("user2/w1"));

  for (const auto& [key, name_space] : scopes) {
    if (key == "user" && name_space == "w1") continue;
    SCOPED_TRACE("key " + key + ", namespace " + name_space);
    ASSERT_OK(store_->set_current_key(key));
    ASSERT_OK(store_->set_current_namespace(name_space));
    EXPECT_TRUE(cart.contains("apple").value());
    ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {{"apple", 1}, {key + "/" + name_space, 2}}));
  }
  EXPECT_EQ(raw_entry_count("cart"), 6u);
}

StateTtlConfig ttl_of(int64_t millis, TtlVisibility visibility = TtlVisibility::kNeverReturnExpired) {
  StateTtlConfig ttl;
  ttl.ttl = std::chrono::milliseconds(millis);
  ttl.visibility = visibility;
  return ttl;
}

TEST_P(MapStateRemoveTest, UnderTtlARemovedEntryStaysGoneAndOthersKeepTheirExpiry) {
  constexpr int64_t kTtl = 100;
  Cart cart = open_cart(ttl_of(kTtl));
  ASSERT_OK(store_->set_current_key("user"));
  ASSERT_OK(cart.put("apple", 1));  // expires at 100
  at(50);
  ASSERT_OK(cart.put("pear", 2));  // expires at 150
  at(60);
  ASSERT_OK(cart.remove("apple"));
  EXPECT_EQ(raw_entry_count("cart"), 1u) << "under a TTL, a removal must delete the entry, not expire it";
  // The removal neither revives nor extends anything: "pear" keeps its own expiry.
  at(99);
  EXPECT_EQ(cart.get("apple").value(), std::optional<int64_t>());
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {{"pear", 2}}));
  at(149);
  EXPECT_TRUE(cart.contains("pear").value());
  at(150);
  ASSERT_NO_FATAL_FAILURE(expect_iteration(cart, {}));

  // Put again after a removal, an entry gets a fresh TTL from the new write.
  at(200);
  ASSERT_OK(cart.put("apple", 3));
  ASSERT_OK(cart.remove("apple"));
  ASSERT_OK(cart.put("apple", 4));
  at(200 + kTtl - 1);
  EXPECT_EQ(cart.get("apple").value(), std::optional<int64_t>(4));
  at(200 + kTtl);
  EXPECT_EQ(cart.get("apple").value(), std::optional<int64_t>());
}

TEST_P(MapStateRemoveTest, UnderTtlRemovingAnExpiredEntryHidesItEvenWhereExpiredValuesShow) {
  constexpr int64_t kTtl = 100;
  // With kReturnExpiredIfNotCleanedUp an expired entry still shows until it is cleaned up; a
  // removal must make it absent all the same.
  Cart cart = open_cart(ttl_of(kTtl, TtlVisibility::kReturnExpiredIfNotCleanedUp));
  ASSERT_OK(store_->set_current_key("user"));
  ASSERT_OK(cart.put("apple", 1));
  ASSERT_OK(cart.put("pear", 2));
  at(kTtl + 10);
  ASSERT_OK(cart.remove("apple"));
  EXPECT_EQ(cart.get("apple").value(), std::optional<int64_t>());
  EXPECT_FALSE(cart.contains("apple").value());
  auto keys = cart.keys();
  ASSERT_OK(keys);
  EXPECT_EQ(std::count(keys->begin(), keys->end(), "apple"), 0) << "a removed expired entry is still iterated";
  // Removing an absent key under a TTL is fine as well.
  ASSERT_OK(cart.remove("kiwi"));
  ASSERT_OK(cart.remove("apple"));
}

INSTANTIATE_TEST_SUITE_P(backends, MapStateRemoveTest, StateBackendTest::all_backends(),
                         StateBackendTest::param_name);

}  // namespace
}  // namespace streamstate::testing
