#include "state/printable.h"

#include "streamstate/state_key.h"

namespace streamstate::internal {

namespace {

constexpr size_t kListSequenceBytes = 8;

// The part after the namespace of a map or list key: "map key '..'", "list head", ...
std::string describe_scoped_rest(StateKind kind, BytesView rest) {
  if (kind == StateKind::kMap) return rest.empty() ? std::string() : ", map key " + printable_bytes(rest);
  if (rest.empty()) return std::string();
  if (rest.size() != kListSequenceBytes) return ", list key part " + printable_bytes(rest);
  uint64_t sequence = 0;
  for (char byte : rest) sequence = (sequence << 8) | static_cast<unsigned char>(byte);
  return ", list element " + std::to_string(sequence);
}

}  // namespace

std::string describe_state_key(BytesView stored_key, std::optional<StateKind> kind) {
  Result<StateKeyParts> parts = decode_state_key(stored_key);
  if (!parts.is_ok()) return "stored key " + printable_bytes(stored_key) + " (not a keyed-state key)";
  std::string out = "user key " + printable_bytes(parts->user_key) + " (key group " +
                    std::to_string(parts->key_group) + ", namespace ";
  const bool scoped = kind == StateKind::kMap || kind == StateKind::kList;
  if (!kind.has_value()) {
    out += "part " + printable_bytes(parts->name_space);
  } else if (!scoped) {
    out += printable_bytes(parts->name_space);
  } else {
    ByteReader in(parts->name_space);
    uint32_t length = 0;
    BytesView name_space;
    if (parts->name_space.empty()) {
      out += "''";  // a scan prefix ending before the namespace
    } else if (!in.read_varint32(length) || !in.read_bytes(length, name_space)) {
      out += "part " + printable_bytes(parts->name_space) + " (malformed)";
    } else {
      out += printable_bytes(name_space) + describe_scoped_rest(*kind, in.rest());
    }
  }
  return out + ")";
}

Status with_state_key(const Status& cause, std::string_view state_name, BytesView stored_key,
                      std::optional<StateKind> kind) {
  if (cause.is_ok()) return cause;
  std::string message = cause.message();
  const std::string raw = printable_bytes(stored_key);
  const std::string described = describe_state_key(stored_key, kind);
  for (size_t at = message.find(raw); at != std::string::npos; at = message.find(raw, at + described.size())) {
    // "get of key '<bytes>'" reads better as "get of user key '...' (...)".
    size_t begin = at;
    if (begin >= 4 && message.compare(begin - 4, 4, "key ") == 0) begin -= 4;
    message.replace(begin, at + raw.size() - begin, described);
    at = begin;
  }
  return Status(cause.code(), "state '" + std::string(state_name) + "': " + message);
}

}  // namespace streamstate::internal
