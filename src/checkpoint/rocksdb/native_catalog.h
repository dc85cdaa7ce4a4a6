// What a native RocksDB checkpoint holds for its manifest, read from the checkpoint directory
// itself (opened read-only, so the files about to be uploaded are not changed): the
// streamstate columns it has and the "_ss.states" records of the keyed-state store. Reading
// the checkpoint, not the live database, makes the manifest agree with the files. Internal.
//
// Thread-safety: reentrant; the directory must not be written meanwhile.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "checkpoint/store_catalog.h"
#include "streamstate/status.h"

namespace streamstate::internal {

struct NativeCatalog {
  std::vector<std::string> columns;  // every streamstate column, sorted ("_ss.states" included)
  std::set<std::string> expiring_columns;  // those whose values carry an expiry header
  StoreCatalog store;                // empty when there is no "_ss.states" column
};

// kCorruption or kIoError naming `directory` when RocksDB cannot open it.
Result<NativeCatalog> read_native_catalog(const std::string& directory);

}  // namespace streamstate::internal
