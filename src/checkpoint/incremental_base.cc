// The base of an incremental checkpoint, or the reason for a full one.
#include "checkpoint/incremental_base.h"

#include <charconv>

#include "checkpoint/checkpoint_names.h"

namespace streamstate::internal {

std::string change_base_label(const CheckpointStorage& storage, CheckpointId id) {
  return storage.describe() + "#" + std::to_string(id);
}

IncrementalBase choose_incremental_base(CheckpointStorage& storage, const std::string& label,
                                        const IncrementalOptions& options, uint32_t max_parallelism,
                                        KeyGroupRange key_groups) {
  IncrementalBase base;
  const size_t hash = label.rfind('#');
  CheckpointId id = 0;
  if (label.empty() || hash == std::string::npos) {
    base.full_reason = "no earlier checkpoint of this backend was confirmed since it started tracking changes";
    return base;
  }
  const char* digits = label.data() + hash + 1;
  auto [end, error] = std::from_chars(digits, label.data() + label.size(), id);
  if (error != std::errc() || end != label.data() + label.size() || label.compare(0, hash, storage.describe()) != 0) {
    base.full_reason = "the last checkpoint of this backend went to another storage (" + label.substr(0, hash) + ")";
    return base;
  }
  Result<CheckpointManifest> parent = read_checkpoint(storage, id);
  if (!parent.is_ok()) {
    base.full_reason = "its base, checkpoint " + std::to_string(id) + ", cannot be read: " + parent.status().message();
    return base;
  }
  if (parent->max_parallelism != max_parallelism || parent->key_groups != key_groups) {
    base.full_reason = "its base, checkpoint " + std::to_string(id) + ", holds another key-group range";
    return base;
  }
  for (const CheckpointFile& file : parent->files) {
    if (file.content == CheckpointFileContent::kRocksDbFile) {
      base.full_reason = "its base, checkpoint " + std::to_string(id) + ", is a RocksDB native checkpoint";
      return base;
    }
  }
  const size_t chain_length = parent->parents.size() + 1;  // checkpoints in the parent's chain
  if (chain_length >= options.full_every) {
    base.full_reason = "the chain reached " + std::to_string(chain_length) + " checkpoints (IncrementalOptions::full_every " +
                       std::to_string(options.full_every) + ")";
    return base;
  }
  const CheckpointId root = parent->parents.empty() ? parent->id : parent->parents.front();
  uint64_t full_bytes = 0;
  uint64_t delta_bytes = 0;
  for (const CheckpointFile& file : parent->files) {
    (checkpoint_id_of(file.name) == root ? full_bytes : delta_bytes) += file.size;
  }
  if (static_cast<double>(delta_bytes) > options.max_delta_share * static_cast<double>(full_bytes)) {
    base.full_reason = "the chain's deltas hold " + std::to_string(delta_bytes) + " bytes, more than " +
                       "IncrementalOptions::max_delta_share of the full checkpoint's " + std::to_string(full_bytes);
    return base;
  }
  base.parent = std::move(parent).value();
  return base;
}

}  // namespace streamstate::internal
