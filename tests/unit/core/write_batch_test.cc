// Tests of WriteBatch as a value: operations are recorded in order with their column, key and
// value (binary bytes intact), payload_bytes sums what they carry, and clear resets everything.
#include "streamstate/write_batch.h"

#include <gtest/gtest.h>

#include <string>

namespace streamstate {
namespace {

using namespace std::string_literals;
using Type = WriteBatch::OperationType;

TEST(WriteBatchTest, StartsEmpty) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(batch.payload_bytes(), 0u);
  EXPECT_TRUE(batch.operations().empty());
}

TEST(WriteBatchTest, PutRecordsColumnKeyAndValue) {
  WriteBatch batch;
  batch.put("counts", "user-1", "42");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_FALSE(batch.empty());
  const WriteBatch::Operation& op = batch.operations()[0];
  EXPECT_EQ(op.type, Type::kPut);
  EXPECT_EQ(op.column, "counts");
  EXPECT_EQ(op.key, "user-1");
  EXPECT_EQ(op.value, "42");
  EXPECT_EQ(batch.payload_bytes(), 6u + 6u + 2u);
}

TEST(WriteBatchTest, RemoveHasEmptyValue) {
  WriteBatch batch;
  batch.remove("sessions", "user-2");
  ASSERT_EQ(batch.size(), 1u);
  const WriteBatch::Operation& op = batch.operations()[0];
  EXPECT_EQ(op.type, Type::kRemove);
  EXPECT_EQ(op.column, "sessions");
  EXPECT_EQ(op.key, "user-2");
  EXPECT_TRUE(op.value.empty());
  EXPECT_EQ(batch.payload_bytes(), 8u + 6u);
}

TEST(WriteBatchTest, OrderIsPreservedIncludingRepeatsOfOneKey) {
  WriteBatch batch;
  batch.put("a", "k", "1");
  batch.remove("a", "k");
  batch.put("b", "k", "2");
  batch.put("a", "k", "3");
  batch.remove("b", "other");
  ASSERT_EQ(batch.size(), 5u);
  const auto& ops = batch.operations();
  EXPECT_EQ(ops[0].type, Type::kPut);
  EXPECT_EQ(ops[0].value, "1");
  EXPECT_EQ(ops[1].type, Type::kRemove);
  EXPECT_EQ(ops[1].column, "a");
  EXPECT_EQ(ops[2].column, "b");
  EXPECT_EQ(ops[2].value, "2");
  EXPECT_EQ(ops[3].column, "a");
  EXPECT_EQ(ops[3].value, "3");
  EXPECT_EQ(ops[4].type, Type::kRemove);
  EXPECT_EQ(ops[4].key, "other");
  EXPECT_EQ(batch.payload_bytes(), (1u + 1u + 1u) + (1u + 1u) + (1u + 1u + 1u) + (1u + 1u + 1u) + (1u + 5u));
}

TEST(WriteBatchTest, BinaryKeysAndValuesAreCopiedExactly) {
  std::string key = "k\0\xFF"s;
  std::string value = "\0\0v\0"s;
  WriteBatch batch;
  batch.put("c", key, value);
  batch.put("c", "", "");
  // The batch owns copies: changing the caller's buffers changes nothing.
  key[0] = 'X';
  value[2] = 'X';
  const auto& ops = batch.operations();
  EXPECT_EQ(ops[0].key, "k\0\xFF"s);
  EXPECT_EQ(ops[0].value, "\0\0v\0"s);
  EXPECT_TRUE(ops[1].key.empty());
  EXPECT_TRUE(ops[1].value.empty());
  EXPECT_EQ(batch.payload_bytes(), (1u + 3u + 4u) + 1u);
}

TEST(WriteBatchTest, PayloadBytesCountsLargeValues) {
  WriteBatch batch;
  batch.put("col", std::string(1000, 'k'), std::string(100000, 'v'));
  batch.remove("col", std::string(10, 'r'));
  EXPECT_EQ(batch.payload_bytes(), 3u + 1000u + 100000u + 3u + 10u);
}

TEST(WriteBatchTest, ClearResetsEverythingAndBatchIsReusable) {
  WriteBatch batch;
  batch.put("a", "k", "v");
  batch.remove("a", "q");
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(batch.payload_bytes(), 0u);
  EXPECT_TRUE(batch.operations().empty());

  batch.put("b", "kk", "vvv");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.operations()[0].column, "b");
  EXPECT_EQ(batch.payload_bytes(), 6u);
}

TEST(WriteBatchTest, CopiesAreIndependentValues) {
  WriteBatch original;
  original.put("a", "k", "v");
  WriteBatch copy = original;
  copy.put("a", "k2", "v2");
  EXPECT_EQ(original.size(), 1u);
  EXPECT_EQ(original.payload_bytes(), 3u);
  EXPECT_EQ(copy.size(), 2u);
  EXPECT_EQ(copy.payload_bytes(), 3u + 5u);
}

TEST(WriteBatchTest, OperationTypeValuesAreStable) {
  EXPECT_EQ(static_cast<int>(Type::kPut), 1);
  EXPECT_EQ(static_cast<int>(Type::kRemove), 2);
}

}  // namespace
}  // namespace streamstate
