// Constants of the snapshot file format shared by its writer and reader (docs/formats.md,
// "Snapshot file"). Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace streamstate::internal {

// First 8 bytes of every snapshot file, followed by the format version (fixed32).
inline constexpr std::string_view kSnapshotFileMagic{"SSSNAPF\x01", 8};
// Last 8 bytes of every snapshot file.
inline constexpr std::string_view kSnapshotFooterMagic{"SSSNAPE\x01", 8};
inline constexpr uint32_t kSnapshotFormatVersion = 1;
inline constexpr size_t kSnapshotHeaderBytes = 12;  // magic + version
// Footer: index offset, index size, file checksum (fixed64 each), footer magic.
inline constexpr size_t kSnapshotFooterBytes = 32;
// Block frame: fixed32 length, compressed block, fixed64 XXH3 of the compressed block.
inline constexpr size_t kBlockFrameOverhead = 12;
// Largest compressed block a reader accepts (the uncompressed limit is
// kDefaultMaxUncompressedBlock, 1 GiB).
inline constexpr uint64_t kMaxCompressedBlock = (uint64_t{1} << 30) + 64;
// Section flag bit: every value starts with an expiry header.
inline constexpr uint8_t kSectionValuesCarryExpiry = 1;

}  // namespace streamstate::internal
