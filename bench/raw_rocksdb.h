// The RocksDB configuration both sides of the rocksdb/* cases share: the RocksDbBackend options
// the bench uses, and RawRocksDb, a plain rocksdb::DB opened with exactly the RocksDB options
// the backend derives from them (internal::make_rocksdb_options), one column family per backend
// column plus the default one, so the baseline differs from our side only in the code above
// RocksDB.
//
// Thread-safety: a RawRocksDb is opened, used and closed by one thread.
#pragma once

#include "streamstate/config.h"

#if STREAMSTATE_HAS_ROCKSDB

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "backend/rocksdb/rocksdb_options.h"
#include "streamstate/rocksdb.h"
#include "streamstate/status.h"

namespace streamstate::bench {

// RocksDbBackend options for a database at `path`: the library defaults otherwise.
RocksDbBackendOptions backend_options_at(const std::string& path);

struct RawRocksDb {
  internal::RocksDbNativeOptions native;  // also the read and write options to use
  std::unique_ptr<rocksdb::DB> db;
  // The default column family, then those named to open() in their order.
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  // Opens (creating if missing) the database at `path` with the RocksDB options
  // RocksDbBackend would use there, and the column families `column_families`.
  Status open(const std::string& path, const std::vector<std::string>& column_families);
  // Releases the column family handles and closes the database; does nothing when not open.
  Status close();
};

}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_ROCKSDB
