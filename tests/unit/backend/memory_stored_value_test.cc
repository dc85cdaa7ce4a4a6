// StoredValue and the table's key comparison: values up to the inline capacity and longer ones
// keep their exact bytes through assignment at every size change, copies and moves (ASan
// catches a heap buffer kept at the wrong size); same_bytes agrees with memcmp at every length
// and position of a difference.
#include "backend/memory/stored_value.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backend/memory/memory_table.h"

namespace streamstate::internal {
namespace {

std::string bytes_of_size(size_t size, int seed = 7) {
  std::string bytes;
  for (size_t i = 0; i < size; ++i) bytes.push_back(static_cast<char>((i + 1) * seed % 256));  // has '\0's
  return bytes;
}

const std::vector<size_t> kSizes = {0, 1, 8, StoredValue::kInlineCapacity - 1, StoredValue::kInlineCapacity,
                                    StoredValue::kInlineCapacity + 1, 100, 4096};

// Values carved from slabs (bulk puts): exact bytes at every size, through assignment at every
// size (same size: in place; other sizes: a heap buffer of its own), moves and copies; a slab
// outlives the cursor while a value of it lives and is freed with the last one (ASan reports a
// leak or a use after free otherwise).
TEST(StoredValueTest, SlabValuesKeepTheirBytesAndFreeTheirSlabWithTheLastValue) {
  for (size_t from : kSizes) {
    for (size_t to : kSizes) {
      std::vector<StoredValue> values;
      {
        ValueSlabCursor slabs;
        for (int i = 0; i < 3; ++i) values.emplace_back(bytes_of_size(from, 3 + i), slabs);
      }  // the cursor is gone; the values keep their slab
      for (int i = 0; i < 3; ++i) ASSERT_EQ(values[static_cast<size_t>(i)].view(), bytes_of_size(from, 3 + i));
      values[0].assign(bytes_of_size(to, 5));
      EXPECT_EQ(values[0].view(), bytes_of_size(to, 5)) << from << " -> " << to;
      StoredValue moved(std::move(values[1]));
      EXPECT_EQ(moved.view(), bytes_of_size(from, 4));
      StoredValue copied(values[2]);
      values[2] = StoredValue(bytes_of_size(to, 9));
      EXPECT_EQ(copied.view(), bytes_of_size(from, 5));
      EXPECT_EQ(values[2].view(), bytes_of_size(to, 9));
    }
  }
}

TEST(StoredValueTest, SlabsFillUpAndNewOnesStart) {
  std::vector<StoredValue> values;
  ValueSlabCursor slabs;
  const std::string bytes = bytes_of_size(kMaxSlabValueBytes);
  for (size_t i = 0; i < 3 * kValueSlabBytes / kMaxSlabValueBytes; ++i) values.emplace_back(bytes, slabs);
  for (const StoredValue& value : values) ASSERT_EQ(value.view(), bytes);
  values.erase(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2));
  for (const StoredValue& value : values) ASSERT_EQ(value.view(), bytes);
}

TEST(StoredValueTest, AssignmentKeepsTheBytesFromEverySizeToEverySize) {
  for (size_t from : kSizes) {
    for (size_t to : kSizes) {
      StoredValue value(bytes_of_size(from, 3));
      ASSERT_EQ(value.view(), bytes_of_size(from, 3));
      const std::string next = bytes_of_size(to, 5);
      value.assign(next);
      EXPECT_EQ(value.size(), to);
      EXPECT_EQ(value.view(), next) << from << " -> " << to;
    }
  }
}

TEST(StoredValueTest, CopiesAreIndependentAndMovesTransferTheBytes) {
  for (size_t size : {size_t{5}, size_t{300}}) {
    const std::string bytes = bytes_of_size(size);
    auto original = std::make_unique<StoredValue>(bytes);
    StoredValue copy(*original);
    original.reset();  // the copy must not share the original's buffer
    EXPECT_EQ(copy.view(), bytes);

    StoredValue moved(std::move(copy));
    EXPECT_EQ(moved.view(), bytes);
    EXPECT_EQ(copy.size(), 0u);  // a moved-from value is empty

    StoredValue target(bytes_of_size(200));
    target = std::move(moved);  // frees the target's old buffer
    EXPECT_EQ(target.view(), bytes);
    StoredValue assigned;
    assigned = target;
    EXPECT_EQ(assigned.view(), bytes);
  }
}

TEST(TableNodeTest, OneNodeIsOneCacheLine) {
  EXPECT_EQ(sizeof(TableNode), 64u);
  EXPECT_EQ(alignof(TableNode), 64u);
}

TEST(SameBytesTest, AgreesWithMemcmpAtEveryLengthAndPlaceOfADifference) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string a = bytes_of_size(n);
    EXPECT_TRUE(same_bytes(a.data(), std::string(a).data(), n)) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 0x01);
      EXPECT_FALSE(same_bytes(a.data(), b.data(), n)) << "length " << n << ", difference at " << i;
    }
  }
}

}  // namespace
}  // namespace streamstate::internal
