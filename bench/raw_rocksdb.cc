// RawRocksDb and the bench's RocksDbBackend options (raw_rocksdb.h).
#include "raw_rocksdb.h"

#if STREAMSTATE_HAS_ROCKSDB

#include "backend/rocksdb/rocksdb_status.h"
#include "util/status_macros.h"

namespace streamstate::bench {

RocksDbBackendOptions backend_options_at(const std::string& path) {
  RocksDbBackendOptions options;
  options.path = path;
  return options;
}

Status RawRocksDb::open(const std::string& path, const std::vector<std::string>& column_families) {
  STREAMSTATE_ASSIGN_OR_RETURN(native, internal::make_rocksdb_options(backend_options_at(path)));
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, native.column_family}};
  for (const std::string& name : column_families) families.emplace_back(name, native.column_family);
  rocksdb::DB* raw = nullptr;
  STREAMSTATE_RETURN_IF_ERROR(
      internal::from_rocksdb(rocksdb::DB::Open(native.db, path, families, &handles, &raw),
                             "opening the baseline rocksdb::DB at " + path));
  db.reset(raw);
  return Status::ok();
}

Status RawRocksDb::close() {
  if (!db) return Status::ok();
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    STREAMSTATE_RETURN_IF_ERROR(internal::from_rocksdb(db->DestroyColumnFamilyHandle(handle), "baseline"));
  }
  handles.clear();
  Status status = internal::from_rocksdb(db->Close(), "closing the baseline rocksdb::DB");
  db.reset();
  return status;
}

}  // namespace streamstate::bench

#endif  // STREAMSTATE_HAS_ROCKSDB
