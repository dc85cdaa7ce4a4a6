// Default implementations of optional StateBackend and BackendSnapshot methods.
#include "streamstate/backend.h"
#include "util/status_macros.h"

namespace streamstate {

Result<bool> BackendSnapshot::get(std::string_view column, BytesView key, std::string* value) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotIterator> it, iterate(column, key));
  for (; it->valid(); it->next()) {
    if (it->key() != key) continue;
    if (value != nullptr) value->assign(it->value().data(), it->value().size());
    return true;
  }
  STREAMSTATE_RETURN_IF_ERROR(it->status());
  return false;
}

Status BackendSnapshot::get_many(std::string_view column, std::span<const std::string> keys,
                                 const std::function<void(size_t index, BytesView value)>& found) {
  std::string value;
  for (size_t i = 0; i < keys.size(); ++i) {
    STREAMSTATE_ASSIGN_OR_RETURN(bool present, get(column, keys[i], &value));
    if (present) found(i, value);
  }
  return Status::ok();
}

Status StateBackend::put_entries(std::string_view column, std::span<const std::pair<BytesView, BytesView>> entries) {
  WriteBatch batch;
  for (const auto& [key, value] : entries) batch.put(column, key, value);
  return write(batch);
}

}  // namespace streamstate
