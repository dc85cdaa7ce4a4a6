// A view of a CheckpointStorage under a folder: names given to it are stored under `prefix`
// (which ends with '/'), so each keyed instance of a pipeline keeps its state checkpoints in
// its own folder ("state/count/0/chk-7/...") with the ordinary checkpoint functions.
//
// Thread-safety: as the underlying storage. It must outlive the view.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/checkpoint_storage.h"

namespace streamstate::detail {

class PrefixedStorage final : public CheckpointStorage {
 public:
  PrefixedStorage(CheckpointStorage& inner, std::string prefix);
  // Keeps `inner` alive as long as the view.
  PrefixedStorage(std::shared_ptr<CheckpointStorage> inner, std::string prefix);

  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override;
  Result<std::string> read(std::string_view name) override;
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override;
  Result<std::vector<StoredObject>> list(std::string_view prefix) override;
  Result<bool> exists(std::string_view name) override;
  Status remove(std::string_view name) override;
  // Removes the leftovers of the whole underlying storage (it cannot tell whose they are).
  Status remove_incomplete() override;
  std::string describe() const override;

 private:
  std::string full(std::string_view name) const { return prefix_ + std::string(name); }
  std::shared_ptr<CheckpointStorage> owner_;
  CheckpointStorage& inner_;
  std::string prefix_;
};

}  // namespace streamstate::detail
