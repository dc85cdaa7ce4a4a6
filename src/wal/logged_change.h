// The payload of a LoggedBackend record (docs/formats.md, "Logged backend record"): the changes
// one call made to a StateBackend, in order, so that replaying the log re-applies them.
//
//   record  = version: u8 (1) | change*
//   change  = kind: u8 | column: length-prefixed | rest
//     put (1):           key: length-prefixed | value: length-prefixed
//     remove (2):        key: length-prefixed
//     clear (3):         (nothing)
//     create column (4): flags: u8 (bit 0: values_carry_expiry)
//     drop column (5):   (nothing)
//
// Thread-safety: LoggedChangeWriter is a value type; decode_logged_changes is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate::wal {

enum class LoggedChangeKind : uint8_t { kPut = 1, kRemove = 2, kClear = 3, kCreateColumn = 4, kDropColumn = 5 };

struct LoggedChange {
  LoggedChangeKind kind = LoggedChangeKind::kPut;
  BytesView column;
  BytesView key;    // put, remove
  BytesView value;  // put
  bool values_carry_expiry = false;  // create column
};

// Builds one record's payload.
class LoggedChangeWriter {
 public:
  LoggedChangeWriter() { bytes_.push_back(static_cast<char>(kVersion)); }

  void put(BytesView column, BytesView key, BytesView value);
  void remove(BytesView column, BytesView key);
  void clear(BytesView column);
  void create_column(BytesView column, bool values_carry_expiry);
  void drop_column(BytesView column);

  const std::string& bytes() const { return bytes_; }

  static constexpr uint8_t kVersion = 1;

 private:
  std::string bytes_;
};

// Calls `visit` for every change of a payload, in order; kCorruption (naming the record's
// sequence number, the offset and what is wrong) for a bad version, kind or length. Stops at
// the first non-OK status `visit` returns.
Status decode_logged_changes(BytesView payload, uint64_t sequence,
                             const std::function<Status(const LoggedChange&)>& visit);

}  // namespace streamstate::wal
