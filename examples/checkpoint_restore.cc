// Checkpoint and restore: counts clicks per user in keyed state on the memory backend, writes a
// checkpoint to a local directory in the background while more clicks arrive, then restores the
// latest checkpoint into a fresh backend, as a restarted process would, and reads the counts.
// The clicks that arrived after the checkpoint's snapshot are not in it.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include <streamstate/streamstate.h>
using namespace streamstate;

int fail(const Status& status) { std::fprintf(stderr, "%s\n", status.to_string().c_str()); return 1; }

const ValueStateDescriptor<int64_t> kClicks{.name = "clicks", .default_value = 0, .ttl = {.ttl = std::chrono::hours(1)}};

Status click(KeyedStateStore& store, ValueState<int64_t>& clicks, const char* user) {
  if (Status status = store.set_current_key(user); !status.is_ok()) return status;
  return clicks.update_with([](int64_t n) { return n + 1; }).status();
}

int run(const std::string& directory) {
  auto storage = open_directory_storage({.path = directory});
  if (!storage.is_ok()) return fail(storage.status());
  std::shared_ptr<StateBackend> backend = std::move(MemoryBackend::open({})).value();
  auto store = KeyedStateStore::open(backend, {.close_backend_on_close = false});
  if (!store.is_ok()) return fail(store.status());
  auto clicks = (*store)->value_state(kClicks);
  if (!clicks.is_ok()) return fail(clicks.status());
  for (const char* user : {"ada", "bob", "ada"}) {
    if (Status status = click(**store, *clicks, user); !status.is_ok()) return fail(status);
  }

  // The snapshot is taken here; the upload runs in the background while clicks go on.
  auto pending = start_checkpoint(*backend, **storage, {.user_metadata = {{"example", "checkpoint_restore"}}});
  if (!pending.is_ok()) return fail(pending.status());
  if (Status status = click(**store, *clicks, "ada"); !status.is_ok()) return fail(status);
  auto done = pending->wait();
  if (!done.is_ok()) return fail(done.status());
  std::printf("checkpoint %llu: %llu entries, %llu bytes\n", static_cast<unsigned long long>(done->manifest.id),
              static_cast<unsigned long long>(done->entries), static_cast<unsigned long long>(done->bytes_written));

  // A restarted process: a fresh backend filled from the latest valid checkpoint.
  std::shared_ptr<StateBackend> fresh = std::move(MemoryBackend::open({})).value();
  auto restored = restore_latest_checkpoint(**storage, *fresh, {});
  if (!restored.is_ok()) return fail(restored.status());
  auto reopened = KeyedStateStore::open(fresh);
  if (!reopened.is_ok()) return fail(reopened.status());
  auto counts = (*reopened)->value_state(kClicks);
  if (!counts.is_ok()) return fail(counts.status());
  for (const char* user : {"ada", "bob"}) {
    if (Status status = (*reopened)->set_current_key(user); !status.is_ok()) return fail(status);
    auto count = counts->value_or_default();
    if (!count.is_ok()) return fail(count.status());
    std::printf("restored %s: %lld clicks\n", user, static_cast<long long>(*count));
  }
  // Keep only the newest checkpoint.
  auto report = collect_garbage(**storage, {.retain_last = 1});
  if (!report.is_ok()) return fail(report.status());
  return 0;
}

int main() {
  const std::string directory =
      (std::filesystem::temp_directory_path() / ("streamstate-checkpoint-example-" + std::to_string(getpid()))).string();
  int code = run(directory);
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);
  return code;
}
