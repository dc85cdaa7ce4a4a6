// OrderedMapBackend: an example of a user-defined StateBackend, written only against the public
// API (streamstate/backend.h), that passes the same conformance suite as the built-in backends
// (tests/conformance). Read it next to examples/custom_backend/README.md when writing your own.
//
// Design: every column is a std::map (so scans are ordered bytewise), and one std::shared_mutex
// guards all columns: reads (get, contains, scan chunks, list_columns, snapshot) share it, writes
// (put, remove, update, clear, write batches, column creation and drop) take it exclusively.
// update() holds the exclusive lock while it calls the user's function, which is what makes the
// read-modify-write atomic. Nothing is persisted: the data lives as long as the backend object.
//
// Trade-off of a small example, stated plainly: snapshot() deep-copies every column while holding
// the shared lock. That costs O(total state) time and memory per snapshot, and writers wait for the
// whole copy. The built-in memory backend shares its tables copy-on-write instead, so a snapshot
// costs a pointer swap per shard; do that (or use your engine's native snapshots) in a backend meant
// for large state. Likewise a single lock serializes all writers; shard the maps if that matters.
//
// Ownership: column handles and snapshots share the backend's internal store, so they stay safe
// to use after the backend is closed or destroyed (they then fail with StatusCode::kClosed).
// Destroying the backend closes it.
//
// Thread-safety: all methods may be called concurrently from any thread
// (capabilities().thread_safe is true). A snapshot may be read from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/backend.h"
#include "streamstate/status.h"
#include "streamstate/write_batch.h"

namespace streamstate::examples {

// The state shared by the backend, its column handles and its snapshots; see the .cc file.
struct OrderedMapStore;

class OrderedMapBackend final : public StateBackend {
 public:
  OrderedMapBackend();
  ~OrderedMapBackend() override;
  OrderedMapBackend(const OrderedMapBackend&) = delete;
  OrderedMapBackend& operator=(const OrderedMapBackend&) = delete;

  // "ordered_map".
  std::string_view kind() const override;
  // Ordered, thread-safe, not persistent, not shared between processes.
  BackendCapabilities capabilities() const override;

  Result<std::shared_ptr<StateColumn>> column(std::string_view name) override;
  Result<std::vector<std::string>> list_columns() override;
  Status drop_column(std::string_view name) override;
  Status write(const WriteBatch& batch) override;
  // Copies every column (see the trade-off above).
  Result<std::unique_ptr<BackendSnapshot>> snapshot() override;
  BackendStatistics statistics() const override;
  // Nothing is buffered: OK while open.
  Status flush() override;
  Status close() override;

 private:
  std::shared_ptr<OrderedMapStore> store_;
};

// Opens a new, empty OrderedMapBackend. It cannot fail; the Result is there because that is the
// shape of every backend factory (the conformance suite's factories take this signature).
Result<std::unique_ptr<StateBackend>> open_ordered_map_backend();

}  // namespace streamstate::examples
