// The fault-injecting CheckpointStorage wrapper.
#include "storage/fault_injecting_storage.h"

#include <algorithm>
#include <utility>

#include "storage/object_name.h"
#include "util/status_macros.h"

namespace streamstate::storage {
namespace {

const char* operation_name(StorageOperation operation) {
  switch (operation) {
    case StorageOperation::kAppend: return "append";
    case StorageOperation::kSync: return "sync";
    case StorageOperation::kCommit: return "commit";
  }
  return "?";
}

}  // namespace

class FaultWriter final : public StorageWriter {
 public:
  FaultWriter(FaultInjectingStorage* storage, std::unique_ptr<StorageWriter> inner)
      : storage_(storage), inner_(std::move(inner)), name_(inner_->name()) {}
  FaultWriter(const FaultWriter&) = delete;
  FaultWriter& operator=(const FaultWriter&) = delete;
  ~FaultWriter() override { storage_->writer_closed(this); }

  Status append(BytesView data) override {
    STREAMSTATE_RETURN_IF_ERROR(check_alive());
    std::optional<FaultInjectingStorage::Fault> fault = storage_->next_call(StorageOperation::kAppend);
    if (fault && fault->kind == FaultInjectingStorage::FaultKind::kShortWrite) {
      STREAMSTATE_RETURN_IF_ERROR(inner_->append(data.substr(0, std::min(fault->keep_bytes, data.size()))));
    }
    if (fault) return fired(*fault);
    return inner_->append(data);
  }
  Status sync() override {
    STREAMSTATE_RETURN_IF_ERROR(check_alive());
    if (auto fault = storage_->next_call(StorageOperation::kSync)) return fired(*fault);
    return inner_->sync();
  }
  Status commit() override {
    STREAMSTATE_RETURN_IF_ERROR(check_alive());
    if (auto fault = storage_->next_call(StorageOperation::kCommit)) return fired(*fault);
    return inner_->commit();
  }
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return inner_ != nullptr ? inner_->size() : 0; }

  void cut_off() { cut_off_.store(true); }

 private:
  // A writer cut off by a crash drops its inner writer (uncommitted, so nothing appears).
  Status check_alive() {
    if (!cut_off_.load()) return Status::ok();
    inner_.reset();
    return Status::io_error(object_label(name_) + " was being written when " + storage_->describe() + " crashed");
  }
  Status fired(const FaultInjectingStorage::Fault& fault) {
    if (fault.kind == FaultInjectingStorage::FaultKind::kCrash) {
      storage_->crash();
      inner_.reset();
    }
    std::string what = fault.kind == FaultInjectingStorage::FaultKind::kShortWrite ? "short write"
                       : fault.kind == FaultInjectingStorage::FaultKind::kCrash    ? "crash"
                                                                                     : "failure";
    return Status::io_error("injected " + what + " at " + operation_name(fault.operation) + " call #" +
                            std::to_string(fault.at_call) + " writing " + object_label(name_) + " in " +
                            storage_->describe());
  }

  FaultInjectingStorage* storage_;
  std::unique_ptr<StorageWriter> inner_;
  std::string name_;
  std::atomic<bool> cut_off_{false};
};

FaultInjectingStorage::FaultInjectingStorage(std::shared_ptr<CheckpointStorage> inner) : inner_(std::move(inner)) {}
FaultInjectingStorage::~FaultInjectingStorage() = default;

void FaultInjectingStorage::fail_nth(StorageOperation operation, uint64_t n) {
  std::lock_guard lock(mutex_);
  armed_.push_back(Fault{operation, calls_[static_cast<size_t>(operation)] + n, FaultKind::kFail, 0});
}

void FaultInjectingStorage::short_write_nth(uint64_t n, size_t keep_bytes) {
  std::lock_guard lock(mutex_);
  armed_.push_back(Fault{StorageOperation::kAppend, calls_[0] + n, FaultKind::kShortWrite, keep_bytes});
}

