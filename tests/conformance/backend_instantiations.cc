// One instantiation of the conformance suite per backend. To run the suite against your own
// backend, add a factory and an INSTANTIATE_TEST_SUITE_P line like the ones below.
#include "conformance/backend_conformance.h"
#include "custom_backend/ordered_map_backend.h"
#include "streamstate/config.h"
#include "streamstate/memory.h"

#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#endif
#if STREAMSTATE_HAS_REDIS
#include "streamstate/redis.h"
#include "testutil/redis_server.h"
#endif

namespace streamstate::testing {
namespace {

std::string factory_name(const ::testing::TestParamInfo<BackendFactory>& info) { return info.param.name; }

BackendFactory memory_factory() {
  BackendFactory factory;
  factory.name = "memory";
  factory.open = [](BackendTestScratch&) {
    return as_state_backend(MemoryBackend::open(MemoryBackendOptions{}));
  };
  return factory;
}

BackendFactory ordered_map_factory() {
  BackendFactory factory;
  factory.name = "custom";
  factory.open = [](BackendTestScratch&) { return examples::open_ordered_map_backend(); };
  return factory;
}

INSTANTIATE_TEST_SUITE_P(memory, BackendConformanceTest, ::testing::Values(memory_factory()), factory_name);
INSTANTIATE_TEST_SUITE_P(custom, BackendConformanceTest, ::testing::Values(ordered_map_factory()),
                         factory_name);

#if STREAMSTATE_HAS_ROCKSDB
// The database lives in the test's scratch directory, so a reopen finds the same files.
Result<std::unique_ptr<StateBackend>> open_rocksdb_in(BackendTestScratch& scratch) {
  RocksDbBackendOptions options;
  options.path = (scratch.directory() / "db").string();
  // Small memory footprint: tests run in parallel processes. The 16 MiB value case still
  // crosses a memtable flush this way.
  options.block_cache_bytes = uint64_t{8} << 20;
  options.write_buffer_bytes = uint64_t{4} << 20;
  return as_state_backend(RocksDbBackend::open(options));
}

BackendFactory rocksdb_factory() {
  BackendFactory factory;
  factory.name = "rocksdb";
  factory.open = open_rocksdb_in;
  factory.reopen = open_rocksdb_in;
  return factory;
}

INSTANTIATE_TEST_SUITE_P(rocksdb, BackendConformanceTest, ::testing::Values(rocksdb_factory()), factory_name);
#endif

#if STREAMSTATE_HAS_REDIS
// Every test writes under its own key prefix on the process's shared server, so tests never see
// each other's data; a reopen is a new connection with the same prefix.
Result<std::unique_ptr<StateBackend>> open_redis_in(BackendTestScratch& scratch) {
  RedisBackendOptions options;
  options.port = shared_redis_server().port();
  options.key_prefix = scratch.unique_id();
  return as_state_backend(RedisBackend::open(options));
}

BackendFactory redis_factory() {
  BackendFactory factory;
  factory.name = "redis";
  factory.open = open_redis_in;
  factory.reopen = open_redis_in;
  return factory;
}

INSTANTIATE_TEST_SUITE_P(redis, BackendConformanceTest, ::testing::Values(redis_factory()), factory_name);
#endif

}  // namespace
}  // namespace streamstate::testing
