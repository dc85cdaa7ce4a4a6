// Native checkpoints of the RocksDB backend: RocksDB's own Checkpoint (the live table files
// hard-linked, MANIFEST, OPTIONS and CURRENT copied, memtables flushed first) written to a local
// directory, with each table file's globally unique id so that checkpoint storage can upload a
// table once and let later checkpoints refer to it (incremental checkpoints); and the trim of a
// restored database to the key groups an instance owns.
//
// Thread-safety: as the engine: callable from any thread while the backend is open.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backend/rocksdb/rocksdb_engine.h"
#include "streamstate/key_group.h"
#include "streamstate/rocksdb.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// RocksDbBackend::create_native_checkpoint.
Result<RocksDbCheckpointInfo> create_native_checkpoint(RocksDbEngine& engine, const std::string& directory);

// RocksDbBackend::retain_key_groups.
Status retain_key_groups(RocksDbEngine& engine, const KeyGroupRange& keep, const std::vector<std::string>& columns);

// RocksDbBackend::ingest_sorted.
Status ingest_sorted(RocksDbEngine& engine, std::string_view column,
                     const std::function<Status(const RocksDbBackend::IngestAdd& add)>& produce);

}  // namespace streamstate::internal
