#include "checkpoint/rocksdb/native_catalog.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>

#include <algorithm>
#include <cstdarg>
#include <memory>

#include "backend/rocksdb/expiry_compaction_filter.h"
#include "backend/rocksdb/rocksdb_engine.h"
#include "backend/rocksdb/rocksdb_status.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

// Keeps RocksDB from creating a LOG file in the checkpoint directory.
class DiscardLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*args*/) override {}
};

// The streamstate column a column family holds; empty for "default" and foreign families.
std::string column_of(const std::string& family) {
  for (std::string_view prefix : {kColumnFamilyPrefix, kExpiringColumnFamilyPrefix}) {
    if (family.size() > prefix.size() && family.compare(0, prefix.size(), prefix) == 0) {
      return family.substr(prefix.size());
    }
  }
  return {};
}

class FamilyIterator final : public SnapshotIterator {
 public:
  FamilyIterator(std::unique_ptr<rocksdb::Iterator> it, std::string prefix)
      : it_(std::move(it)), prefix_(std::move(prefix)) {
    it_->Seek(prefix_);
  }
  bool valid() const override { return it_->Valid() && it_->key().starts_with(prefix_); }
  BytesView key() const override { return to_view(it_->key()); }
  BytesView value() const override { return to_view(it_->value()); }
  void next() override { it_->Next(); }
  Status status() const override { return from_rocksdb(it_->status(), "reading a native RocksDB checkpoint"); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
};

// The "_ss.states" family of the read-only checkpoint, seen as a snapshot with one column.
class StoreRecordsView final : public BackendSnapshot {
 public:
  StoreRecordsView(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) : db_(db), family_(family) {
    if (family_ != nullptr) columns_.emplace_back(kStoreRecordsColumn);
  }
  const std::vector<std::string>& columns() const override { return columns_; }
  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override {
    if (family_ == nullptr || column != kStoreRecordsColumn) {
      return Status::not_found("column '" + std::string(column) + "' is not read from a native checkpoint");
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_));
    return std::unique_ptr<SnapshotIterator>(std::make_unique<FamilyIterator>(std::move(it), std::string(prefix)));
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* family_;
  std::vector<std::string> columns_;
};

}  // namespace

Result<NativeCatalog> read_native_catalog(const std::string& directory) {
  const std::string context = "reading the native RocksDB checkpoint in '" + directory + "'";
  rocksdb::DBOptions db_options;
  db_options.info_log = std::make_shared<DiscardLogger>();
  std::vector<std::string> families;
  rocksdb::Status status = rocksdb::DB::ListColumnFamilies(db_options, directory, &families);
  if (!status.ok()) return from_rocksdb(status, context);
  NativeCatalog catalog;
  const std::string store_family = std::string(kColumnFamilyPrefix) + std::string(kStoreRecordsColumn);
  // Read-only opens may name a subset of the families: "default" and "_ss.states" suffice.
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors{{rocksdb::kDefaultColumnFamilyName, {}}};
  for (const std::string& family : families) {
    std::string column = column_of(family);
    if (!column.empty() && family.starts_with(kExpiringColumnFamilyPrefix)) catalog.expiring_columns.insert(column);
    if (!column.empty()) catalog.columns.push_back(std::move(column));
    if (family == store_family) descriptors.emplace_back(family, rocksdb::ColumnFamilyOptions());
  }
  std::sort(catalog.columns.begin(), catalog.columns.end());
  catalog.columns.erase(std::unique(catalog.columns.begin(), catalog.columns.end()), catalog.columns.end());

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  status = rocksdb::DB::OpenForReadOnly(db_options, directory, descriptors, &handles, &raw);
  if (!status.ok()) return from_rocksdb(status, context);
  std::unique_ptr<rocksdb::DB> db(raw);
  Result<StoreCatalog> store = [&]() -> Result<StoreCatalog> {
    StoreRecordsView view(db.get(), handles.size() > 1 ? handles[1] : nullptr);
    return read_store_catalog(view);
  }();
  for (rocksdb::ColumnFamilyHandle* handle : handles) (void)db->DestroyColumnFamilyHandle(handle);
  if (!store.is_ok()) return store.status().with_context(context);
  catalog.store = std::move(store).value();
  return catalog;
}

}  // namespace streamstate::internal
