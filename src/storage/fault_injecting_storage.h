// A CheckpointStorage wrapper that injects failures, for tests of everything that writes
// checkpoints: fail the Nth append, sync or commit; short writes; a crash at any point; and,
// after commit, a truncated object or a flipped byte. With nothing armed it passes every call
// through unchanged (it runs the storage conformance suite that way).
//
// Counting: faults are armed relative to now: n = 1 is the next call of that operation on any
// writer of this storage. Several faults may be armed at once; each fires once.
//
// An injected append, sync or commit failure does not reach the inner storage and, unlike a
// real failure, does not disable the writer: a caller that ignores the error and commits gets
// what the inner storage received (after a short write, a torn object), which is exactly the
// bug such tests are meant to catch.
//
// crash() models the process or machine dying: every open writer is cut off (its later calls
// fail with kIoError and what it wrote is discarded uncommitted, so its object never appears),
// committed objects stay, and every call on the storage fails with kIoError until restart().
//
// Thread-safety: as CheckpointStorage; arming and crash() may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/checkpoint_storage.h"

namespace streamstate::storage {

enum class StorageOperation : uint8_t { kAppend = 0, kSync = 1, kCommit = 2 };

class FaultWriter;

class FaultInjectingStorage final : public CheckpointStorage {
 public:
  explicit FaultInjectingStorage(std::shared_ptr<CheckpointStorage> inner);
  ~FaultInjectingStorage() override;
  FaultInjectingStorage(const FaultInjectingStorage&) = delete;
  FaultInjectingStorage& operator=(const FaultInjectingStorage&) = delete;

  // The nth call of `operation` from now fails with kIoError and does nothing.
  void fail_nth(StorageOperation operation, uint64_t n);
  // The nth append from now gives the inner writer only its first `keep_bytes` bytes, then
  // fails with kIoError.
  void short_write_nth(uint64_t n, size_t keep_bytes);
  // The nth call of `operation` from now crashes the storage (crash()) and fails.
  void crash_at(StorageOperation operation, uint64_t n);
  // Forgets every armed fault that has not fired.
  void disarm();

  void crash();
  // Accepts calls again after a crash; writers cut off by it stay dead.
  void restart();
  bool crashed() const { return crashed_.load(); }
  // Calls of `operation` seen since construction (failed ones included).
  uint64_t calls(StorageOperation operation) const;

  // Damage to committed objects, through the inner storage (read, change, write, commit).
  // kNotFound for an absent object; kOutOfRange for a size or offset past its end.
  Status truncate_object(std::string_view name, uint64_t size);
  Status flip_byte(std::string_view name, uint64_t offset, uint8_t mask = 0x01);

  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override;
  Result<std::string> read(std::string_view name) override;
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override;
  Result<std::vector<StoredObject>> list(std::string_view prefix) override;
  Result<bool> exists(std::string_view name) override;
  Status remove(std::string_view name) override;
  Status remove_incomplete() override;
  std::string describe() const override;

 private:
  friend class FaultWriter;
  enum class FaultKind : uint8_t { kFail, kShortWrite, kCrash };
  struct Fault {
    StorageOperation operation;
    uint64_t at_call;
    FaultKind kind;
    size_t keep_bytes;
  };
  // Counts the call and returns the fault armed for it, if any (removing it).
  std::optional<Fault> next_call(StorageOperation operation);
  Status check_running() const;
  Status rewrite(std::string_view name, std::string content);
  void writer_closed(FaultWriter* writer);

  std::shared_ptr<CheckpointStorage> inner_;
  std::atomic<bool> crashed_{false};
  mutable std::mutex mutex_;
  std::array<uint64_t, 3> calls_{};        // guarded by mutex_
  std::vector<Fault> armed_;               // guarded by mutex_
  std::set<FaultWriter*> open_writers_;    // guarded by mutex_
};

}  // namespace streamstate::storage
