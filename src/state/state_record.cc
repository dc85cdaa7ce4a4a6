#include "state/state_record.h"

namespace streamstate::internal {

std::string encode_state_record(const StateRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(kStateRecordFormat));
  out.push_back(static_cast<char>(record.kind));
  put_length_prefixed(out, record.codec_name);
  put_varint32(out, record.schema.major);
  put_varint32(out, record.schema.minor);
  put_varint32(out, record.schema.patch);
  out.push_back(record.ttl ? '\1' : '\0');
  return out;
}

Result<StateRecord> decode_state_record(std::string_view state_name, BytesView bytes) {
  const std::string where =
      "state '" + std::string(state_name) + "': its record in " + std::string(kStatesColumn);
  ByteReader in(bytes);
  uint8_t format = 0;
  if (!in.read_byte(format)) return Status::corruption(where + " is empty");
  if (format != kStateRecordFormat) {
    return Status::failed_precondition(where + " has format version " + std::to_string(format) +
                                       "; this build reads " + std::to_string(kStateRecordFormat) +
                                       " (written by a newer streamstate?)");
  }
  StateRecord record;
  uint8_t kind = 0;
  BytesView codec;
  uint8_t ttl = 0;
  if (!in.read_byte(kind) || !in.read_length_prefixed(codec) || !in.read_varint32(record.schema.major) ||
      !in.read_varint32(record.schema.minor) || !in.read_varint32(record.schema.patch) ||
      !in.read_byte(ttl)) {
    return Status::corruption(where + " is truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (kind < static_cast<uint8_t>(StateKind::kValue) ||
      kind > static_cast<uint8_t>(StateKind::kAggregating)) {
    return Status::corruption(where + " has unknown state kind " + std::to_string(kind));
  }
  if (ttl > 1 || !in.empty()) {
    return Status::corruption(where + " is malformed (ttl flag " + std::to_string(ttl) + ", " +
                              std::to_string(in.remaining()) + " trailing bytes)");
  }
  record.kind = static_cast<StateKind>(kind);
  record.codec_name.assign(codec.data(), codec.size());
  record.ttl = ttl == 1;
  return record;
}

std::string migration_marker_key(std::string_view state_name) {
  return "!migration:" + std::string(state_name);
}

std::string encode_layout_record(const LayoutRecord& record) {
  std::string out;
  out.push_back(static_cast<char>(kLayoutRecordFormat));
  put_varint32(out, record.max_parallelism);
  put_length_prefixed(out, record.key_group_hash);
  put_varint32(out, record.rescale_target);
  return out;
}

Result<LayoutRecord> decode_layout_record(BytesView bytes) {
  const std::string where = "the key-group layout record '" + std::string(kLayoutKey) + "' in " +
                            std::string(kStatesColumn);
  ByteReader in(bytes);
  uint8_t format = 0;
  if (!in.read_byte(format)) return Status::corruption(where + " is empty");
  if (format != kLayoutRecordFormat) {
    return Status::failed_precondition(where + " has format version " + std::to_string(format) +
                                       "; this build reads " + std::to_string(kLayoutRecordFormat) +
                                       " (written by a newer streamstate?)");
  }
  LayoutRecord record;
  BytesView hash;
  if (!in.read_varint32(record.max_parallelism) || !in.read_length_prefixed(hash) ||
      !in.read_varint32(record.rescale_target) || !in.empty()) {
    return Status::corruption(where + " is truncated or malformed (" + std::to_string(bytes.size()) + " bytes)");
  }
  record.key_group_hash.assign(hash.data(), hash.size());
  return record;
}

std::string describe_state_record(const StateRecord& record) {
  return std::string(state_kind_name(record.kind)) + " state (codec '" + record.codec_name + "', schema " +
         record.schema.to_string() + (record.ttl ? ", with TTL)" : ", without TTL)");
}

}  // namespace streamstate::internal
