// The `s3` suite: full checkpoints of the memory backend to S3-compatible storage and restores
// from it, against the same to a local directory in the same run (the checkpoint suite's
// state: 1,000,000 entries, LZ4). Needs a running S3 endpoint, named by the environment:
//   STREAMSTATE_BENCH_S3_ENDPOINT   e.g. http://127.0.0.1:4568 (required)
//   STREAMSTATE_BENCH_S3_BUCKET     an existing bucket (default "bench")
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (default S3RVER / S3RVER, s3rver's own)
// docs/BENCHMARKS.md shows how to start the s3rver that scripts/setup.sh installs.
#include <cstdlib>
#include <iostream>
#include <string>

#include "checkpoint_data.h"
#include "measure.h"
#include "scratch_dir.h"
#include "streamstate/checkpoint.h"
#include "streamstate/s3_storage.h"
#include "suite.h"
#include "util/status_macros.h"

namespace streamstate::bench {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

Status run_s3_suite(const BenchOptions& options, std::vector<CaseResult>& results) {
  const std::string endpoint = env_or("STREAMSTATE_BENCH_S3_ENDPOINT", "");
  if (endpoint.empty()) {
    return Status::invalid_argument(
        "the s3 suite needs an S3 endpoint: start one (node --openssl-legacy-provider "
        "tools/s3rver/node_modules/s3rver/bin/s3rver.js --directory /tmp/s3-bench --address 127.0.0.1 "
        "--port 4568 --silent --configure-bucket bench) and set STREAMSTATE_BENCH_S3_ENDPOINT=http://127.0.0.1:4568");
  }
  S3StorageOptions s3;
  s3.endpoint = endpoint;
  s3.region = env_or("AWS_REGION", "us-east-1");
  s3.bucket = env_or("STREAMSTATE_BENCH_S3_BUCKET", "bench");
  s3.prefix = "streamstate-bench/";
  s3.access_key_id = env_or("AWS_ACCESS_KEY_ID", "S3RVER");
  s3.secret_access_key = env_or("AWS_SECRET_ACCESS_KEY", "S3RVER");
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointStorage> remote, open_s3_storage(s3));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> dir, ScratchDir::create(options.dir));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointStorage> local,
                               open_directory_storage({.path = dir->subdirectory("chk")}));
  if (options.progress) std::cerr << "s3: generating " << options.keys << " entries\n";
  const Dataset data(options.keys);
  const Entries entries = make_entries(data);
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBackend> backend, filled_backend(entries));

  uint64_t bytes = 0;
  auto checkpoint_into = [&](CheckpointStorage& storage) {
    return [&](int) -> Result<Sample> {
      STREAMSTATE_RETURN_IF_ERROR(clear_storage(storage));
      Stopwatch watch;
      STREAMSTATE_ASSIGN_OR_RETURN(CheckpointInfo info, write_checkpoint(*backend, storage, {}));
      bytes = info.bytes_written;
      return Sample{watch.seconds(), info.entries, 0};
    };
  };
  CaseSpec write_spec{"s3/checkpoint", "the same checkpoint into a local directory", false};
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult written,
                               measure_case(options, write_spec, checkpoint_into(*remote), checkpoint_into(*local)));
  backend.reset();
  auto restore_from = [&](CheckpointStorage& storage) {
    return [&](int) -> Result<Sample> {
      STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBackend> target, MemoryBackend::open({}));
      Stopwatch watch;
      STREAMSTATE_ASSIGN_OR_RETURN(RestoreInfo info, restore_latest_checkpoint(storage, *target, {}));
      return Sample{watch.seconds(), info.entries, info.entries};
    };
  };
  CaseSpec restore_spec{"s3/restore", "the same restore from a local directory", true};
  STREAMSTATE_ASSIGN_OR_RETURN(CaseResult restored,
                               measure_case(options, restore_spec, restore_from(*remote), restore_from(*local)));
  const double mb = static_cast<double>(bytes) / 1e6;
  std::cerr << "  s3: checkpoint of " << bytes << " bytes: " << mb * written.value / double(entries.keys.size())
            << " MB/s to S3, " << mb * written.baseline_value / double(entries.keys.size())
            << " MB/s to the directory; restore " << mb * restored.value / double(entries.keys.size())
            << " MB/s from S3, " << mb * restored.baseline_value / double(entries.keys.size())
            << " MB/s from the directory\n";
  STREAMSTATE_RETURN_IF_ERROR(clear_storage(*remote));
  if (options.selects(written.name)) results.push_back(std::move(written));
  if (options.selects(restored.name)) results.push_back(std::move(restored));
  return Status::ok();
}

const SuiteRegistration kS3Suite("s3", "full checkpoints to and restores from S3-compatible storage vs a local directory",
                                 &run_s3_suite);

}  // namespace
}  // namespace streamstate::bench
