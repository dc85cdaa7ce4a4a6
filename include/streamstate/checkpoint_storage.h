// CheckpointStorage: where checkpoints are kept. A flat namespace of named, immutable objects
// (snapshot files, deltas, manifests) that is the same for a local directory, memory and
// S3-compatible object storage, so checkpoint code is written once against it.
//
// The model is object storage, not a file system:
// - Names are '/'-separated paths ("chk-7/manifest.json"), validated by validate_object_name:
//   not empty, no leading or trailing '/', no empty, "." or ".." segments, no NUL byte, at most
//   1024 bytes with segments of at most 200, and no segment starting with ".incomplete."
//   (reserved for objects being written).
// - list(prefix) matches names by plain string prefix ("chk-1" matches "chk-10/x"), has no
//   directory semantics and returns names in byte order with their sizes.
// - An object is written through a StorageWriter and becomes visible under its name only when
//   the writer commits: atomically (a reader sees the old object or the new one, never a part)
//   and durably (it survives a crash or power loss once commit returned OK). A writer destroyed
//   without commit leaves nothing visible; a crashed process may leave invisible leftovers
//   that remove_incomplete() deletes.
// - Committing over an existing name replaces that object atomically (last commit wins).
// - Reads return whole objects or byte ranges; a range past the end is kOutOfRange.
// - One name should not be both an object ("a") and a prefix of others followed by '/' ("a/b"):
//   object storage allows it, a directory cannot hold it (kIoError naming the path).
//
// Errors: every message names the object and where the storage is (describe()), e.g.
// NotFound "checkpoint object 'chk-7/manifest.json' not found in directory /var/lib/chk".
// Bad names are kInvalidArgument; absent objects kNotFound; operating-system and network
// failures kIoError (kUnavailable for an unreachable remote service).
//
// Thread-safety: a CheckpointStorage may be used from any number of threads at once, and its
// writers may be used concurrently with each other; one StorageWriter is used by one thread at
// a time. Writers must not outlive their storage.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate {

// One object found by CheckpointStorage::list.
struct StoredObject {
  std::string name;
  uint64_t size = 0;

  friend bool operator==(const StoredObject&, const StoredObject&) = default;
};

// Writes one object. Bytes appended are invisible until commit(). After commit() or after any
// failed call, the writer accepts nothing more (kFailedPrecondition naming the earlier error),
// so a torn object can never be committed. Destroying an uncommitted writer discards what it
// wrote. Not thread-safe: one thread at a time.
class StorageWriter {
 public:
  virtual ~StorageWriter() = default;

  // Adds bytes at the end of the object. The storage may buffer them until sync() or commit().
  virtual Status append(BytesView data) = 0;
  // Makes the bytes appended so far durable in the storage (still invisible). Optional: commit()
  // syncs anyway; useful to bound what a crash can cost a long writer.
  virtual Status sync() = 0;
  // Makes the object durable and visible under its name, atomically replacing an existing one.
  // A failed commit leaves the object's state unknown (a directory may have renamed the file
  // and then failed to sync the folder): write it again, or treat it as absent and remove it.
  virtual Status commit() = 0;

  // The name the object gets on commit.
  virtual const std::string& name() const = 0;
  // Bytes appended so far.
  virtual uint64_t size() const = 0;
};

class CheckpointStorage {
 public:
  virtual ~CheckpointStorage() = default;

  // Starts writing the object `name`; nothing is visible until the writer commits.
  virtual Result<std::unique_ptr<StorageWriter>> create(std::string_view name) = 0;

  // The whole object; kNotFound when it does not exist.
  virtual Result<std::string> read(std::string_view name) = 0;
  // `length` bytes from `offset`. kOutOfRange (naming the object and its size) when the range
  // reaches past the end; an empty range at the end is fine.
  virtual Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) = 0;

  // Committed objects whose names start with `prefix` ("" = all), sorted by name in byte
  // order. Never lists incomplete objects. The prefix may end in the middle of a segment or
  // with '/', but may not start with '/' or hold a NUL byte.
  virtual Result<std::vector<StoredObject>> list(std::string_view prefix) = 0;
  virtual Result<bool> exists(std::string_view name) = 0;

  // Deletes a committed object; removing an absent one is OK.
  virtual Status remove(std::string_view name) = 0;
  // Deletes the invisible leftovers of writers that died before committing (a crashed
  // process, a lost connection). Call it when starting, before this process opens writers in
  // the same storage; writers open in this CheckpointStorage object are left alone, those of
  // other processes are not protected.
  virtual Status remove_incomplete() = 0;

  // Where the objects are, for messages: "directory /var/lib/chk", "memory storage".
  virtual std::string describe() const = 0;
};

// OK for a valid object name, else kInvalidArgument saying which rule the name breaks.
Status validate_object_name(std::string_view name);
// OK for a valid list() prefix (may be empty), else kInvalidArgument.
Status validate_object_prefix(std::string_view prefix);

// ---- Local directory --------------------------------------------------------------------
// Objects are files under `path`, their names' '/' separating directories. A writer writes to
// a hidden temporary file (".incomplete.<name>.<unique>") in the object's directory; commit
// flushes and fsyncs it, renames it to the final name and fsyncs the directory (and, the first
// time this storage commits into a folder, the folders above it up to `path`), so a committed
// object survives power loss and a half-written one is never seen.
// Empty directories left by remove() stay (they are not objects and are never listed).
struct DirectoryStorageOptions {
  // The root directory. Required.
  std::string path;
  // Create `path` (and its parents) when missing; else opening a missing path is kNotFound.
  // Default: true.
  bool create_if_missing = true;
  // Bytes a writer buffers before writing them to its file. Default: 1 MiB.
  size_t write_buffer_bytes = size_t{1} << 20;
};

Result<std::unique_ptr<CheckpointStorage>> open_directory_storage(const DirectoryStorageOptions& options);

// ---- Memory -----------------------------------------------------------------------------
// Objects in process memory, for tests and examples: fast, thread-safe, gone with the process.
// Tests that simulate crashes use the MemoryStorage class (src/storage/memory_storage.h).
std::unique_ptr<CheckpointStorage> open_memory_storage();

}  // namespace streamstate
