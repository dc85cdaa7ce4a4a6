// The storages that run the conformance suite.
#include <memory>
#include <stdexcept>

#include "storage/fault_injecting_storage.h"
#include "storage/memory_storage.h"
#include "conformance/storage/storage_conformance.h"
#include "testutil/s3_server.h"
#include "testutil/temp_dir.h"
#include "streamstate/local_recovery.h"

namespace streamstate::testing {
namespace {

std::shared_ptr<CheckpointStorage> make_directory_storage() {
  auto directory = std::make_shared<TempDir>();
  auto storage = open_directory_storage(DirectoryStorageOptions{.path = directory->file("checkpoints")});
  if (!storage.is_ok()) throw std::runtime_error(storage.status().to_string());
  return std::shared_ptr<CheckpointStorage>(std::move(storage).value().release(),
                                            [directory](CheckpointStorage* s) { delete s; });
}

// A 4 KiB write buffer, so that large objects cross it many times.
std::shared_ptr<CheckpointStorage> make_small_buffer_directory_storage() {
  auto directory = std::make_shared<TempDir>();
  auto storage = open_directory_storage(
      DirectoryStorageOptions{.path = directory->path().string(), .write_buffer_bytes = 4096});
  if (!storage.is_ok()) throw std::runtime_error(storage.status().to_string());
  return std::shared_ptr<CheckpointStorage>(std::move(storage).value().release(),
                                            [directory](CheckpointStorage* s) { delete s; });
}

// A fresh bucket of the shared s3rver; nullptr after recording a skip when s3rver is missing
// and STREAMSTATE_S3_TESTS_OPTIONAL=1.
std::shared_ptr<CheckpointStorage> make_s3_storage(bool small_pieces) {
  S3Server* server = shared_s3_server_or_skip();
  if (server == nullptr) return nullptr;
  auto bucket = server->create_fresh_bucket();
  if (!bucket.is_ok()) throw std::runtime_error(bucket.status().to_string());
  S3StorageOptions options = server->options(*bucket);
  if (small_pieces) {
    // Under a prefix, multipart from 256 KiB in 100 KiB parts, reads in 64 KiB ranged GETs:
    // the large-object and replacement cases cross every piece boundary.
    options.prefix = "jobs/orders";
    options.multipart_threshold_bytes = 256 * 1024;
    options.part_size_bytes = 100 * 1024;
    options.download_part_bytes = 64 * 1024;
    options.list_page_size = 7;
  }
  auto storage = open_s3_storage(options);
  if (!storage.is_ok()) throw std::runtime_error(storage.status().to_string());
  return std::move(storage).value();
}

// The local-recovery storage over memory, its local copy in a fresh directory.
std::shared_ptr<CheckpointStorage> make_local_recovery_storage() {
  auto directory = std::make_shared<TempDir>();
  auto storage = open_local_recovery_storage(std::make_shared<storage::MemoryStorage>(),
                                             LocalRecoveryOptions{.path = directory->file("local")});
  if (!storage.is_ok()) throw std::runtime_error(storage.status().to_string());
  return std::shared_ptr<CheckpointStorage>(std::move(storage).value().release(),
                                            [directory](CheckpointStorage* s) { delete s; });
}

INSTANTIATE_TEST_SUITE_P(
    Storages, StorageConformance,
    ::testing::Values(
        StorageFactory{"directory", make_directory_storage},
        StorageFactory{"directory_small_buffer", make_small_buffer_directory_storage},
        StorageFactory{"memory", [] { return std::make_shared<storage::MemoryStorage>(); }},
        StorageFactory{"faults_over_memory",
                       [] {
                         return std::make_shared<storage::FaultInjectingStorage>(
                             std::make_shared<storage::MemoryStorage>());
                       }},
        StorageFactory{"faults_over_directory",
                       [] { return std::make_shared<storage::FaultInjectingStorage>(make_directory_storage()); }},
        StorageFactory{"local_recovery_over_memory", make_local_recovery_storage},
        StorageFactory{"s3", [] { return make_s3_storage(false); }},
        StorageFactory{"s3_prefix_small_pieces", [] { return make_s3_storage(true); }}),
    [](const ::testing::TestParamInfo<StorageFactory>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace streamstate::testing
