// The state backends of keyed operator instances: memory_state() and rocksdb_state().
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "streamstate/config.h"
#include "streamstate/pipeline.h"
#include "util/status_macros.h"
#if STREAMSTATE_HAS_ROCKSDB
#include "streamstate/rocksdb.h"
#endif

namespace streamstate {

StateBackendFactory memory_state(MemoryBackendOptions options) {
  options.concurrent_reads = false;  // each instance's backend is used by its own thread
  return [options](const StateBackendRequest&) -> Result<std::shared_ptr<StateBackend>> {
    STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBackend> backend, MemoryBackend::open(options));
    return std::shared_ptr<StateBackend>(std::move(backend));
  };
}

StateBackendFactory rocksdb_state(std::string directory) {
  return [directory](const StateBackendRequest& request) -> Result<std::shared_ptr<StateBackend>> {
#if STREAMSTATE_HAS_ROCKSDB
    const std::filesystem::path path =
        std::filesystem::path(directory) / (request.operator_name + "-" + std::to_string(request.instance));
    std::error_code error;
    std::filesystem::remove_all(path, error);
    if (error) {
      return Status::io_error("cannot clear the state directory " + path.string() + " of operator '" +
                              request.operator_name + "': " + error.message());
    }
    std::filesystem::create_directories(path.parent_path(), error);
    RocksDbBackendOptions options;
    options.path = path.string();
    STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> backend, RocksDbBackend::open(options));
    return std::shared_ptr<StateBackend>(std::move(backend));
#else
    (void)request;
    return Status::invalid_argument("rocksdb_state(\"" + directory +
                                    "\"): this streamstate was built without RocksDB; use memory_state()");
#endif
  };
}

}  // namespace streamstate
