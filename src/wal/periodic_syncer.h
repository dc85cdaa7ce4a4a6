// A background thread that calls a function every interval until stopped: the kPeriodic
// sync policy's syncer. stop() (or destruction) wakes it at once and joins it.
//
// Thread-safety: stop() may be called from any thread, more than once; not from `tick`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace streamstate::wal {

class PeriodicSyncer {
 public:
  PeriodicSyncer(std::chrono::milliseconds interval, std::function<void()> tick);
  ~PeriodicSyncer();
  PeriodicSyncer(const PeriodicSyncer&) = delete;
  PeriodicSyncer& operator=(const PeriodicSyncer&) = delete;

  void stop();

 private:
  void run();

  std::chrono::milliseconds interval_;
  std::function<void()> tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace streamstate::wal
