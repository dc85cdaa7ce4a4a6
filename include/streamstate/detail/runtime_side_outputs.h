// Internal to the runtime (process_function.h, pipeline.h): a side output's path out of a keyed
// operator instance. The instance sends records through SideChannel<T>::emit and forwards
// watermarks, barriers and the end of input to every side channel as to its main output, so a
// sink reading a side output takes part in checkpoints like any other.
//
// Thread-safety: one instance's thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "streamstate/status.h"

namespace streamstate::detail {

struct BarrierScope;

class SideChannelBase {
 public:
  explicit SideChannelBase(std::string name) : name_(std::move(name)) {}
  virtual ~SideChannelBase() = default;
  const std::string& name() const { return name_; }
  // The first error of an emit since the last call (emit itself cannot return one).
  Status take_status() { return std::exchange(status_, Status::ok()); }

  virtual Status flush() = 0;
  virtual Status watermark(int64_t watermark, bool idle) = 0;
  virtual Status barrier(const BarrierScope& scope) = 0;
  virtual Status end() = 0;
  virtual Status close() = 0;

 protected:
  void record(Status status) {
    if (status_.is_ok() && !status.is_ok()) status_ = std::move(status);
  }

 private:
  std::string name_;
  Status status_;
};

template <typename T>
class SideChannel : public SideChannelBase {
 public:
  using SideChannelBase::SideChannelBase;
  virtual void emit(T value, int64_t timestamp) = 0;
};

}  // namespace streamstate::detail
