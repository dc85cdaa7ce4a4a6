// The periodic syncer's loop.
#include "wal/periodic_syncer.h"

#include <utility>

namespace streamstate::wal {

PeriodicSyncer::PeriodicSyncer(std::chrono::milliseconds interval, std::function<void()> tick)
    : interval_(interval), tick_(std::move(tick)), thread_([this] { run(); }) {}

PeriodicSyncer::~PeriodicSyncer() { stop(); }

void PeriodicSyncer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PeriodicSyncer::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, interval_, [&] { return stopping_; })) break;
    lock.unlock();
    tick_();
    lock.lock();
  }
}

}  // namespace streamstate::wal
