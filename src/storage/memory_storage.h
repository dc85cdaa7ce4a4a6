// CheckpointStorage in process memory, for tests and examples, with a model of durability so
// that tests can simulate a crash.
//
// Each writer keeps the bytes it was given; the prefix covered by its last sync() (or all of it
// after commit) counts as durable. crash() acts as a power loss of the storage at that moment:
// every open writer is cut off (its calls then fail with kIoError), its unsynced bytes are
// lost, its synced bytes stay behind as an invisible incomplete object (as a directory keeps a
// synced temporary file), returned by incomplete_contents() and deleted by remove_incomplete().
// Committed objects survive. Names follow the object-storage model with no directory rules, so
// "a" and "a/b" may both exist.
//
// Thread-safety: all methods may be called from any thread; one mutex guards everything.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/checkpoint_storage.h"

namespace streamstate::storage {

class MemoryWriter;

class MemoryStorage final : public CheckpointStorage {
 public:
  MemoryStorage();
  ~MemoryStorage() override;
  MemoryStorage(const MemoryStorage&) = delete;
  MemoryStorage& operator=(const MemoryStorage&) = delete;

  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override;
  Result<std::string> read(std::string_view name) override;
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override;
  Result<std::vector<StoredObject>> list(std::string_view prefix) override;
  Result<bool> exists(std::string_view name) override;
  Status remove(std::string_view name) override;
  Status remove_incomplete() override;
  // "memory storage #<n>": n counts the instances of the process, so that two of them are told
  // apart (incremental checkpoints find their base by the storage's description).
  std::string describe() const override { return "memory storage #" + std::to_string(instance_); }

  // Simulates a power loss (see above). Writers created afterwards work normally.
  void crash();
  // The synced bytes of writers cut off by crash(), one string each, until remove_incomplete().
  std::vector<std::string> incomplete_contents() const;
  // Bytes appended to open writers that a crash now would lose.
  uint64_t unsynced_bytes() const;

 private:
  const uint64_t instance_;
  friend class MemoryWriter;
  Status writer_append(MemoryWriter& writer, BytesView data);
  Status writer_sync(MemoryWriter& writer);
  Status writer_commit(MemoryWriter& writer);
  void writer_closed(MemoryWriter& writer);
  Status check_alive(const MemoryWriter& writer) const;

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> objects_;
  std::set<MemoryWriter*> open_writers_;
  std::vector<std::string> incomplete_;
};

}  // namespace streamstate::storage
