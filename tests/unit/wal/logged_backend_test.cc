// LoggedBackend over the memory backend: every kind of change (column creation with its
// options, put, remove, update, batch, clear, drop) replays into a fresh backend exactly; a
// snapshot's log position splits the log exactly while writers run (snapshot + replay after the
// position == the final state); a change the inner backend refused is not logged; a damaged
// record fails the replay naming its sequence number.
#include "streamstate/logged_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "streamstate/memory.h"
#include "streamstate/write_batch.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "wal/logged_change.h"
#include "wal_test_util.h"

namespace streamstate {
namespace {

using testing::TempDir;
using testing::wal_options;
using Contents = std::map<std::string, std::map<std::string, std::string>>;

std::shared_ptr<StateBackend> memory(MemoryBackendOptions options = {}) {
  return std::shared_ptr<StateBackend>(MemoryBackend::open(options).value());
}

std::shared_ptr<Wal> open_wal(const std::string& directory) {
  auto wal = Wal::open(wal_options(directory, WalSyncPolicy::kGroupCommit));
  EXPECT_OK(wal);
  return std::shared_ptr<Wal>(std::move(wal).value());
}

Contents read_all(StateBackend& backend) {
  Contents out;
  auto names = backend.list_columns();
  EXPECT_OK(names);
  if (!names.is_ok()) return out;
  const std::vector<std::string> columns = *names;
  for (const std::string& name : columns) {
    auto& entries = out[name];
    EXPECT_OK(backend.column(name).value()->scan({}, [&](BytesView key, BytesView value) {
      entries.emplace(std::string(key), std::string(value));
      return true;
    }));
  }
  return out;
}

Contents read_snapshot(BackendSnapshot& snapshot) {
  Contents out;
  for (const std::string& name : snapshot.columns()) {
    auto& entries = out[name];
    auto it = snapshot.iterate(name).value();
    for (; it->valid(); it->next()) entries.emplace(std::string(it->key()), std::string(it->value()));
  }
  return out;
}

TEST(LoggedBackendTest, EveryKindOfChangeReplaysExactly) {
  TempDir dir;
  Contents expected;
  {
    auto logged = LoggedBackend::open(memory(), open_wal(dir.file("wal"))).value();
    auto plain = logged->column("plain").value();
    auto expiring = logged->column_with_options("expiring", {.values_carry_expiry = true}).value();
    auto doomed = logged->column("doomed").value();
    auto cleared = logged->column("cleared").value();
    ASSERT_OK(plain->put("a", "1"));
    ASSERT_OK(plain->put("b", "2"));
    ASSERT_OK(plain->remove("a"));
    ASSERT_OK(plain->update("b", [](std::optional<BytesView> v) { return std::optional<std::string>(std::string(*v) + "0"); }));
    ASSERT_OK(plain->update("c", [](std::optional<BytesView>) { return std::optional<std::string>("3"); }));
    ASSERT_OK(plain->put("gone", "x"));
    ASSERT_OK(plain->update("gone", [](std::optional<BytesView>) { return std::optional<std::string>(); }));
    ASSERT_OK(expiring->put("e", std::string(8, '\x7f') + "payload"));
    WriteBatch batch;
    batch.put("plain", "d", "4");
    batch.remove("plain", "c");
    batch.put("cleared", "z", "26");
    ASSERT_OK(logged->write(batch));
    ASSERT_OK(doomed->put("k", "v"));
    ASSERT_OK(logged->drop_column("doomed"));
    ASSERT_OK(cleared->clear());
    ASSERT_OK(cleared->put("after-clear", "1"));
    expected = read_all(*logged);
  }
  auto fresh = memory();
  auto replayer = LoggedBackend::open(fresh, open_wal(dir.file("wal"))).value();
  auto applied = replayer->replay(0);
  ASSERT_OK(applied);
  EXPECT_GT(*applied, 10u);
  EXPECT_EQ(read_all(*fresh), expected);
  EXPECT_EQ(expected["plain"], (std::map<std::string, std::string>{{"b", "20"}, {"d", "4"}}));
  EXPECT_FALSE(expected.contains("doomed"));
  // The column came back with its options: opening it as non-expiring is refused.
  EXPECT_EQ(fresh->column_with_options("expiring", {.values_carry_expiry = false}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(LoggedBackendTest, ASnapshotPositionSplitsTheLogExactlyWhileWritersRun) {
  TempDir dir;
  auto logged = LoggedBackend::open(memory(), open_wal(dir.file("wal"))).value();
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      auto column = logged->column("c").value();
      for (uint64_t n = static_cast<uint64_t>(t) * 100000; !stop.load(); ++n) {
        const std::string key = "k" + std::to_string(n % 97);
        if (n % 4 == 0) {
          (void)column->remove(key);
        } else if (n % 4 == 1) {
          (void)column->update(key, [n](std::optional<BytesView>) { return std::optional<std::string>(std::to_string(n)); });
        } else {
          (void)column->put(key, std::to_string(n));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto positioned = logged->snapshot_at();
  ASSERT_OK(positioned);
  auto plain = logged->snapshot();  // the StateBackend view answers the position too
  ASSERT_OK(plain);
  ASSERT_TRUE((*plain)->log_position().has_value());
  EXPECT_GE(*(*plain)->log_position(), positioned->log_position);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& writer : writers) writer.join();
  const Contents final_state = read_all(*logged);

  // Recovery: the snapshot's contents, then the log after its position.
  auto recovered = memory();
  for (const auto& [name, entries] : read_snapshot(*positioned->snapshot)) {
    auto column = recovered->column(name).value();
    for (const auto& [key, value] : entries) ASSERT_OK(column->put(key, value));
  }
  // Replay through the original log (a second Wal may not open the same directory), with the
  // decoder LoggedBackend::replay uses.
  uint64_t applied = 0;
  ASSERT_OK(logged->wal().replay(positioned->log_position + 1, [&](const WalRecordView& record) {
    ++applied;
    return wal::decode_logged_changes(record.payload, record.sequence, [&](const wal::LoggedChange& change) {
      auto column = recovered->column(std::string(change.column)).value();
      if (change.kind == wal::LoggedChangeKind::kPut) return column->put(change.key, change.value);
      if (change.kind == wal::LoggedChangeKind::kRemove) return column->remove(change.key);
      return Status::ok();
    });
  }));
  EXPECT_GT(applied, 0u);
  EXPECT_EQ(read_all(*recovered), final_state);
}

TEST(LoggedBackendTest, AChangeTheInnerBackendRefusedIsNotLogged) {
  TempDir dir;
  MemoryBackendOptions options;
  options.shard_count = 1;
  options.max_bytes = 4096;  // one entry may not exceed the shard's 4 KiB
  auto logged = LoggedBackend::open(memory(options), open_wal(dir.file("wal"))).value();
  auto column = logged->column("c").value();
  const uint64_t before = logged->wal().statistics().last_sequence;
  EXPECT_EQ(column->put("big", std::string(10000, 'x')).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(logged->wal().statistics().last_sequence, before);
}

TEST(LoggedBackendTest, ADamagedRecordFailsTheReplayNamingIt) {
  TempDir dir;
  auto wal = open_wal(dir.file("wal"));
  ASSERT_OK(wal->append(1, std::string("\x01\x09", 2)));  // version 1, unknown change kind 9
  auto logged = LoggedBackend::open(memory(), wal).value();
  auto replayed = logged->replay(0);
  EXPECT_EQ(replayed.status().code(), StatusCode::kCorruption);
  EXPECT_NE(replayed.status().message().find("record 1"), std::string::npos) << replayed.status().message();
  ASSERT_OK(wal->append(7, "another user's record"));  // other record types are skipped
  EXPECT_EQ(LoggedBackend::open(memory(), wal, {.record_type = 2}).value()->replay(0).value(), 0u);
}

TEST(LoggedBackendTest, BadOptionsAreRefused) {
  TempDir dir;
  EXPECT_EQ(LoggedBackend::open(nullptr, open_wal(dir.file("wal"))).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoggedBackend::open(memory(), nullptr).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace streamstate
