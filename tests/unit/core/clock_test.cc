// Tests of the injectable clock: ManualClock moves only when told (also under concurrent
// advances), and the system clock reports wall-clock milliseconds since the Unix epoch.
#include "streamstate/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace streamstate {
namespace {

int64_t wall_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(ManualClockTest, StartsWhereTold) {
  EXPECT_EQ(ManualClock().now_millis(), 0);
  EXPECT_EQ(ManualClock(1714564800000).now_millis(), 1714564800000);
  EXPECT_EQ(ManualClock(-5).now_millis(), -5);
}

TEST(ManualClockTest, SetAndAdvance) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.now_millis(), 1000);
  EXPECT_EQ(clock.now_millis(), 1000);  // does not move by itself
  clock.advance_millis(250);
  EXPECT_EQ(clock.now_millis(), 1250);
  clock.advance_millis(0);
  EXPECT_EQ(clock.now_millis(), 1250);
  clock.advance_millis(-50);
  EXPECT_EQ(clock.now_millis(), 1200);
  clock.set_millis(5);
  EXPECT_EQ(clock.now_millis(), 5);
  clock.set_millis(INT64_C(9000000000000));
  clock.advance_millis(1);
  EXPECT_EQ(clock.now_millis(), INT64_C(9000000000001));
}

TEST(ManualClockTest, UsableThroughTheClockInterface) {
  auto manual = std::make_shared<ManualClock>(10);
  std::shared_ptr<const Clock> clock = manual;
  EXPECT_EQ(clock->now_millis(), 10);
  manual->advance_millis(90);
  EXPECT_EQ(clock->now_millis(), 100);
}

TEST(ManualClockTest, ConcurrentAdvancesAreNotLost) {
  ManualClock clock;
  constexpr int kThreads = 4;
  constexpr int kAdvances = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < kAdvances; ++i) clock.advance_millis(1);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(clock.now_millis(), int64_t{kThreads} * kAdvances);
}

TEST(SystemClockTest, IsASharedSingleton) {
  const std::shared_ptr<const Clock> first = system_clock();
  const std::shared_ptr<const Clock> second = system_clock();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first.get(), second.get());
}

TEST(SystemClockTest, ReportsWallClockMilliseconds) {
  const std::shared_ptr<const Clock> clock = system_clock();
  ASSERT_NE(clock, nullptr);
  const int64_t before = wall_millis();
  const int64_t now = clock->now_millis();
  const int64_t after = wall_millis();
  // One millisecond of slack for rounding differences; seconds or microseconds would be far off.
  EXPECT_GE(now, before - 1);
  EXPECT_LE(now, after + 1);
  // Sanity: after 2020-01-01 in milliseconds.
  EXPECT_GT(now, INT64_C(1577836800000));
}

TEST(SystemClockTest, Advances) {
  const std::shared_ptr<const Clock> clock = system_clock();
  const int64_t start = clock->now_millis();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int64_t end = clock->now_millis();
  EXPECT_GE(end - start, 15);
  EXPECT_LT(end - start, 60000);
}

}  // namespace
}  // namespace streamstate
