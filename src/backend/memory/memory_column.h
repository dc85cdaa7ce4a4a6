// MemoryColumn: the StateColumn handle of the memory backend. It holds its column's
// ColumnState (the column's tables) and forwards every operation to the shared MemoryStore, so a handle keeps
// working (and reports kClosed) after the backend object is closed or destroyed, and reports
// NotFound after its column is dropped.
//
// Thread-safety: a handle may be used from any number of threads at once.
#pragma once

#include <memory>
#include <string>

#include "backend/memory/memory_store.h"
#include "streamstate/backend.h"

namespace streamstate::internal {

class MemoryColumn final : public StateColumn {
 public:
  MemoryColumn(std::shared_ptr<MemoryStore> store, std::shared_ptr<ColumnState> state)
      : store_(std::move(store)), state_(std::move(state)) {}

  const std::string& name() const override { return state_->name; }
  Result<bool> get_into(BytesView key, std::string& value) override { return store_->get(*state_, key, &value); }
  Status put(BytesView key, BytesView value) override { return store_->put(*state_, key, value); }
  Status remove(BytesView key) override { return store_->remove(*state_, key); }
  Result<bool> contains(BytesView key) override { return store_->get(*state_, key, nullptr); }
  Status update(BytesView key, const UpdateFunction& fn) override { return store_->update(*state_, key, fn); }
  Status scan(BytesView prefix, const ScanVisitor& visitor) override { return store_->scan(*state_, prefix, visitor); }
  Status clear() override { return store_->clear(*state_); }
  void reserve(uint64_t entries) override { store_->reserve(*state_, entries); }

 private:
  std::shared_ptr<MemoryStore> store_;
  std::shared_ptr<ColumnState> state_;
};

}  // namespace streamstate::internal
