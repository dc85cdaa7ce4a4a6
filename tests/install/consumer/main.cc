// A user's program built against the installed streamstate: it must compile with only the
// umbrella header and link with streamstate::streamstate.
#include <streamstate/streamstate.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  streamstate::MemoryBackendOptions memory_options;
  auto memory = streamstate::MemoryBackend::open(memory_options);
  if (!memory.is_ok()) return 1;
  auto column = (*memory)->column("counts");
  if (!column.is_ok() || !(*column)->put("k", "v").is_ok()) return 1;
  auto value = (*column)->get("k");
  if (!value.is_ok() || !value->has_value() || **value != "v") return 1;
#if STREAMSTATE_HAS_ROCKSDB
  streamstate::RocksDbBackendOptions rocksdb_options;
  rocksdb_options.path = argv[1];
  auto rocksdb = streamstate::RocksDbBackend::open(rocksdb_options);
  if (!rocksdb.is_ok()) {
    std::fprintf(stderr, "%s\n", rocksdb.status().to_string().c_str());
    return 1;
  }
  auto rocksdb_column = (*rocksdb)->column("counts");
  if (!rocksdb_column.is_ok() || !(*rocksdb_column)->put("k", "v").is_ok()) return 1;
  if (!(*rocksdb)->close().is_ok()) return 1;
#endif
  std::printf("consumer ok: streamstate %s\n", STREAMSTATE_VERSION);
  return 0;
}
