// count_events: the quick-start job. It counts events per user on the embedded RocksDB backend,
// the persistent default, the way a keyed stream job would: each event's user is mapped to its
// key group, the count is stored under (key group, user), and each increment is an atomic
// read-modify-write. Run it twice: the counts of the first run are still there.
//
//   count_events --state-dir DIR [--events N] [--users U] [--seed S]
#include <streamstate/streamstate.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

struct Arguments {
  std::string state_dir = "build/demo-state";
  uint64_t events = 200000;
  uint32_t users = 1000;
  uint64_t seed = 42;
};

bool parse_arguments(int argc, char** argv, Arguments& arguments) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "count_events: %s needs a value\n", flag.c_str());
      return false;
    }
    const std::string value = argv[++i];
    if (flag == "--state-dir") {
      arguments.state_dir = value;
    } else if (flag == "--events") {
      arguments.events = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--users") {
      arguments.users = static_cast<uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
    } else if (flag == "--seed") {
      arguments.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr, "count_events: unknown flag %s (use --state-dir, --events, --users, --seed)\n", flag.c_str());
      return false;
    }
  }
  if (arguments.users == 0) {
    std::fprintf(stderr, "count_events: --users must be at least 1\n");
    return false;
  }
  return true;
}

std::string encode_count(uint64_t count) {
  std::string bytes;
  streamstate::put_fixed64(bytes, count);
  return bytes;
}

uint64_t decode_count(streamstate::BytesView bytes) {
  return bytes.size() == 8 ? streamstate::decode_fixed64(bytes.data()) : 0;
}

int fail(const streamstate::Status& status) {
  std::fprintf(stderr, "count_events: %s\n", status.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments arguments;
  if (!parse_arguments(argc, argv, arguments)) return 2;

  streamstate::RocksDbBackendOptions options;
  options.path = arguments.state_dir;
  auto backend = streamstate::RocksDbBackend::open(options);
  if (!backend.is_ok()) return fail(backend.status());
  auto counts = (*backend)->column("event_counts");
  if (!counts.is_ok()) return fail(counts.status());

  // Events: users drawn from a skewed distribution, as real traffic is.
  std::mt19937_64 random(arguments.seed);
  std::geometric_distribution<uint32_t> pick_user(4.0 / arguments.users);
  const auto started = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < arguments.events; ++i) {
    const std::string user = "user-" + std::to_string(pick_user(random) % arguments.users);
    const uint32_t key_group = streamstate::key_group_for_key(user, streamstate::kDefaultMaxParallelism);
    const std::string key = streamstate::make_state_key(key_group, user);
    streamstate::Status status = (*counts)->update(key, [](std::optional<streamstate::BytesView> current) {
      return std::optional<std::string>(encode_count((current ? decode_count(*current) : 0) + 1));
    });
    if (!status.is_ok()) return fail(status);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // Read the totals back with a prefix scan per key group, as a checkpoint or a rescale would.
  std::vector<std::pair<uint64_t, std::string>> totals;
  uint64_t all_events = 0;
  for (uint32_t key_group = 0; key_group < streamstate::kDefaultMaxParallelism; ++key_group) {
    streamstate::Status status = (*counts)->scan(streamstate::key_group_prefix(key_group),
                                                 [&](streamstate::BytesView key, streamstate::BytesView value) {
      auto parts = streamstate::decode_state_key(key);
      if (parts.is_ok()) totals.emplace_back(decode_count(value), std::string(parts->user_key));
      all_events += decode_count(value);
      return true;
    });
    if (!status.is_ok()) return fail(status);
  }
  std::sort(totals.rbegin(), totals.rend());

  std::printf("counted %llu events for %u users in %.2f s (%.0f events/s) on the RocksDB backend\n",
              static_cast<unsigned long long>(arguments.events), arguments.users, seconds,
              static_cast<double>(arguments.events) / seconds);
  std::printf("state now holds %zu users and %llu events in total (counts add up across runs)\n", totals.size(),
              static_cast<unsigned long long>(all_events));
  std::printf("busiest users:\n");
  for (size_t i = 0; i < std::min<size_t>(5, totals.size()); ++i) {
    std::printf("  %-10s %8llu\n", totals[i].second.c_str(), static_cast<unsigned long long>(totals[i].first));
  }
  if (streamstate::Status status = (*backend)->flush(); !status.is_ok()) return fail(status);
  auto bytes = (*backend)->size_on_disk();
  if (!bytes.is_ok()) return fail(bytes.status());
  const auto where = std::filesystem::absolute(arguments.state_dir).lexically_normal().string();
  std::printf("state lives in %s (%.1f KiB on disk); run again to add to it\n", where.c_str(),
              static_cast<double>(*bytes) / 1024.0);
  if (streamstate::Status status = (*backend)->close(); !status.is_ok()) return fail(status);
  return 0;
}
