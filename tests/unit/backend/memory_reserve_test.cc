// StateColumn::reserve on the memory backend: a hint that sizes the column's tables, which
// keeps every entry already there and every entry written after it, and is harmless on a
// dropped column or a closed backend.
#include <gtest/gtest.h>

#include <string>

#include "streamstate/memory.h"
#include "testutil/status_matchers.h"

namespace streamstate {
namespace {

TEST(MemoryReserveTest, KeepsEntriesBeforeAndAfterTheHint) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  for (int i = 0; i < 100; ++i) ASSERT_OK(column->put("before" + std::to_string(i), "v"));
  column->reserve(50'000);
  for (int i = 0; i < 20'000; ++i) ASSERT_OK(column->put("after" + std::to_string(i), std::to_string(i)));
  EXPECT_EQ(backend->statistics().live_entries, 20'100u);
  EXPECT_EQ(column->get("before7").value(), std::optional<std::string>("v"));
  EXPECT_EQ(column->get("after19999").value(), std::optional<std::string>("19999"));
}

TEST(MemoryReserveTest, IsHarmlessOnADroppedColumnAndAfterClose) {
  auto backend = MemoryBackend::open({}).value();
  auto column = backend->column("c").value();
  ASSERT_OK(backend->drop_column("c"));
  column->reserve(1000);
  EXPECT_FALSE(column->put("k", "v").is_ok());
  auto other = backend->column("d").value();
  ASSERT_OK(backend->close());
  other->reserve(1000);
  EXPECT_EQ(other->put("k", "v").code(), StatusCode::kClosed);
}

}  // namespace
}  // namespace streamstate
