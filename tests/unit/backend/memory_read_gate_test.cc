// ReadGate and thread slots, the parts that let memory-backend gets skip the shard mutex:
// a closed gate keeps readers out, a writer's exclude() cannot return while a reader is
// inside, stripes are independent, and threads alive at once get distinct slots that are
// reused after they exit.
#include "backend/memory/read_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "backend/memory/thread_slot.h"

namespace streamstate::internal {
namespace {

TEST(MemoryReadGateTest, ReadersEnterAnOpenStripeAndNotAClosedOne) {
  ReadGate gate;
  const uint32_t slot = thread_slot();
  ASSERT_TRUE(gate.try_enter(slot, 3));
  EXPECT_EQ(gate.readers_inside(3), 1u);
  gate.leave(slot, 3);
  EXPECT_EQ(gate.readers_inside(3), 0u);

  gate.exclude(3);
  EXPECT_FALSE(gate.try_enter(slot, 3));
  EXPECT_EQ(gate.readers_inside(3), 0u);  // a refused reader is not counted
  ASSERT_TRUE(gate.try_enter(slot, 4));   // other stripes stay open
  gate.leave(slot, 4);
  gate.exclude(3);  // two writers of one stripe (two shards)
  gate.readmit(3);
  EXPECT_FALSE(gate.try_enter(slot, 3));
  gate.readmit(3);
  ASSERT_TRUE(gate.try_enter(slot, 3));
  gate.leave(slot, 3);
}

TEST(MemoryReadGateTest, ExcludeWaitsForTheReaderInside) {
  ReadGate gate;
  std::atomic<bool> entered{false};
  std::atomic<bool> may_leave{false};
  int data = 1;  // read by the reader inside, written by the writer: TSan checks the edges
  int seen = 0;
  std::thread reader([&] {
    const uint32_t slot = thread_slot();
    ASSERT_TRUE(gate.try_enter(slot, 0));
    entered.store(true);
    while (!may_leave.load()) std::this_thread::yield();
    seen = data;
    gate.leave(slot, 0);
  });
  while (!entered.load()) std::this_thread::yield();

  std::atomic<bool> excluded{false};
  std::thread writer([&] {
    gate.exclude(0);
    excluded.store(true);
    data = 2;
    gate.readmit(0);
  });
  // Once the writer's mark is visible new readers are refused, but exclude() cannot have
  // returned: the reader is still inside.
  const uint32_t slot = thread_slot();
  while (gate.try_enter(slot, 0)) gate.leave(slot, 0);
  EXPECT_FALSE(excluded.load());
  may_leave.store(true);
  reader.join();
  writer.join();
  EXPECT_TRUE(excluded.load());
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(data, 2);
}

TEST(MemoryThreadSlotTest, ThreadsAliveAtOnceHaveDistinctSlotsThatAreReused) {
  constexpr int kThreads = 8;
  std::vector<uint32_t> slots(kThreads);
  std::atomic<int> assigned{0};
  std::atomic<bool> may_exit{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      slots[t] = thread_slot();
      EXPECT_EQ(thread_slot(), slots[t]);  // stable within the thread
      assigned.fetch_add(1);
      while (!may_exit.load()) std::this_thread::yield();
    });
  }
  while (assigned.load() < kThreads) std::this_thread::yield();
  may_exit.store(true);
  for (std::thread& thread : threads) thread.join();
  const std::set<uint32_t> distinct(slots.begin(), slots.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads));
  for (uint32_t slot : slots) EXPECT_LT(slot, thread_slots_in_use());

  // The slots were given back: as many threads again, one after the other, raise no mark.
  const uint32_t in_use = thread_slots_in_use();
  for (int t = 0; t < kThreads; ++t) std::thread([] { (void)thread_slot(); }).join();
  EXPECT_EQ(thread_slots_in_use(), in_use);
}

}  // namespace
}  // namespace streamstate::internal
