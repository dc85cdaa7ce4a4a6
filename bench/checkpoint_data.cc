// The checkpoint benchmarks' state and helpers.
#include "checkpoint_data.h"

#include "streamstate/key_group.h"
#include "streamstate/write_batch.h"
#include "util/status_macros.h"

namespace streamstate::bench {

Entries make_entries(const Dataset& data) {
  static const std::string kTail = R"(,"region":"eu-west","status":"active","n":0000})";
  Entries entries;
  entries.keys.reserve(data.size());
  entries.values.reserve(data.size());
  for (uint64_t i = 0; i < data.size(); ++i) {
    std::string key;
    put_fixed16_big_endian(key, static_cast<uint16_t>(key_group_for_key(data.key(i), kCheckpointMaxParallelism)));
    key.append(data.key(i));
    std::string value(data.value(i).substr(0, 50));
    value.append(kTail.substr(0, 50));
    entries.logical_bytes += key.size() + value.size();
    entries.keys.push_back(std::move(key));
    entries.values.push_back(std::move(value));
  }
  return entries;
}

Result<std::unique_ptr<MemoryBackend>> filled_backend(const Entries& entries, bool track_changes) {
  MemoryBackendOptions memory;
  memory.track_changes = track_changes;
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBackend> backend, MemoryBackend::open(memory));
  STREAMSTATE_RETURN_IF_ERROR(backend->column("state").status());
  WriteBatch batch;
  for (size_t i = 0; i < entries.keys.size(); ++i) {
    batch.put("state", entries.keys[i], entries.values[i]);
    if (batch.size() == 1000 || i + 1 == entries.keys.size()) {
      STREAMSTATE_RETURN_IF_ERROR(backend->write(batch));
      batch.clear();
    }
  }
  return backend;
}

Status clear_storage(CheckpointStorage& storage) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, storage.list(""));
  for (const StoredObject& object : objects) STREAMSTATE_RETURN_IF_ERROR(storage.remove(object.name));
  return Status::ok();
}

}  // namespace streamstate::bench
