// Tests of the stored key layout: exact bytes, decode round trips with binary parts, rejection
// of corrupt keys, prefixes that match exactly one key group or one user key and nothing that
// merely shares leading bytes, and bytewise ordering that keeps each key group contiguous.
#include "streamstate/state_key.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

using namespace std::string_literals;

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

TEST(StateKeyTest, LayoutBytes) {
  EXPECT_EQ(make_state_key(0x0102, "abc", "ns"), "\x01\x02\x03" "abc" "ns"s);
  EXPECT_EQ(make_state_key(0, "k"), "\x00\x00\x01k"s);
  EXPECT_EQ(make_state_key(300, "", ""), "\x01\x2C\x00"s);
  EXPECT_EQ(make_state_key(32767, "u", "\0"s), "\x7F\xFF\x01u\0"s);
  EXPECT_EQ(make_state_key(255, "x"), "\x00\xFF\x01x"s);
  EXPECT_EQ(make_state_key(256, "x"), "\x01\x00\x01x"s);
}

TEST(StateKeyTest, LongUserKeyUsesMultiByteVarintLength) {
  const std::string user_key(200, 'u');
  const std::string key = make_state_key(7, user_key, "n");
  // 200 = 0xC8 -> varint bytes C8 01.
  EXPECT_EQ(key, "\x00\x07\xC8\x01"s + user_key + "n");

  const std::string huge(70000, '\0');
  const std::string huge_key = make_state_key(1, huge);
  EXPECT_EQ(huge_key.substr(0, 5), "\x00\x01\xF0\xA2\x04"s);  // 70000 as a varint
  EXPECT_EQ(huge_key.size(), 5 + huge.size());
}

TEST(StateKeyTest, AppendKeepsExistingBytes) {
  std::string out = "prefix|";
  append_state_key(out, 1, "k", "n");
  EXPECT_EQ(out, "prefix|\x00\x01\x01kn"s);
  append_state_key(out, 2, "q");
  EXPECT_EQ(out, "prefix|\x00\x01\x01kn\x00\x02\x01q"s);
}

TEST(StateKeyTest, DecodeRoundTrip) {
  struct Case {
    uint32_t key_group;
    std::string user_key;
    std::string name_space;
  };
  const std::vector<Case> cases = {
      {0, "user-1", "window-3"},
      {127, "", ""},
      {128, "", "ns-only"},
      {32767, "key-only", ""},
      {255, "\0\0\0"s, "\0"s},
      {256, "a\0b"s, "\xFF\0\xFE"s},
      {1, std::string(1000, '\xFF'), std::string(1000, '\0')},
      {42, "\x01\x02"s, "\x03"s},
  };
  for (const Case& c : cases) {
    const std::string encoded = make_state_key(c.key_group, c.user_key, c.name_space);
    std::string appended = "junk";
    append_state_key(appended, c.key_group, c.user_key, c.name_space);
    EXPECT_EQ(appended.substr(4), encoded);

    Result<StateKeyParts> parts = decode_state_key(encoded);
    ASSERT_OK(parts);
    EXPECT_EQ(parts->key_group, c.key_group);
    EXPECT_EQ(parts->user_key, c.user_key);
    EXPECT_EQ(parts->name_space, c.name_space);
    // The parts are views into the encoded bytes, not copies.
    const char* first = encoded.data();
    const char* last = encoded.data() + encoded.size();
    EXPECT_TRUE(parts->user_key.empty() ||
                (parts->user_key.data() >= first && parts->user_key.data() < last));
    EXPECT_TRUE(parts->name_space.empty() ||
                (parts->name_space.data() >= first && parts->name_space.data() < last));
  }
}

TEST(StateKeyTest, DecodeCorruptInput) {
  // Too short for the key group.
  EXPECT_STATUS(decode_state_key(""), StatusCode::kCorruption, "");
  EXPECT_STATUS(decode_state_key("\x00"s), StatusCode::kCorruption, "");
  // Key group but no length.
  EXPECT_STATUS(decode_state_key("\x00\x01"s), StatusCode::kCorruption, "");
  // Truncated length varint.
  EXPECT_STATUS(decode_state_key("\x00\x01\x80"s), StatusCode::kCorruption, "");
  EXPECT_STATUS(decode_state_key("\x00\x01\xFF\xFF"s), StatusCode::kCorruption, "");
  // Length overruns the remaining bytes.
  EXPECT_STATUS(decode_state_key("\x00\x01\x05" "abcd"s), StatusCode::kCorruption, "");
  EXPECT_STATUS(decode_state_key("\x00\x01\x01"s), StatusCode::kCorruption, "");
  EXPECT_STATUS(decode_state_key("\x00\x01\xFF\xFF\xFF\xFF\x0F" "abc"s), StatusCode::kCorruption, "");
  // An overlong length varint (more than a varint32 can take).
  EXPECT_STATUS(decode_state_key("\x00\x01\x80\x80\x80\x80\x80\x80\x01" "abc"s), StatusCode::kCorruption, "");
}

