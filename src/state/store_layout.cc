#include "state/store_layout.h"

#include <optional>
#include <string>

#include "state/state_record.h"
#include "util/status_macros.h"

namespace streamstate::internal {

namespace {

Status check_layout(const LayoutRecord& stored, uint32_t max_parallelism) {
  const std::string opened = std::to_string(max_parallelism);
  const std::string recorded = std::to_string(stored.max_parallelism);
  if (stored.key_group_hash != kKeyGroupHashName) {
    return Status::failed_precondition(
        "the backend's keyed state was written with key-group hash '" + stored.key_group_hash +
        "', this build computes key groups with '" + std::string(kKeyGroupHashName) +
        "'; its keys cannot be found with this build: open it with the streamstate version that wrote it");
  }
  if (stored.rescale_target != 0) {
    return Status::failed_precondition(
        "the backend's keyed state is being rescaled from max_parallelism " + recorded + " to " +
        std::to_string(stored.rescale_target) + " and the rescale did not finish; run rescale_keyed_state(backend, " +
        recorded + ", " + std::to_string(stored.rescale_target) + ") again to complete it");
  }
  if (stored.max_parallelism != max_parallelism) {
    return Status::failed_precondition(
        "KeyedStateStoreOptions.max_parallelism is " + opened + " but the backend's keyed state was written with "
        "max_parallelism " + recorded + "; under " + opened + " every key maps to another key group and the "
        "stored state would be invisible. Open the store with max_parallelism = " + recorded +
        ", or rescale the stored state offline first: rescale_keyed_state(backend, " + recorded + ", " + opened +
        ") (streamstate/rescale.h)");
  }
  return Status::ok();
}

}  // namespace

Status check_or_record_layout(StateColumn& states, uint32_t max_parallelism) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, states.get(kLayoutKey));
  if (!bytes.has_value()) {
    // Insert if still absent; otherwise keep (and check) what another store recorded first.
    const std::string fresh = encode_layout_record(LayoutRecord{.max_parallelism = max_parallelism});
    STREAMSTATE_RETURN_IF_ERROR(states.update(kLayoutKey, [&](std::optional<BytesView> current) {
      bytes = current.has_value() ? std::string(*current) : fresh;
      return bytes;
    }));
  }
  STREAMSTATE_ASSIGN_OR_RETURN(const LayoutRecord stored, decode_layout_record(*bytes));
  return check_layout(stored, max_parallelism);
}

}  // namespace streamstate::internal
