// CleanupThread: runs a function every `interval` on a background thread until stopped.
// It sleeps on a condition variable, so stop() wakes it at once instead of waiting for the
// current interval to pass.
//
// Thread-safety: start() once, then stop() from any thread (idempotent; also called by the
// destructor). The function must not call stop().
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "streamstate/status.h"

namespace streamstate::internal {

class CleanupThread {
 public:
  CleanupThread() = default;
  ~CleanupThread() { stop(); }
  CleanupThread(const CleanupThread&) = delete;
  CleanupThread& operator=(const CleanupThread&) = delete;

  // Fails when the operating system cannot create a thread.
  Status start(std::chrono::milliseconds interval, std::function<void()> pass);
  // Wakes the thread and waits until it has finished its current pass, if any.
  void stop();

 private:
  void run(std::chrono::milliseconds interval, const std::function<void()>& pass);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace streamstate::internal
