// A keyed counter with a TTL: counts clicks per user; a user's count expires 30 minutes after
// it was last written. Uses the memory backend; any StateBackend works the same way. The
// README shows this file.
#include <chrono>
#include <cstdio>

#include <streamstate/streamstate.h>
using namespace streamstate;
int fail(const Status& status) { std::fprintf(stderr, "%s\n", status.to_string().c_str()); return 1; }

int main() {
  auto backend = MemoryBackend::open({});
  if (!backend.is_ok()) return fail(backend.status());
  auto store = KeyedStateStore::open(std::move(backend).value());
  if (!store.is_ok()) return fail(store.status());
  ValueStateDescriptor<int64_t> descriptor{
      .name = "clicks", .default_value = 0, .ttl = {.ttl = std::chrono::minutes(30)}};
  auto clicks = store.value()->value_state(descriptor);
  if (!clicks.is_ok()) return fail(clicks.status());
  for (const char* user : {"ada", "bob", "ada"}) {
    if (Status status = store.value()->set_current_key(user); !status.is_ok()) return fail(status);
    // One call reads the count (or the default 0, also once it expired), adds one, stores it.
    Result<int64_t> count = clicks->update_with([](int64_t n) { return n + 1; });
    if (!count.is_ok()) return fail(count.status());
    std::printf("%s: %lld clicks\n", user, static_cast<long long>(*count));
  }
}
