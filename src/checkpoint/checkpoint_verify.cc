#include "checkpoint/checkpoint_verify.h"

#include "checkpoint/manifest.h"
#include "streamstate/checksum.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

bool index_matches(const std::vector<SnapshotColumnInfo>& read, const std::vector<CheckpointFileColumn>& recorded) {
  if (read.size() != recorded.size()) return false;
  for (size_t c = 0; c < read.size(); ++c) {
    const SnapshotColumnInfo& a = read[c];
    const CheckpointFileColumn& b = recorded[c];
    if (a.name != b.name || a.values_carry_expiry != b.values_carry_expiry || a.entries != b.entries ||
        a.section_offset != b.section_offset || a.section_end != b.section_end ||
        a.key_groups.size() != b.key_groups.size()) {
      return false;
    }
    for (size_t g = 0; g < a.key_groups.size(); ++g) {
      if (a.key_groups[g].key_group != b.key_groups[g].key_group || a.key_groups[g].offset != b.key_groups[g].offset ||
          a.key_groups[g].entries != b.key_groups[g].entries) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

Result<LoadedFile> load_file(CheckpointStorage& storage, CheckpointId id, const CheckpointFile& file) {
  const std::string where = "checkpoint " + std::to_string(id) + ": file '" + file.name + "'";
  Result<std::string> bytes = storage.read(file.name);
  if (!bytes.is_ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return Status::not_found(where + " is missing from " + storage.describe());
    }
    return bytes.status().with_context(where);
  }
  if (bytes->size() != file.size) {
    return Status::corruption(where + " has " + std::to_string(bytes->size()) + " bytes, the manifest says " +
                              std::to_string(file.size));
  }
  uint64_t checksum = checksum64(*bytes);
  if (checksum != file.checksum) {
    // Say where, when the file's own structure can tell (a block's checksum names its offset).
    Result<SnapshotFileReader> reader = SnapshotFileReader::open(file.name, *bytes, {.check_file_checksum = false});
    Status place = reader.is_ok() ? reader->verify(SnapshotReadFilter{}) : reader.status();
    return Status::corruption(where + ": checksum mismatch (XXH3 " + checksum_hex(checksum) + ", the manifest says " +
                              checksum_hex(file.checksum) + "); the file is damaged" +
                              (place.is_ok() ? std::string() : ": " + place.message()));
  }
  LoadedFile loaded;
  loaded.entry = &file;
  loaded.bytes = std::make_unique<std::string>(std::move(bytes).value());
  // The whole-object checksum above covers the file checksum too.
  STREAMSTATE_ASSIGN_OR_RETURN(SnapshotFileReader reader,
                               SnapshotFileReader::open(file.name, *loaded.bytes, {.check_file_checksum = false}));
  if (!index_matches(reader.columns(), file.columns)) {
    return Status::corruption(where + ": its index does not match the manifest's record of it");
  }
  loaded.reader.emplace(std::move(reader));
  return loaded;
}

}  // namespace streamstate::internal
