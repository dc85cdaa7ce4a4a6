// Exactly-once resumption after a crash in one process: on memory, RocksDB and RocksDB behind
// the write-back cache, into another parallelism, and from a local copy of the state.
#include "unit/runtime/pipeline_test_jobs.h"

namespace streamstate {
namespace {

using namespace pipeline_tests;
using testing::CollectedOutput;
using testing::CollectingSink;
using testing::NumberedSource;

// The state backends a resumed pipeline is tested on.
enum class StateKind { kMemory, kRocksDb, kRocksDbWithCache };

class PipelineResume : public ::testing::TestWithParam<StateKind> {
 protected:
  // False when this build cannot run the parameter's backend.
  bool configure(PipelineOptions& options) {
    if (GetParam() == StateKind::kMemory) return true;
#if STREAMSTATE_HAS_ROCKSDB
    options.state_backend = rocksdb_state(directory_.file("state"));
    if (GetParam() == StateKind::kRocksDbWithCache) options.write_back_cache = WriteBackCacheOptions{.max_bytes = 8192};
    return true;
#else
    (void)options;
    return false;
#endif
  }
  testing::TempDir directory_;
};

TEST_P(PipelineResume, AfterCrashesTheOutputIsExactlyTheFailureFreeOne) {
  const std::vector<std::string> expected = failure_free_output(3, 2000, 17);
  std::shared_ptr<CheckpointStorage> storage = open_memory_storage();
  auto output = std::make_shared<CollectedOutput<std::string>>();
  int crashes = 0;
  size_t committed_before_last_run = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto source = clicks(3, 2000, 17);
    source->pace(10, 1000);
    if (attempt < 4) source->fail_after(1500);
    PipelineOptions options{.name = "resumed", .checkpoints = storage, .checkpoint_interval_millis = 1};
    if (!configure(options)) GTEST_SKIP() << "built without RocksDB";
    Pipeline pipeline(options);
    build_job(pipeline, source, output, {});
    committed_before_last_run = output->records().size();
    Result<PipelineResult> result = pipeline.run();
    if (result.is_ok()) {
      // The last run resumed from a checkpoint: it did not start over.
      EXPECT_TRUE(result->metrics.restored_from.has_value());
      EXPECT_LT(source->emitted(), 6000u);
      break;
    }
    ++crashes;
    EXPECT_THAT(result.status().message(), ::testing::HasSubstr("injected crash"));
  }
  EXPECT_GE(crashes, 3);
  // Output committed by the crashed runs stays, and is not repeated.
  EXPECT_GT(committed_before_last_run, 0u);
  EXPECT_TRUE(sorted(output->records()) == expected) << difference(sorted(output->records()), expected);
}

INSTANTIATE_TEST_SUITE_P(States, PipelineResume,
                         ::testing::Values(StateKind::kMemory, StateKind::kRocksDb, StateKind::kRocksDbWithCache),
                         [](const ::testing::TestParamInfo<StateKind>& kind) {
                           switch (kind.param) {
                             case StateKind::kMemory: return std::string("Memory");
                             case StateKind::kRocksDb: return std::string("RocksDb");
                             case StateKind::kRocksDbWithCache: return std::string("RocksDbWithWriteBackCache");
                           }
                           return std::string("Unknown");
                         });

TEST(Pipeline, ResumesIntoAnotherParallelism) {
  const std::vector<std::string> expected = failure_free_output(3, 2000, 17);
  std::shared_ptr<CheckpointStorage> storage = open_memory_storage();
  auto output = std::make_shared<CollectedOutput<std::string>>();
  const std::vector<uint32_t> parallelism = {2, 3, 1, 2};
  for (size_t attempt = 0; attempt < parallelism.size(); ++attempt) {
    auto source = clicks(3, 2000, 17);
    source->pace(10, 1000);
    if (attempt + 1 < parallelism.size()) source->fail_after(1500);
    Pipeline pipeline({.name = "rescaled", .checkpoints = storage, .checkpoint_interval_millis = 1});
    build_job(pipeline, source, output, {.source_parallelism = 2, .keyed_parallelism = parallelism[attempt]});
    Result<PipelineResult> result = pipeline.run();
    EXPECT_EQ(result.is_ok(), attempt + 1 == parallelism.size()) << result.status().to_string();
    if (result.is_ok()) {
      EXPECT_TRUE(result->metrics.restored_from.has_value());
    }
  }
  EXPECT_TRUE(sorted(output->records()) == expected) << difference(sorted(output->records()), expected);
}

TEST(Pipeline, ALocalCopyRestoresWhenTheRemoteDataFilesAreDamaged) {
  const std::vector<std::string> expected = failure_free_output(3, 2000, 17);
  testing::TempDir remote_dir;
  testing::TempDir local_dir;
  Result<std::unique_ptr<CheckpointStorage>> remote = open_directory_storage({.path = remote_dir.file("chk")});
  ASSERT_OK(remote.status());
  std::shared_ptr<CheckpointStorage> storage = std::move(*remote);
  auto output = std::make_shared<CollectedOutput<std::string>>();
  auto run = [&](bool local, uint64_t fail_after) {
    auto source = clicks(3, 2000, 17);
    source->pace(10, 1000);
    if (fail_after > 0) source->fail_after(fail_after);
    PipelineOptions options{.name = "local", .checkpoints = storage, .checkpoint_interval_millis = 1};
    if (local) options.local_recovery_directory = local_dir.file("copy");
    Pipeline pipeline(options);
    build_job(pipeline, source, output, {});
    return pipeline.run();
  };
  // A first run to the end (its final checkpoint is what the next runs restore).
  Result<PipelineResult> first = run(true, 0);
  ASSERT_OK(first.status());
  // Damage every state file in the remote storage.
  int damaged = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(remote_dir.file("chk"))) {
    if (!entry.is_regular_file() || entry.path().filename() != "state.snap") continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(20);
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    file.seekp(20);
    file.write(&byte, 1);
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  Result<PipelineResult> without_copy = run(false, 0);
  EXPECT_STATUS(without_copy.status(), StatusCode::kCorruption, "state.snap");
  Result<PipelineResult> with_copy = run(true, 0);
  ASSERT_OK(with_copy.status());
  EXPECT_TRUE(with_copy->metrics.restored_from.has_value());
  EXPECT_TRUE(sorted(output->records()) == expected) << difference(sorted(output->records()), expected);
}

}  // namespace
}  // namespace streamstate
