// Helpers shared by the checkpoint tests: backends filled with state keys over every key group
// (plain columns, an expiring column, and the "_ss.states" records a KeyedStateStore writes),
// and whole-backend comparison.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/expiring_value.h"
#include "state/state_record.h"
#include "streamstate/backend.h"
#include "streamstate/key_group.h"
#include "streamstate/memory.h"
#include "streamstate/state_key.h"
#include "testutil/status_matchers.h"

namespace streamstate::testing {

using Contents = std::map<std::string, std::map<std::string, std::string>>;  // column -> key -> value

inline constexpr int64_t kNow = 1'000'000;

inline std::unique_ptr<MemoryBackend> open_memory() {
  auto backend = MemoryBackend::open({});
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return std::move(backend).value();
}

inline void put(StateBackend& backend, const std::string& column, const std::string& key, const std::string& value,
                bool expiring = false) {
  auto handle = backend.column_with_options(column, {.values_carry_expiry = expiring});
  ASSERT_TRUE(handle.is_ok()) << handle.status().to_string();
  ASSERT_OK((*handle)->put(key, value));
}

// Every column and entry of a backend.
inline Contents read_all(StateBackend& backend) {
  Contents out;
  auto columns = backend.list_columns();
  EXPECT_TRUE(columns.is_ok());
  if (!columns.is_ok()) return out;
  for (const std::string& name : *columns) {
    auto column = backend.column(name);
    auto& entries = out[name];
    EXPECT_OK((*column)->scan({}, [&](BytesView key, BytesView value) {
      entries.emplace(std::string(key), std::string(value));
      return true;
    }));
  }
  return out;
}

// Only the entries of `range` (all of "_ss.states"), for comparing sub-range restores.
inline Contents within(const Contents& all, KeyGroupRange range) {
  Contents out;
  for (const auto& [column, entries] : all) {
    auto& kept = out[column];
    for (const auto& [key, value] : entries) {
      if (column == internal::kStatesColumn || range.contains(decode_fixed16_big_endian(key.data()))) {
        kept.emplace(key, value);
      }
    }
  }
  return out;
}

inline std::string expiring(int64_t expires_at, const std::string& payload) {
  std::string value;
  internal::append_expiring_value(value, expires_at, payload);
  return value;
}

// Three states over 128 key groups, recorded in "_ss.states" as a KeyedStateStore records them:
// "counts" (value, no TTL), "bytes" (map, no TTL) and "ttl" (value with TTL, values carry an
// expiry header; odd i expired at kNow). Returns what a restore at kNow must produce.
inline Contents fill(StateBackend& backend, uint32_t entries = 3000, const std::string& tag = "") {
  Contents expected;
  auto record = [&](const std::string& name, StateKind kind, bool ttl) {
    std::string bytes = internal::encode_state_record({kind, "i64", SchemaVersion{2, 1, 0}, ttl});
    put(backend, std::string(internal::kStatesColumn), name, bytes);
    expected[std::string(internal::kStatesColumn)][name] = bytes;
  };
  record("counts", StateKind::kValue, false);
  record("bytes", StateKind::kMap, false);
  record("ttl", StateKind::kValue, true);
  std::string layout = internal::encode_layout_record({.max_parallelism = 128});
  put(backend, std::string(internal::kStatesColumn), std::string(internal::kLayoutKey), layout);
  expected[std::string(internal::kStatesColumn)][std::string(internal::kLayoutKey)] = layout;
  for (uint32_t i = 0; i < entries; ++i) {
    uint32_t group = (i * 37) % 128;
    std::string key = make_state_key(group, std::string("k\0\xff", 3) + std::to_string(i));
    std::string value = i % 10 == 0 ? std::string() : tag + std::string(i % 200, static_cast<char>('a' + i % 26));
    put(backend, "counts", key, value);
    expected["counts"][key] = value;
    if (i % 3 == 0) {
      put(backend, "bytes", key, std::string("\0\x01\x02", 3) + value);
      expected["bytes"][key] = std::string("\0\x01\x02", 3) + value;
    }
    std::string ttl_value = expiring(i % 2 == 1 ? kNow : kNow + 1000, value);
    put(backend, "ttl", key, ttl_value, /*expiring=*/true);
    if (i % 2 == 0) expected["ttl"][key] = ttl_value;
  }
  return expected;
}

}  // namespace streamstate::testing
