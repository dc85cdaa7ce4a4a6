// The in-memory CheckpointStorage and its crash model.
#include "storage/memory_storage.h"

#include <atomic>
#include <utility>

#include "storage/object_name.h"
#include "util/status_macros.h"

namespace streamstate::storage {

class MemoryWriter final : public StorageWriter {
 public:
  MemoryWriter(MemoryStorage* storage, std::string name) : storage_(storage), name_(std::move(name)) {}
  MemoryWriter(const MemoryWriter&) = delete;
  MemoryWriter& operator=(const MemoryWriter&) = delete;
  ~MemoryWriter() override { storage_->writer_closed(*this); }

  Status append(BytesView data) override {
    STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
    STREAMSTATE_RETURN_IF_ERROR(state_.fail(storage_->writer_append(*this, data)));
    size_ += data.size();
    return Status::ok();
  }
  Status sync() override {
    STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
    return state_.fail(storage_->writer_sync(*this));
  }
  Status commit() override {
    STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
    STREAMSTATE_RETURN_IF_ERROR(state_.fail(storage_->writer_commit(*this)));
    state_.mark_committed();
    return Status::ok();
  }
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }

 private:
  friend class MemoryStorage;
  MemoryStorage* storage_;
  std::string name_;
  WriterState state_;
  uint64_t size_ = 0;
  // Guarded by the storage's mutex, since crash() reaches them from another thread.
  std::string content_;
  size_t synced_ = 0;
  bool crashed_ = false;
};

MemoryStorage::MemoryStorage() : instance_([] {
  static std::atomic<uint64_t> instances{0};
  return ++instances;
}()) {}

MemoryStorage::~MemoryStorage() = default;

Result<std::unique_ptr<StorageWriter>> MemoryStorage::create(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  auto writer = std::make_unique<MemoryWriter>(this, std::string(name));
  std::lock_guard lock(mutex_);
  open_writers_.insert(writer.get());
  return std::unique_ptr<StorageWriter>(std::move(writer));
}

Status MemoryStorage::check_alive(const MemoryWriter& writer) const {
  if (writer.crashed_) {
    return Status::io_error(object_label(writer.name_) + " was being written when memory storage crashed");
  }
  return Status::ok();
}

Status MemoryStorage::writer_append(MemoryWriter& writer, BytesView data) {
  std::lock_guard lock(mutex_);
  STREAMSTATE_RETURN_IF_ERROR(check_alive(writer));
  writer.content_.append(data);
  return Status::ok();
}

Status MemoryStorage::writer_sync(MemoryWriter& writer) {
  std::lock_guard lock(mutex_);
  STREAMSTATE_RETURN_IF_ERROR(check_alive(writer));
  writer.synced_ = writer.content_.size();
  return Status::ok();
}

Status MemoryStorage::writer_commit(MemoryWriter& writer) {
  std::lock_guard lock(mutex_);
  STREAMSTATE_RETURN_IF_ERROR(check_alive(writer));
  writer.synced_ = writer.content_.size();
  objects_[writer.name_] = std::make_shared<const std::string>(std::move(writer.content_));
  writer.content_.clear();
  writer.synced_ = 0;
  open_writers_.erase(&writer);
  return Status::ok();
}

void MemoryStorage::writer_closed(MemoryWriter& writer) {
  std::lock_guard lock(mutex_);
  open_writers_.erase(&writer);
}

void MemoryStorage::crash() {
  std::lock_guard lock(mutex_);
  for (MemoryWriter* writer : open_writers_) {
    writer->crashed_ = true;
    if (writer->synced_ > 0) incomplete_.push_back(writer->content_.substr(0, writer->synced_));
    writer->content_.clear();
    writer->synced_ = 0;
  }
  open_writers_.clear();
}

std::vector<std::string> MemoryStorage::incomplete_contents() const {
  std::lock_guard lock(mutex_);
  return incomplete_;
}

uint64_t MemoryStorage::unsynced_bytes() const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const MemoryWriter* writer : open_writers_) total += writer->content_.size() - writer->synced_;
  return total;
}

Result<std::string> MemoryStorage::read(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  std::lock_guard lock(mutex_);
  auto it = objects_.find(name);
  if (it == objects_.end()) return object_not_found(name, describe());
  return *it->second;
}

Result<std::string> MemoryStorage::read_range(std::string_view name, uint64_t offset, uint64_t length) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  std::shared_ptr<const std::string> content;
  {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(name);
    if (it == objects_.end()) return object_not_found(name, describe());
    content = it->second;
  }
  uint64_t size = content->size();
  if (offset > size || length > size - offset) return range_past_end(name, offset, length, size, describe());
  return content->substr(offset, length);
}

Result<std::vector<StoredObject>> MemoryStorage::list(std::string_view prefix) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_prefix(prefix));
  std::vector<StoredObject> objects;
  std::lock_guard lock(mutex_);
  for (auto it = objects_.lower_bound(prefix); it != objects_.end() && it->first.starts_with(prefix); ++it) {
    objects.push_back(StoredObject{it->first, it->second->size()});
  }
  return objects;
}

Result<bool> MemoryStorage::exists(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  std::lock_guard lock(mutex_);
  return objects_.find(name) != objects_.end();
}

Status MemoryStorage::remove(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  std::lock_guard lock(mutex_);
  auto it = objects_.find(name);
  if (it != objects_.end()) objects_.erase(it);
  return Status::ok();
}

Status MemoryStorage::remove_incomplete() {
  std::lock_guard lock(mutex_);
  incomplete_.clear();
  return Status::ok();
}

}  // namespace streamstate::storage

namespace streamstate {

std::unique_ptr<CheckpointStorage> open_memory_storage() { return std::make_unique<storage::MemoryStorage>(); }

}  // namespace streamstate
