// Conversion of RocksDB's status into streamstate's Status, keeping RocksDB's own message
// after a context that names the path, column or key at fault.
//
// Thread-safety: reentrant.
#pragma once

#include <rocksdb/slice.h>
#include <rocksdb/status.h>

#include <string>
#include <string_view>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate::internal {

// OK stays OK; otherwise the closest StatusCode with the message "context: <RocksDB's message>".
Status from_rocksdb(const rocksdb::Status& status, std::string_view context);

// RocksDB's message, without its code name where the StatusCode says the same (so that
// "Corruption: ..." is not printed twice), and with a missing table file named as the
// NNNNNN.sst it was on disk, not as the legacy NNNNNN.ldb name RocksDB tried last.
std::string rocksdb_message(const rocksdb::Status& status);

// True when RocksDB failed to take the LOCK file of a database directory (held by another
// process, or by another DB object in this process).
bool is_lock_error(const rocksdb::Status& status);

// Views between streamstate bytes and RocksDB slices, without copying.
inline rocksdb::Slice to_slice(BytesView bytes) { return rocksdb::Slice(bytes.data(), bytes.size()); }
inline BytesView to_view(const rocksdb::Slice& slice) { return BytesView(slice.data(), slice.size()); }
}  // namespace streamstate::internal