TEST(StateKeyTest, EveryTruncationOfAKeyWithUserKeyFails) {
  const std::string encoded = make_state_key(9, "user-key", "");
  // Cutting inside the key group, the length or the user key is corrupt; the namespace is
  // the tail and may be cut anywhere, so this key has none.
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    EXPECT_STATUS(decode_state_key(BytesView(encoded).substr(0, cut)), StatusCode::kCorruption, "");
  }
}

TEST(StateKeyTest, KeyGroupPrefix) {
  EXPECT_EQ(key_group_prefix(0), "\x00\x00"s);
  EXPECT_EQ(key_group_prefix(255), "\x00\xFF"s);
  EXPECT_EQ(key_group_prefix(256), "\x01\x00"s);
  EXPECT_EQ(key_group_prefix(32767), "\x7F\xFF"s);

  const std::string in_255 = make_state_key(255, "\x01\x00"s, "x");
  const std::string in_256 = make_state_key(256, "\xFF"s, "");
  EXPECT_TRUE(starts_with(in_255, key_group_prefix(255)));
  EXPECT_FALSE(starts_with(in_255, key_group_prefix(256)));
  EXPECT_TRUE(starts_with(in_256, key_group_prefix(256)));
  EXPECT_FALSE(starts_with(in_256, key_group_prefix(255)));
  EXPECT_FALSE(starts_with(in_256, key_group_prefix(1)));
}

TEST(StateKeyTest, UserKeyPrefixIsExact) {
  const std::string prefix = user_key_prefix(5, "ab");
  EXPECT_EQ(prefix, "\x00\x05\x02" "ab"s);
  EXPECT_EQ(prefix, make_state_key(5, "ab"));

  // Every namespace of the user key matches...
  EXPECT_TRUE(starts_with(make_state_key(5, "ab"), prefix));
  EXPECT_TRUE(starts_with(make_state_key(5, "ab", "c"), prefix));
  EXPECT_TRUE(starts_with(make_state_key(5, "ab", "\0"s), prefix));
  // ...and no other user key, even one that starts with the same bytes.
  EXPECT_FALSE(starts_with(make_state_key(5, "abc"), prefix));
  EXPECT_FALSE(starts_with(make_state_key(5, "abc", "x"), prefix));
  EXPECT_FALSE(starts_with(make_state_key(5, "ab\0"s), prefix));
  EXPECT_FALSE(starts_with(make_state_key(5, "a", "b"), prefix));
  EXPECT_FALSE(starts_with(make_state_key(6, "ab"), prefix));
  EXPECT_FALSE(starts_with(make_state_key(5, ""), prefix));

  // The empty user key has a prefix of its own, distinct from the key group prefix.
  const std::string empty_prefix = user_key_prefix(5, "");
  EXPECT_EQ(empty_prefix, "\x00\x05\x00"s);
  EXPECT_TRUE(starts_with(make_state_key(5, "", "ns"), empty_prefix));
  EXPECT_FALSE(starts_with(make_state_key(5, "ab"), empty_prefix));
}

TEST(StateKeyTest, KeyGroupsSortContiguously) {
  // Keys chosen to stress the boundaries: empty and 0xFF-heavy user keys, long keys, and the
  // key groups around the byte boundary 255/256.
  const std::vector<std::string> user_keys = {"",    "\0"s, "a", "ab", "abc", std::string(300, '\xFF'),
                                              "\xFF"s, "z", std::string(200, 'm')};
  const std::vector<std::string> name_spaces = {"", "\0"s, "\xFF\xFF"s, "w1"};
  const std::vector<uint32_t> groups = {0, 1, 2, 127, 128, 254, 255, 256, 257, 511, 512, 32766, 32767};

  std::vector<std::pair<std::string, uint32_t>> keys;
  for (uint32_t group : groups) {
    for (const std::string& user_key : user_keys) {
      for (const std::string& name_space : name_spaces) {
        keys.emplace_back(make_state_key(group, user_key, name_space), group);
      }
    }
  }
  std::sort(keys.begin(), keys.end());  // std::string compares bytes as unsigned
  for (size_t i = 1; i < keys.size(); ++i) {
    ASSERT_LE(keys[i - 1].second, keys[i].second)
        << "a key of group " << keys[i - 1].second << " sorts after one of group " << keys[i].second;
  }
}

TEST(StateKeyTest, UserKeysStayContiguousWithinAKeyGroup) {
  // All namespaces of one user key form one contiguous run, so a prefix scan is one range.
  const std::vector<std::string> user_keys = {"", "a", "ab", "abc", "b", "\0"s, "\xFF"s};
  const std::vector<std::string> name_spaces = {"", "\0"s, "a", "zz", "\xFF\xFF"s};
  std::vector<std::pair<std::string, std::string>> keys;
  for (const std::string& user_key : user_keys) {
    for (const std::string& name_space : name_spaces) {
      keys.emplace_back(make_state_key(3, user_key, name_space), user_key);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> runs;
  for (const auto& [key, user_key] : keys) {
    if (runs.empty() || runs.back() != user_key) runs.push_back(user_key);
  }
  EXPECT_EQ(runs.size(), user_keys.size());
}

}  // namespace
}  // namespace streamstate
