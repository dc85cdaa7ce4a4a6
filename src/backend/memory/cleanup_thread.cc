#include "backend/memory/cleanup_thread.h"

#include <string>
#include <system_error>

namespace streamstate::internal {

Status CleanupThread::start(std::chrono::milliseconds interval, std::function<void()> pass) {
  try {
    thread_ = std::thread([this, interval, pass = std::move(pass)] { run(interval, pass); });
  } catch (const std::system_error& error) {
    return Status::io_error(std::string("could not start the memory backend's cleanup thread: ") + error.what() +
                            "; set cleanup_interval to 0 and call cleanup_expired() yourself");
  }
  return Status::ok();
}

void CleanupThread::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CleanupThread::run(std::chrono::milliseconds interval, const std::function<void()>& pass) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    pass();
    lock.lock();
  }
}

}  // namespace streamstate::internal
