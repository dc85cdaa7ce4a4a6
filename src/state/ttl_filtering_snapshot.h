// TTL cleanup strategy (a): the BackendSnapshot returned by KeyedStateStore::snapshot(). It
// wraps the backend's snapshot and, in the columns of states with a TTL and
// cleanup_in_snapshot, leaves out every entry whose expiry had passed when the snapshot was
// taken, so checkpoints built from it never contain expired state. Other columns pass
// through unchanged. A value too short to carry an expiry header stops the iteration with
// Corruption naming the state and the key.
//
// Thread-safety: like BackendSnapshot, it may be read from another thread than the one that
// took it; one iterator is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "streamstate/backend.h"

namespace streamstate::internal {

class TtlFilteringSnapshot final : public BackendSnapshot {
 public:
  // `filtered_columns`: the state columns whose expired entries are left out; `now`: the
  // time the snapshot was taken.
  TtlFilteringSnapshot(std::unique_ptr<BackendSnapshot> inner,
                       std::set<std::string, std::less<>> filtered_columns, int64_t now);

  const std::vector<std::string>& columns() const override { return inner_->columns(); }
  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix = {}) override;

 private:
  std::unique_ptr<BackendSnapshot> inner_;
  const std::set<std::string, std::less<>> filtered_columns_;
  const int64_t now_;
};

}  // namespace streamstate::internal
