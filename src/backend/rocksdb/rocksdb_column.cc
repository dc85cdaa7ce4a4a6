#include "backend/rocksdb/rocksdb_column.h"

#include "core/printable.h"

#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <mutex>
#include <optional>

#include "backend/rocksdb/rocksdb_status.h"
#include "util/status_macros.h"

namespace streamstate::internal {

bool prefix_upper_bound(BytesView prefix, std::string& bound) {
  bound.assign(prefix);
  while (!bound.empty()) {
    const auto last = static_cast<unsigned char>(bound.back());
    if (last != 0xff) {
      bound.back() = static_cast<char>(last + 1);
      return true;
    }
    bound.pop_back();
  }
  return false;
}

Status RocksDbColumn::check_usable() const {
  if (engine_->closed()) return engine_->closed_status();
  if (entry_->dropped) {
    return Status::not_found(engine_->describe(entry_->name) +
                             " was dropped; call column() again to create it anew");
  }
  return Status::ok();
}

Status RocksDbColumn::error(const rocksdb::Status& status, const char* operation, BytesView key) const {
  return from_rocksdb(status, std::string(operation) + " of key '" + escape_bytes(key) + "' in " +
                                  engine_->describe(entry_->name));
}

Result<bool> RocksDbColumn::get_into(BytesView key, std::string& value) {
  auto hold = engine_->hold_shared();
  if (Status usable = check_usable(); !usable.is_ok()) return usable;
  return lookup_result(engine_->db()->Get(engine_->read_options(), entry_->handle, to_slice(key), &value), "get",
                       key);
}

Result<bool> RocksDbColumn::contains(BytesView key) {
  auto hold = engine_->hold_shared();
  if (Status usable = check_usable(); !usable.is_ok()) return usable;
  // A pinnable slice points into the block cache or memtable: nothing is copied.
  rocksdb::PinnableSlice value;
  return lookup_result(engine_->db()->Get(engine_->read_options(), entry_->handle, to_slice(key), &value),
                       "contains", key);
}

Result<bool> RocksDbColumn::lookup_result(const rocksdb::Status& status, const char* operation, BytesView key) const {
  if (status.ok()) {
    engine_->counters().add(OperationCounters::kHits);
    return true;
  }
  if (status.IsNotFound()) {
    engine_->counters().add(OperationCounters::kMisses);
    return false;
  }
  return error(status, operation, key);
}

Status RocksDbColumn::put(BytesView key, BytesView value) {
  auto hold = engine_->hold_shared();
  STREAMSTATE_RETURN_IF_ERROR(check_usable());
  rocksdb::Status status =
      engine_->db()->Put(engine_->write_options(), entry_->handle, to_slice(key), to_slice(value));
  if (!status.ok()) return error(status, "put", key);
  engine_->counters().add(OperationCounters::kPuts);
  return Status::ok();
}

Status RocksDbColumn::remove(BytesView key) {
  auto hold = engine_->hold_shared();
  STREAMSTATE_RETURN_IF_ERROR(check_usable());
  rocksdb::Status status = engine_->db()->Delete(engine_->write_options(), entry_->handle, to_slice(key));
  if (!status.ok()) return error(status, "remove", key);
  engine_->counters().add(OperationCounters::kRemoves);
  return Status::ok();
}

Status RocksDbColumn::update(BytesView key, const UpdateFunction& fn) {
  auto hold = engine_->hold_shared();
  STREAMSTATE_RETURN_IF_ERROR(check_usable());
  rocksdb::DB* db = engine_->db();
  std::lock_guard<std::mutex> key_lock(engine_->update_mutex(*entry_, key));
  rocksdb::PinnableSlice current;
  rocksdb::Status status = db->Get(engine_->read_options(), entry_->handle, to_slice(key), &current);
  if (!status.ok() && !status.IsNotFound()) return error(status, "update (read)", key);
  const bool found = status.ok();
  std::optional<std::string> next =
      fn(found ? std::optional<BytesView>(to_view(current)) : std::optional<BytesView>());
  if (next.has_value()) {
    status = db->Put(engine_->write_options(), entry_->handle, to_slice(key), to_slice(*next));
    if (!status.ok()) return error(status, "update (put)", key);
    engine_->counters().add(OperationCounters::kPuts);
  } else if (found) {
    status = db->Delete(engine_->write_options(), entry_->handle, to_slice(key));
    if (!status.ok()) return error(status, "update (remove)", key);
    engine_->counters().add(OperationCounters::kRemoves);
  }
  return Status::ok();
}

Status RocksDbColumn::scan(BytesView prefix, const ScanVisitor& visitor) {
  std::string upper_bound;
  rocksdb::Slice upper_bound_slice;
  rocksdb::ReadOptions read = engine_->read_options();
  if (prefix_upper_bound(prefix, upper_bound)) {
    // Lets RocksDB stop at the end of the prefix instead of reading one block past it.
    upper_bound_slice = to_slice(upper_bound);
    read.iterate_upper_bound = &upper_bound_slice;
  }
  // Declared first so that it is destroyed last: the iterator must be gone before the scan
  // stops counting as active, because close() deletes the DB then.
  std::optional<RocksDbEngine::ActiveScan> active;
  std::unique_ptr<rocksdb::Iterator> iterator;
  {
    auto hold = engine_->hold_shared();
    STREAMSTATE_RETURN_IF_ERROR(check_usable());
    iterator.reset(engine_->db()->NewIterator(read, entry_->handle));
    // From here close() waits for this scan, so the iterator may outlive the hold.
    active.emplace(*engine_);
  }
  engine_->counters().add(OperationCounters::kScans);
  Status result;
  for (iterator->Seek(to_slice(prefix)); iterator->Valid(); iterator->Next()) {
    const BytesView key = to_view(iterator->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (engine_->closing()) {
      result = engine_->closed_status();
      break;
    }
    if (!visitor(key, to_view(iterator->value()))) break;
  }
  if (result.is_ok() && !iterator->status().ok()) {
    result = from_rocksdb(iterator->status(), "scan of " + engine_->describe(entry_->name) +
                                                  " with prefix '" + escape_bytes(prefix) + "'");
  }
  return result;
}

Status RocksDbColumn::clear() {
  auto hold = engine_->hold_shared();
  STREAMSTATE_RETURN_IF_ERROR(check_usable());
  rocksdb::DB* db = engine_->db();
  // The bytewise key space has no largest key, so the range ends at the current last key,
  // deleted on its own; one batch makes both deletions land together.
  std::string last_key;
  {
    std::unique_ptr<rocksdb::Iterator> iterator(db->NewIterator(engine_->read_options(), entry_->handle));
    iterator->SeekToLast();
    if (!iterator->status().ok()) {
      return from_rocksdb(iterator->status(), "clear of " + engine_->describe(entry_->name));
    }
    if (!iterator->Valid()) return Status::ok();
    last_key.assign(iterator->key().data(), iterator->key().size());
  }
  rocksdb::WriteBatch batch;
  rocksdb::Status status;
  if (!last_key.empty()) status = batch.DeleteRange(entry_->handle, rocksdb::Slice(), to_slice(last_key));
  if (status.ok()) status = batch.Delete(entry_->handle, to_slice(last_key));
  if (status.ok()) status = db->Write(engine_->write_options(), &batch);
  return from_rocksdb(status, "clear of " + engine_->describe(entry_->name));
}

}  // namespace streamstate::internal
