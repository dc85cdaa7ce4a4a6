#include "wal/logged_change.h"

namespace streamstate::wal {

void LoggedChangeWriter::put(BytesView column, BytesView key, BytesView value) {
  bytes_.push_back(static_cast<char>(LoggedChangeKind::kPut));
  put_length_prefixed(bytes_, column);
  put_length_prefixed(bytes_, key);
  put_length_prefixed(bytes_, value);
}

void LoggedChangeWriter::remove(BytesView column, BytesView key) {
  bytes_.push_back(static_cast<char>(LoggedChangeKind::kRemove));
  put_length_prefixed(bytes_, column);
  put_length_prefixed(bytes_, key);
}

void LoggedChangeWriter::clear(BytesView column) {
  bytes_.push_back(static_cast<char>(LoggedChangeKind::kClear));
  put_length_prefixed(bytes_, column);
}

void LoggedChangeWriter::create_column(BytesView column, bool values_carry_expiry) {
  bytes_.push_back(static_cast<char>(LoggedChangeKind::kCreateColumn));
  put_length_prefixed(bytes_, column);
  bytes_.push_back(static_cast<char>(values_carry_expiry ? 1 : 0));
}

void LoggedChangeWriter::drop_column(BytesView column) {
  bytes_.push_back(static_cast<char>(LoggedChangeKind::kDropColumn));
  put_length_prefixed(bytes_, column);
}

Status decode_logged_changes(BytesView payload, uint64_t sequence,
                             const std::function<Status(const LoggedChange&)>& visit) {
  ByteReader reader(payload);
  auto corrupt = [&](const std::string& what) {
    return Status::corruption("logged change record " + std::to_string(sequence) + ": " + what + " at byte " +
                              std::to_string(payload.size() - reader.remaining()) + " of " +
                              std::to_string(payload.size()));
  };
  uint8_t version = 0;
  if (!reader.read_byte(version)) return corrupt("empty payload");
  if (version != LoggedChangeWriter::kVersion) {
    return corrupt("version " + std::to_string(version) + " is not " +
                   std::to_string(LoggedChangeWriter::kVersion) + " (written by a newer streamstate?)");
  }
  while (reader.remaining() > 0) {
    uint8_t kind = 0;
    LoggedChange change;
    if (!reader.read_byte(kind)) return corrupt("truncated change");
    if (kind < 1 || kind > 5) return corrupt("unknown change kind " + std::to_string(kind));
    change.kind = static_cast<LoggedChangeKind>(kind);
    if (!reader.read_length_prefixed(change.column)) return corrupt("truncated column name");
    switch (change.kind) {
      case LoggedChangeKind::kPut:
        if (!reader.read_length_prefixed(change.key) || !reader.read_length_prefixed(change.value)) {
          return corrupt("truncated put");
        }
        break;
      case LoggedChangeKind::kRemove:
        if (!reader.read_length_prefixed(change.key)) return corrupt("truncated remove");
        break;
      case LoggedChangeKind::kCreateColumn: {
        uint8_t flags = 0;
        if (!reader.read_byte(flags) || flags > 1) return corrupt("bad column flags");
        change.values_carry_expiry = flags == 1;
        break;
      }
      case LoggedChangeKind::kClear:
      case LoggedChangeKind::kDropColumn:
        break;
    }
    Status status = visit(change);
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

}  // namespace streamstate::wal
