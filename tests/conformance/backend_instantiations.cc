// One instantiation of the conformance suite per backend. To run the suite against your own
// backend, add a factory and an INSTANTIATE_TEST_SUITE_P line like the ones below.
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conformance/backend_conformance.h"
#include "custom_backend/ordered_map_backend.h"
#include "streamstate/config.h"
#include "streamstate/memory.h"
#include "streamstate/write_back_cache.h"

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

// The memory backend as each keyed instance of a pipeline runs it (memory_state()): gets take
// the shard lock and writes skip the read gate.
BackendFactory memory_without_concurrent_reads_factory() {
  BackendFactory factory;
  factory.name = "memory_locked_reads";
  factory.open = [](BackendTestScratch&) {
    MemoryBackendOptions options;
    options.concurrent_reads = false;
    return as_state_backend(MemoryBackend::open(options));
  };
  return factory;
}

INSTANTIATE_TEST_SUITE_P(memory, BackendConformanceTest, ::testing::Values(memory_factory()), factory_name);
INSTANTIATE_TEST_SUITE_P(memory_locked_reads, BackendConformanceTest,
                         ::testing::Values(memory_without_concurrent_reads_factory()), factory_name);

// A backend the suite owns alone, forwarding to one that open functions return shared (as the
// write-back cache's does).
class SharedBackendHandle final : public StateBackend {
 public:
  explicit SharedBackendHandle(std::shared_ptr<StateBackend> backend) : backend_(std::move(backend)) {}
  std::string_view kind() const override { return backend_->kind(); }
  BackendCapabilities capabilities() const override { return backend_->capabilities(); }
  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override { return backend_->column(name); }
  Result<std::shared_ptr<StateColumn>> column_with_options(std::string_view name,
                                                           const ColumnOptions& options) override {
    return backend_->column_with_options(name, options);
  }
  Result<std::vector<std::string>> list_columns() override { return backend_->list_columns(); }
  Status drop_column(std::string_view name) override { return backend_->drop_column(name); }
  Status write(const WriteBatch& batch) override { return backend_->write(batch); }
  Status put_entries(std::string_view column, std::span<const std::pair<BytesView, BytesView>> entries) override {
    return backend_->put_entries(column, entries);
  }
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override { return backend_->snapshot(); }
  ChangeTracker* change_tracker() override { return backend_->change_tracker(); }
  BackendStatistics statistics() const override { return backend_->statistics(); }
  Status flush() override { return backend_->flush(); }
  Status close() override { return backend_->close(); }

 private:
  std::shared_ptr<StateBackend> backend_;
};

Result<std::unique_ptr<StateBackend>> cached(Result<std::unique_ptr<StateBackend>> inner,
                                             const WriteBackCacheOptions& options) {
  if (!inner.is_ok()) return inner.status();
  Result<std::shared_ptr<WriteBackCache>> cache =
      open_write_back_cache(std::shared_ptr<StateBackend>(std::move(inner).value()), options);
  if (!cache.is_ok()) return cache.status();
  return std::unique_ptr<StateBackend>(std::make_unique<SharedBackendHandle>(std::move(cache).value()));
}

// The write-back cache over the memory backend, small enough that the larger cases flush it by
// size, with a clean-entry budget that shards outgrow.
BackendFactory cache_over_memory_factory() {
  BackendFactory factory;
  factory.name = "cache_over_memory";
  factory.open = [](BackendTestScratch&) {
    return cached(as_state_backend(MemoryBackend::open(MemoryBackendOptions{})),
                  WriteBackCacheOptions{.max_bytes = 256 << 10, .max_clean_bytes = 64 << 10, .shards = 4});
  };
  return factory;
}

INSTANTIATE_TEST_SUITE_P(cache_over_memory, BackendConformanceTest, ::testing::Values(cache_over_memory_factory()),
                         factory_name);
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

// The write-back cache over RocksDB with its default options: nothing reaches RocksDB before a
// flush, a snapshot, a scan or close, so reopen and snapshot cases check those paths.
Result<std::unique_ptr<StateBackend>> open_cached_rocksdb_in(BackendTestScratch& scratch) {
  return cached(open_rocksdb_in(scratch), WriteBackCacheOptions{});
}

BackendFactory cache_over_rocksdb_factory() {
  BackendFactory factory;
  factory.name = "cache_over_rocksdb";
  factory.open = open_cached_rocksdb_in;
  factory.reopen = open_cached_rocksdb_in;
  return factory;
}

INSTANTIATE_TEST_SUITE_P(cache_over_rocksdb, BackendConformanceTest, ::testing::Values(cache_over_rocksdb_factory()),
                         factory_name);
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
