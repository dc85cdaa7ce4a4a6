// The checkpoint manifest: a JSON object per checkpoint ("chk-<id>/manifest.json") that
// people and tools can read, ending in its own XXH3 checksum (docs/formats.md, "Checkpoint
// manifest"). Internal; CheckpointManifest is in streamstate/checkpoint.h.
//
// The checksum is the XXH3-64 (seed 0) of every byte of the object before the last occurrence
// of "checksum" (with its quotes); after it the object must end exactly with
//   "checksum": "<16 lowercase hex digits>"\n}\n
// so every byte is covered. The JSON text is written with nlohmann::ordered_json, two-space
// indentation, members in the documented order.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "streamstate/checkpoint.h"
#include "streamstate/status.h"

namespace streamstate::internal {

inline constexpr uint32_t kManifestFormatVersion = 1;
inline constexpr std::string_view kManifestObject = "manifest.json";

// The manifest's bytes. kInvalidArgument when a string of the manifest (a source position or
// user metadata key or value, a codec name) is not valid UTF-8, naming it.
Result<std::string> encode_manifest(const CheckpointManifest& manifest);

// Checks the checksum, then the format version (kFailedPrecondition for a newer one, saying
// to upgrade), then every field: types, bounds (key groups < 32768, offsets within the file
// size, ascending offsets), names inside the checkpoint's folder. Anything wrong is
// kCorruption naming `object_name`.
Result<CheckpointManifest> parse_manifest(std::string_view object_name, std::string_view bytes);

// "0123456789abcdef" for checksum 0x0123456789abcdef, and back (nullopt unless exactly 16
// lowercase hex digits).
std::string checksum_hex(uint64_t checksum);
bool parse_checksum_hex(std::string_view text, uint64_t& out);

}  // namespace streamstate::internal
