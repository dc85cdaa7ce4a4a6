#include "runtime/prefixed_storage.h"

#include <utility>

#include "util/status_macros.h"

namespace streamstate::detail {
namespace {

// A writer whose name() is the short name its creator asked for.
class PrefixedWriter final : public StorageWriter {
 public:
  PrefixedWriter(std::unique_ptr<StorageWriter> inner, std::string name)
      : inner_(std::move(inner)), name_(std::move(name)) {}
  Status append(BytesView data) override { return inner_->append(data); }
  Status sync() override { return inner_->sync(); }
  Status commit() override { return inner_->commit(); }
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return inner_->size(); }

 private:
  std::unique_ptr<StorageWriter> inner_;
  std::string name_;
};

}  // namespace

PrefixedStorage::PrefixedStorage(CheckpointStorage& inner, std::string prefix)
    : inner_(inner), prefix_(std::move(prefix)) {}

PrefixedStorage::PrefixedStorage(std::shared_ptr<CheckpointStorage> inner, std::string prefix)
    : owner_(std::move(inner)), inner_(*owner_), prefix_(std::move(prefix)) {}

Result<std::unique_ptr<StorageWriter>> PrefixedStorage::create(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StorageWriter> writer, inner_.create(full(name)));
  return std::unique_ptr<StorageWriter>(std::make_unique<PrefixedWriter>(std::move(writer), std::string(name)));
}

Result<std::string> PrefixedStorage::read(std::string_view name) { return inner_.read(full(name)); }

Result<std::string> PrefixedStorage::read_range(std::string_view name, uint64_t offset, uint64_t length) {
  return inner_.read_range(full(name), offset, length);
}

Result<std::vector<StoredObject>> PrefixedStorage::list(std::string_view prefix) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_prefix(prefix));
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, inner_.list(full(prefix)));
  for (StoredObject& object : objects) object.name.erase(0, prefix_.size());
  return objects;
}

Result<bool> PrefixedStorage::exists(std::string_view name) { return inner_.exists(full(name)); }

Status PrefixedStorage::remove(std::string_view name) { return inner_.remove(full(name)); }

Status PrefixedStorage::remove_incomplete() { return inner_.remove_incomplete(); }

std::string PrefixedStorage::describe() const { return inner_.describe() + ", folder " + prefix_; }

}  // namespace streamstate::detail