void FaultInjectingStorage::crash_at(StorageOperation operation, uint64_t n) {
  std::lock_guard lock(mutex_);
  armed_.push_back(Fault{operation, calls_[static_cast<size_t>(operation)] + n, FaultKind::kCrash, 0});
}

void FaultInjectingStorage::disarm() {
  std::lock_guard lock(mutex_);
  armed_.clear();
}

void FaultInjectingStorage::crash() {
  std::lock_guard lock(mutex_);
  crashed_.store(true);
  for (FaultWriter* writer : open_writers_) writer->cut_off();
  open_writers_.clear();
}

void FaultInjectingStorage::restart() { crashed_.store(false); }

uint64_t FaultInjectingStorage::calls(StorageOperation operation) const {
  std::lock_guard lock(mutex_);
  return calls_[static_cast<size_t>(operation)];
}

std::optional<FaultInjectingStorage::Fault> FaultInjectingStorage::next_call(StorageOperation operation) {
  std::lock_guard lock(mutex_);
  uint64_t call = ++calls_[static_cast<size_t>(operation)];
  auto it = std::find_if(armed_.begin(), armed_.end(),
                         [&](const Fault& fault) { return fault.operation == operation && fault.at_call == call; });
  if (it == armed_.end()) return std::nullopt;
  Fault fault = *it;
  armed_.erase(it);
  return fault;
}

void FaultInjectingStorage::writer_closed(FaultWriter* writer) {
  std::lock_guard lock(mutex_);
  open_writers_.erase(writer);
}

Status FaultInjectingStorage::check_running() const {
  if (!crashed_.load()) return Status::ok();
  return Status::io_error(describe() + " crashed; call restart() to use it again");
}

Result<std::unique_ptr<StorageWriter>> FaultInjectingStorage::create(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(check_running());
  STREAMSTATE_ASSIGN_OR_RETURN(auto inner, inner_->create(name));
  auto writer = std::make_unique<FaultWriter>(this, std::move(inner));
  std::lock_guard lock(mutex_);
  open_writers_.insert(writer.get());
  return std::unique_ptr<StorageWriter>(std::move(writer));
}

Result<std::string> FaultInjectingStorage::read(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(check_running());
  return inner_->read(name);
}

Result<std::string> FaultInjectingStorage::read_range(std::string_view name, uint64_t offset, uint64_t length) {
  STREAMSTATE_RETURN_IF_ERROR(check_running());
  return inner_->read_range(name, offset, length);
}

Result<std::vector<StoredObject>> FaultInjectingStorage::list(std::string_view prefix) {
  STREAMSTATE_RETURN_IF_ERROR(check_running());
  return inner_->list(prefix);
}

Result<bool> FaultInjectingStorage::exists(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(check_running());
  return inner_->exists(name);
}

Status FaultInjectingStorage::remove(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(check_running());
  return inner_->remove(name);
}

Status FaultInjectingStorage::remove_incomplete() {
  STREAMSTATE_RETURN_IF_ERROR(check_running());
  return inner_->remove_incomplete();
}

std::string FaultInjectingStorage::describe() const { return "fault-injecting " + inner_->describe(); }

Status FaultInjectingStorage::rewrite(std::string_view name, std::string content) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto writer, inner_->create(name));
  STREAMSTATE_RETURN_IF_ERROR(writer->append(content));
  return writer->commit();
}

Status FaultInjectingStorage::truncate_object(std::string_view name, uint64_t size) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::string content, inner_->read(name));
  if (size > content.size()) return range_past_end(name, 0, size, content.size(), describe());
  content.resize(size);
  return rewrite(name, std::move(content));
}

Status FaultInjectingStorage::flip_byte(std::string_view name, uint64_t offset, uint8_t mask) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::string content, inner_->read(name));
  if (offset >= content.size()) return range_past_end(name, offset, 1, content.size(), describe());
  content[offset] = static_cast<char>(static_cast<uint8_t>(content[offset]) ^ mask);
  return rewrite(name, std::move(content));
}

}  // namespace streamstate::storage
