// The storages that run the conformance suite.
#include <memory>
#include <stdexcept>

#include "storage/fault_injecting_storage.h"
#include "storage/memory_storage.h"
#include "conformance/storage/storage_conformance.h"
#include "testutil/temp_dir.h"

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
                       [] { return std::make_shared<storage::FaultInjectingStorage>(make_directory_storage()); }}),
    [](const ::testing::TestParamInfo<StorageFactory>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace streamstate::testing
