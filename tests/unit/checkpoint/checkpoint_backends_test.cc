// Checkpoints work on any StateBackend through its interface: the user-defined backend of
// examples/custom_backend checkpoints and restores like the built-in ones, in both directions
// with the memory backend.
#include <gtest/gtest.h>

#include "custom_backend/ordered_map_backend.h"
#include "streamstate/checkpoint.h"
#include "unit/checkpoint/checkpoint_test_util.h"

namespace streamstate::testing {
namespace {

std::unique_ptr<StateBackend> open_custom() {
  auto backend = examples::open_ordered_map_backend();
  EXPECT_TRUE(backend.is_ok()) << backend.status().to_string();
  return std::move(backend).value();
}

TEST(CheckpointBackendsTest, CustomBackendCheckpointsAndRestoresBothWays) {
  auto source = open_custom();
  Contents expected = fill(*source, 2000);
  auto storage = open_memory_storage();
  CheckpointOptions options;
  options.clock = std::make_shared<ManualClock>(kNow);
  auto info = write_checkpoint(*source, *storage, options);
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(info->manifest.backend_kind, source->kind());

  auto into_custom = open_custom();
  ASSERT_OK(restore_checkpoint(*storage, 1, *into_custom, {.key_groups = {}, .states = {}, .threads = 3}));
  EXPECT_EQ(read_all(*into_custom), expected);
  auto into_memory = open_memory();
  ASSERT_OK(restore_checkpoint(*storage, 1, *into_memory, {}));
  EXPECT_EQ(read_all(*into_memory), expected);

  auto memory_storage = open_memory_storage();
  ASSERT_OK(write_checkpoint(*into_memory, *memory_storage, options));
  auto back = open_custom();
  ASSERT_OK(restore_latest_checkpoint(*memory_storage, *back, {.key_groups = KeyGroupRange(0, 64)}));
  EXPECT_EQ(read_all(*back), within(expected, KeyGroupRange(0, 64)));
}

}  // namespace
}  // namespace streamstate::testing
