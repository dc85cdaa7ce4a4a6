// Helpers of the keyed-state tests that need one plain store, not the per-backend fixture of
// state_test_backends.h: a fresh memory backend, and a store opened on a backend (the test
// fails with the status when either cannot be opened).
//
// Thread-safety: call from the test thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "streamstate/keyed_state_store.h"
#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate::testing {

inline std::shared_ptr<StateBackend> memory_backend() {
  auto backend = MemoryBackend::open(MemoryBackendOptions{});
  EXPECT_OK(backend);
  return std::shared_ptr<StateBackend>(std::move(backend).value());
}

inline std::unique_ptr<KeyedStateStore> open_store(std::shared_ptr<StateBackend> backend,
                                                   KeyedStateStoreOptions options = {}) {
  auto store = KeyedStateStore::open(std::move(backend), options);
  EXPECT_OK(store);
  return std::move(store).value();
}

}  // namespace streamstate::testing
