// Numbered pieces of work on a few threads.
#include "util/parallel.h"

#include <atomic>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace streamstate::internal {

Status run_parallel(size_t count, uint32_t threads, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  Status failure;  // guarded by mutex
  auto work = [&] {
    for (size_t i = next++; i < count && !failed.load(); i = next++) {
      Status status = fn(i);
      if (!status.is_ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (failure.is_ok()) failure = std::move(status);
        failed = true;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (uint32_t t = 1; t < threads && t < count; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // the threads started (at least the caller's) do all the work
    }
  }
  work();
  for (std::thread& thread : pool) thread.join();
  return failure;
}

}  // namespace streamstate::internal
