// A user's program built against the installed streamstate: it compiles with only the umbrella
// header, links with streamstate::streamstate, and must start and run without LD_LIBRARY_PATH.
//
// It opens its backends by name through the registry (open_backend) and uses only keyed state,
// so the program itself needs libstreamstate_state (and core) while the backend libraries are
// needed by libstreamstate_state alone: they are found only if the installed libraries carry a
// RUNPATH that leads to each other (a program's own RUNPATH does not apply to the dependencies
// of its libraries).
//
// Usage: consumer DIRECTORY   (DIRECTORY may not exist yet; the RocksDB case writes under it)
#include <streamstate/streamstate.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace {

int fail(const char* what, const streamstate::Status& status) {
  std::fprintf(stderr, "consumer: %s: %s\n", what, status.to_string().c_str());
  return 1;
}

// Counts three clicks of one user in a value state on the configured backend.
int count_clicks(const streamstate::StateConfig& config) {
  auto backend = streamstate::open_backend(config);
  if (!backend.is_ok()) return fail("open_backend", backend.status());
  std::shared_ptr<streamstate::StateBackend> shared(std::move(backend).value());
  auto store = streamstate::KeyedStateStore::open(shared);
  if (!store.is_ok()) return fail("KeyedStateStore::open", store.status());
  auto clicks = (*store)->value_state(streamstate::ValueStateDescriptor<int64_t>{.name = "clicks", .default_value = 0});
  if (!clicks.is_ok()) return fail("value_state", clicks.status());
  if (auto status = (*store)->set_current_key("ada"); !status.is_ok()) return fail("set_current_key", status);
  int64_t count = 0;
  for (int i = 0; i < 3; ++i) {
    auto current = clicks->value();
    if (!current.is_ok()) return fail("value", current.status());
    count = current->value_or(0) + 1;
    if (auto status = clicks->update(count); !status.is_ok()) return fail("update", status);
  }
  if (count != 3) {
    std::fprintf(stderr, "consumer: %s counted %lld clicks, expected 3\n", config.backend.c_str(),
                 static_cast<long long>(count));
    return 1;
  }
  store->reset();
  if (auto status = shared->close(); !status.is_ok()) return fail("close", status);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer DIRECTORY\n");
    return 2;
  }
  streamstate::StateConfig memory;
  memory.backend = "memory";
  if (int failed = count_clicks(memory); failed != 0) return failed;
#if STREAMSTATE_HAS_ROCKSDB
  streamstate::StateConfig rocksdb;
  rocksdb.backend = "rocksdb";
  rocksdb.backend_options = {{"path", std::string(argv[1]) + "/rocksdb"}};
  if (int failed = count_clicks(rocksdb); failed != 0) return failed;
#endif
  std::printf("consumer ok: streamstate %s\n", STREAMSTATE_VERSION);
  return 0;
}
