// StoredKey: keys up to its inline capacity and longer ones keep their exact bytes (zero bytes
// included) through construction, copies and moves.
#include "backend/memory/stored_key.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace streamstate::internal {
namespace {

std::string key_of_size(size_t size) {
  std::string key;
  for (size_t i = 0; i < size; ++i) key.push_back(static_cast<char>(i * 7 % 256));  // has '\0's
  return key;
}

TEST(StoredKeyTest, KeepsTheBytesAtEverySizeAroundTheInlineCapacity) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{16}, StoredKey::kInlineCapacity - 1, StoredKey::kInlineCapacity,
                      StoredKey::kInlineCapacity + 1, size_t{4096}}) {
    const std::string bytes = key_of_size(size);
    StoredKey key(bytes);
    EXPECT_EQ(key.size(), size);
    EXPECT_EQ(key.view(), bytes) << "size " << size;
  }
}

TEST(StoredKeyTest, CopiesAreIndependentAndMovesTransferTheBytes) {
  for (size_t size : {size_t{5}, size_t{300}}) {
    const std::string bytes = key_of_size(size);
    auto original = std::make_unique<StoredKey>(bytes);
    StoredKey copy(*original);
    original.reset();  // the copy must not share the original's buffer
    EXPECT_EQ(copy.view(), bytes);

    StoredKey moved(std::move(copy));
    EXPECT_EQ(moved.view(), bytes);
    EXPECT_EQ(copy.size(), 0u);  // a moved-from key is empty
  }
}

TEST(StoredKeyTest, LiveInsideContainersThatRelocateThem) {
  std::vector<StoredKey> keys;
  for (size_t size = 0; size < 100; ++size) keys.emplace_back(key_of_size(size));
  for (size_t size = 0; size < 100; ++size) EXPECT_EQ(keys[size].view(), key_of_size(size));
}

}  // namespace
}  // namespace streamstate::internal
