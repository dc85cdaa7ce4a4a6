// Conformance for backends that claim capabilities().thread_safe: a write batch is atomic for
// readers, not only all-or-nothing on failure. Writers keep applying batches that span many
// keys (so many shards of a sharded backend), three columns, puts and removes, while the test
// thread checks a fixed number of snapshots and scans taken meanwhile.
//
// What is asserted is what the contract promises (docs/backends.md):
// - a snapshot is a point-in-time view of all columns, so it shows every batch wholly or not
//   at all: all keys of a group carry the value of one batch, exactly one marker key of the
//   group exists and it belongs to that batch; and it shows every batch acknowledged before
//   snapshot() was called, none begun after it returned;
// - a scan is not a snapshot, so it may mix batches; it visits every entry that exists for the
//   whole scan exactly once, and every value it shows is one a batch wrote to that key, no
//   older than the last batch acknowledged before the scan began.
// For backends shared between processes, half of the writers and snapshots go through a second
// client on the same data (BackendFactory::reopen), so that a batch that is atomic only within
// one client's connection is caught too.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "conformance/backend_conformance.h"
#include "streamstate/write_batch.h"

namespace streamstate::testing {
namespace {

constexpr int kWriters = 2;
// Keys per group in each column: a batch puts 48 keys of its writer's group and 48 of the
// shared group (three columns each) and moves two markers, over many shards of a sharded
// backend.
constexpr int kKeysPerColumn = 16;
constexpr int kMarkerSlots = 4;
// Fixed amounts of checking, not a duration: the test ends when the reader is done.
constexpr int kSnapshotsToCheck = 200;
constexpr int kScanRoundEvery = 4;  // a scan of every group and column on every 4th round
// Values are padded so that a batch is over 20 KiB on the wire: a network backend cannot send
// or receive it in one piece (Redis reads 16 KiB at a time), which gives a batch that is not
// atomic on the server the chance to show.
constexpr size_t kPadding = 200;

const std::vector<std::string>& columns() {
  static const std::vector<std::string> names = {"atomic-a", "atomic-b", "atomic-c"};
  return names;
}

// Group "own<w>" is written by writer w only, with its batch number; group "shared" by every
// writer, so the batch applied last decides all of its keys.
std::string own_group(int writer) { return "own" + std::to_string(writer); }
const std::string kShared = "shared";

std::string data_key(const std::string& group, int i) { return group + "/k" + std::to_string(i); }
// Own groups rotate one marker through kMarkerSlots slots (slot = batch number % slots); the
// shared group's marker slot is the writer of the batch.
std::string marker_key(const std::string& group, int slot) { return group + "/m" + std::to_string(slot); }

std::string padded(std::string head) {
  head += '|';
  head.append(kPadding, 'x');
  return head;
}
std::string own_value(uint64_t batch) { return padded("g" + std::to_string(batch)); }
std::string shared_value(int writer, uint64_t batch) {
  return padded("w" + std::to_string(writer) + "g" + std::to_string(batch));
}

// What a value says: the writer (shared values only, else -1) and the batch number.
struct Decoded {
  int writer = -1;
  uint64_t batch = 0;
};

std::optional<uint64_t> parse_number(std::string_view text) {
  uint64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return number;
}

std::optional<Decoded> decode(std::string_view value, bool shared) {
  const size_t bar = value.find('|');
  if (bar == std::string_view::npos || value.size() != bar + 1 + kPadding ||
      value.find_first_not_of('x', bar + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view head = value.substr(0, bar);
  Decoded decoded;
  if (shared) {
    const size_t g = head.find('g');
    if (!head.starts_with('w') || g == std::string_view::npos) return std::nullopt;
    const std::optional<uint64_t> writer = parse_number(head.substr(1, g - 1));
    if (!writer || *writer >= kWriters) return std::nullopt;
    decoded.writer = static_cast<int>(*writer);
    head = head.substr(g);
  }
  if (!head.starts_with('g')) return std::nullopt;
  const std::optional<uint64_t> batch = parse_number(head.substr(1));
  if (!batch) return std::nullopt;
  decoded.batch = *batch;
  return decoded;
}

// Batch `batch` of writer `writer`: its own group at that batch number, the shared group
// as written by it, and both markers moved.
WriteBatch make_batch(int writer, uint64_t batch) {
  WriteBatch write;
  const std::string own = own_group(writer);
  const std::string own_text = own_value(batch);
  const std::string shared_text = shared_value(writer, batch);
  for (int i = 0; i < kKeysPerColumn; ++i) {
    for (const std::string& column : columns()) {
      write.put(column, data_key(own, i), own_text);
      write.put(column, data_key(kShared, i), shared_text);
    }
  }
  const std::string& marker_column = columns().front();
  write.remove(marker_column, marker_key(own, static_cast<int>((batch + kMarkerSlots - 1) % kMarkerSlots)));
  write.put(marker_column, marker_key(own, static_cast<int>(batch % kMarkerSlots)), own_text);
  for (int other = 0; other < kWriters; ++other) {
    if (other != writer) write.remove(marker_column, marker_key(kShared, other));
  }
  write.put(marker_column, marker_key(kShared, writer), shared_text);
  return write;
}

// Per writer: the last batch number begun and the last one acknowledged.
struct Progress {
  std::atomic<uint64_t> begun{0};
  std::atomic<uint64_t> acknowledged{0};
};

// Bounds on a writer's batch numbers, taken around a read: `low` was acknowledged before the
// read began, `high` had not begun when it ended.
struct Bounds {
  uint64_t low[kWriters];
  uint64_t high[kWriters];
};

// Collects what contradicts the contract, with enough context to see why.
class Findings {
 public:
  explicit Findings(std::string where) : where_(std::move(where)) {}
  void add(const std::string& problem) {
    if (problems_.size() < 8) problems_.push_back(problem);
    ++count_;
  }
  bool empty() const { return count_ == 0; }
  std::string report() const {
    std::string text = where_ + ": " + std::to_string(count_) + " problem(s)";
    for (const std::string& problem : problems_) text += "\n  " + problem;
    return text;
  }

 private:
  std::string where_;
  std::vector<std::string> problems_;
  size_t count_ = 0;
};

std::string head_of(std::string_view value) { return printable(value.substr(0, value.find('|'))); }

// The entries of one group: data keys and markers, each as "column key" -> value (views into
// the Entries they were read into).
struct GroupView {
  std::map<std::string, std::string_view> data;
  std::map<std::string, std::string_view> markers;
};

// A snapshot shows whole batches: every key of a group holds one value, written by one batch
// within `bounds`, and exactly the marker of that batch exists.
void check_group_in_snapshot(const std::string& group, int writer, const GroupView& view, const Bounds& bounds,
                             Findings& findings) {
  const bool shared = writer < 0;
  const size_t expected_keys = columns().size() * kKeysPerColumn;
  if (view.data.size() != expected_keys) {
    findings.add(group + ": " + std::to_string(view.data.size()) + " data keys, expected " +
                 std::to_string(expected_keys));
  }
  if (view.data.empty()) return;
  const std::string_view first = view.data.begin()->second;
  const bool uniform = std::all_of(view.data.begin(), view.data.end(),
                                   [first](const auto& entry) { return entry.second == first; });
  if (!uniform) {
    std::map<std::string, int> distinct;
    for (const auto& [key, value] : view.data) ++distinct[head_of(value)];
    std::string seen;
    for (const auto& [head, count] : distinct) seen += " " + head + " x" + std::to_string(count);
    findings.add(group + ": keys of one batch hold values of different batches (half a batch visible):" + seen);
  }
  const std::optional<Decoded> decoded = decode(first, shared);
  if (!decoded) {
    findings.add(group + ": malformed value '" + head_of(first) + "'");
    return;
  }
  const int author = shared ? decoded->writer : writer;
  if (decoded->batch < bounds.low[author] || decoded->batch > bounds.high[author]) {
    findings.add(group + ": shows batch " + std::to_string(decoded->batch) + " of writer " + std::to_string(author) +
                 ", but batch " + std::to_string(bounds.low[author]) +
                 " was acknowledged before the snapshot was taken and batch " + std::to_string(bounds.high[author]) +
                 " was the last begun when it had been taken");
  }
  const int slot = shared ? decoded->writer : static_cast<int>(decoded->batch % kMarkerSlots);
  const std::string expected_marker = columns().front() + " " + marker_key(group, slot);
  if (view.markers.size() != 1 || view.markers.begin()->first != expected_marker ||
      view.markers.begin()->second != first) {
    std::string seen;
    for (const auto& [key, value] : view.markers) seen += " '" + key + "'=" + head_of(value);
    findings.add(group + ": markers" + (seen.empty() ? std::string(" (none)") : seen) + ", expected only '" +
                 expected_marker + "'=" + head_of(first) + " (a batch's removes and puts are not all visible)");
  }
}

// Splits a snapshot's or a scan's entries of `column` into groups; unknown keys are findings.
void add_to_groups(const std::string& column, const Entries& entries, std::map<std::string, GroupView>& groups,
                   Findings& findings) {
  for (const auto& [key, value] : entries) {
    const size_t slash = key.find('/');
    const std::string group = key.substr(0, slash == std::string::npos ? 0 : slash);
    const std::string_view rest = slash == std::string::npos ? std::string_view() : std::string_view(key).substr(slash + 1);
    if (group.empty() || (!rest.starts_with('k') && !rest.starts_with('m'))) {
      findings.add("column " + column + ": unexpected key '" + printable(key) + "'");
      continue;
    }
    GroupView& view = groups[group];
    std::map<std::string, std::string_view>& target = rest.starts_with('k') ? view.data : view.markers;
    if (rest.starts_with('m') && column != columns().front()) {
      findings.add("column " + column + ": marker '" + printable(key) + "' in a column no batch puts markers in");
    }
    if (!target.emplace(column + " " + key, value).second) {
      findings.add("column " + column + ": key '" + printable(key) + "' visited twice");
    }
  }
}

void check_snapshot(BackendSnapshot& snapshot, const Bounds& bounds, Findings& findings) {
  std::map<std::string, GroupView> groups;
  std::vector<Entries> read(columns().size());  // holds the bytes `groups` views
  for (size_t i = 0; i < columns().size(); ++i) {
    read[i] = snapshot_entries(snapshot, columns()[i]);
    add_to_groups(columns()[i], read[i], groups, findings);
  }
  for (int writer = 0; writer < kWriters; ++writer) {
    check_group_in_snapshot(own_group(writer), writer, groups[own_group(writer)], bounds, findings);
  }
  check_group_in_snapshot(kShared, -1, groups[kShared], bounds, findings);
  if (groups.size() != kWriters + 1) findings.add("a snapshot shows groups no writer wrote");
}

// A scan of one group in one column: every data key once, each value one that a batch within
// `bounds` wrote (own groups: no older than the last batch acknowledged before the scan), and
// each marker under the slot its batch puts it in. A scan may mix batches, so no more.
void check_scan(const std::string& column, const std::string& group, int writer, const Entries& entries,
                const Bounds& bounds, Findings& findings) {
  std::map<std::string, GroupView> groups;
  add_to_groups(column, entries, groups, findings);
  if (groups.size() > 1 || (groups.size() == 1 && groups.begin()->first != group)) {
    findings.add("a scan of prefix '" + group + "/' visited keys of other groups");
  }
  const GroupView& view = groups[group];
  if (view.data.size() != kKeysPerColumn) {
    findings.add(group + ": the scan visited " + std::to_string(view.data.size()) + " of the " +
                 std::to_string(kKeysPerColumn) + " keys that existed throughout it");
  }
  const bool shared = writer < 0;
  auto check_value = [&](const std::string& key, std::string_view value, bool marker) {
    const std::optional<Decoded> decoded = decode(value, shared);
    if (!decoded) {
      findings.add(key + ": malformed value '" + head_of(value) + "'");
      return;
    }
    const int author = shared ? decoded->writer : writer;
    // A key of an own group is rewritten by every batch of its writer, and a marker exists only
    // while its batch is the writer's latest: either shows at least the batch acknowledged
    // before the scan began. A shared key may hold any writer's older batch.
    const bool too_old = !shared && decoded->batch < bounds.low[author];
    if (too_old || decoded->batch > bounds.high[author]) {
      findings.add(key + ": shows batch " + std::to_string(decoded->batch) + " of writer " + std::to_string(author) +
                   ", outside the batches " + std::to_string(bounds.low[author]) + ".." +
                   std::to_string(bounds.high[author]) + " around the scan");
    }
    if (marker) {
      const int slot = shared ? decoded->writer : static_cast<int>(decoded->batch % kMarkerSlots);
      if (key != column + " " + marker_key(group, slot)) {
        findings.add(key + ": holds '" + head_of(value) + "', which a batch writes under another marker");
      }
    }
  };
  for (const auto& [key, value] : view.data) check_value(key, value, false);
  for (const auto& [key, value] : view.markers) check_value(key, value, true);
}

TEST_P(BackendConformanceTest, ReadersSeeWholeBatchesOnly) {
  if (!capabilities().thread_safe) GTEST_SKIP() << GetParam().name << " does not claim thread_safe";
  for (const std::string& column : columns()) ASSERT_NE(open_column(column), nullptr);

  // A second client on the same data, for backends that several processes share.
  std::vector<StateBackend*> clients = {&backend()};
  std::unique_ptr<StateBackend> second_client;
  if (capabilities().shared_between_processes) {
    ASSERT_TRUE(GetParam().reopen) << GetParam().name
                                   << " claims shared_between_processes: its factory needs a reopen function, "
                                      "which the suite also uses to open a second client of the same data";
    CONFORMANCE_ASSIGN_OR_FAIL(second_client, GetParam().reopen(scratch_));
    clients.push_back(second_client.get());
  }

  // Batch 0 of every writer creates every key, so the checks can expect all of them.
  Progress progress[kWriters];
  for (int writer = 0; writer < kWriters; ++writer) ASSERT_OK(backend().write(make_batch(writer, 0)));

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> batches_applied{0};
  std::atomic<int> failed_writes{0};
  auto bounds_low = [&](Bounds& bounds) {
    for (int w = 0; w < kWriters; ++w) bounds.low[w] = progress[w].acknowledged.load();
  };
  auto bounds_high = [&](Bounds& bounds) {
    for (int w = 0; w < kWriters; ++w) bounds.high[w] = progress[w].begun.load();
  };
  int snapshots_checked = 0;
  int scans_checked = 0;
  {
    std::vector<std::jthread> writers;
    // Declared after `writers`, so it runs first when an ASSERT leaves the scope: the writers
    // stop, then they are joined.
    struct StopOnExit {
      std::atomic<bool>& stop;
      ~StopOnExit() { stop.store(true); }
    } stop_on_exit{stop};
    for (int writer = 0; writer < kWriters; ++writer) {
      writers.emplace_back([&, writer] {
        StateBackend& client = *clients[static_cast<size_t>(writer) % clients.size()];
        for (uint64_t batch = 1; !stop.load(); ++batch) {
          const WriteBatch write = make_batch(writer, batch);
          progress[writer].begun.store(batch);
          Status status = client.write(write);
          if (!status.is_ok()) {
            ADD_FAILURE() << "writer " << writer << ", batch " << batch << ": " << status.to_string();
            failed_writes.fetch_add(1);
            stop.store(true);
            return;
          }
          progress[writer].acknowledged.store(batch);
          batches_applied.fetch_add(1);
        }
      });
    }

    uint64_t seen_applied = 0;
    for (int round = 0; round < kSnapshotsToCheck; ++round) {
      // Each round reads a state the previous one did not: at least one more batch landed.
      while (batches_applied.load() == seen_applied && !stop.load()) std::this_thread::yield();
      seen_applied = batches_applied.load();
      if (failed_writes.load() != 0) break;
      StateBackend& client = *clients[static_cast<size_t>(round) % clients.size()];

      Bounds bounds;
      bounds_low(bounds);
      CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<BackendSnapshot> snapshot, client.snapshot());
      bounds_high(bounds);
      Findings snapshot_findings("snapshot " + std::to_string(round) + " (client " +
                                 std::to_string(static_cast<size_t>(round) % clients.size()) + ")");
      check_snapshot(*snapshot, bounds, snapshot_findings);
      snapshot.reset();
      ASSERT_TRUE(snapshot_findings.empty()) << snapshot_findings.report();
      ++snapshots_checked;

      if (round % kScanRoundEvery != 0) continue;
      for (const std::string& column_name : columns()) {
        CONFORMANCE_ASSIGN_OR_FAIL(std::shared_ptr<StateColumn> column, client.column(column_name));
        for (int writer = -1; writer < kWriters; ++writer) {
          const std::string group = writer < 0 ? kShared : own_group(writer);
          Bounds scan_bounds;
          bounds_low(scan_bounds);
          const Entries entries = scan_entries(*column, group + "/");
          bounds_high(scan_bounds);
          Findings scan_findings("scan of " + column_name + " '" + group + "/' in round " + std::to_string(round));
          check_scan(column_name, group, writer, entries, scan_bounds, scan_findings);
          ASSERT_TRUE(scan_findings.empty()) << scan_findings.report();
          ++scans_checked;
        }
      }
    }
  }  // stops and joins the writers
  EXPECT_EQ(failed_writes.load(), 0);
  EXPECT_EQ(snapshots_checked, kSnapshotsToCheck);
  EXPECT_EQ(scans_checked, (kSnapshotsToCheck + kScanRoundEvery - 1) / kScanRoundEvery *
                               static_cast<int>(columns().size()) * (kWriters + 1));

  // Once the writers are done, both clients see the same, whole last batches.
  Bounds final_bounds;
  bounds_low(final_bounds);
  bounds_high(final_bounds);
  for (StateBackend* client : clients) {
    CONFORMANCE_ASSIGN_OR_FAIL(std::unique_ptr<BackendSnapshot> snapshot, client->snapshot());
    Findings findings("the snapshot after the writers stopped");
    check_snapshot(*snapshot, final_bounds, findings);
    EXPECT_TRUE(findings.empty()) << findings.report();
  }
  if (second_client != nullptr) EXPECT_OK(second_client->close());
}

}  // namespace
}  // namespace streamstate::testing
