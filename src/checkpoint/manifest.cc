// Checkpoint manifest: JSON encoding and the checked parser. Format in docs/formats.md,
// "Checkpoint manifest".
#include "checkpoint/manifest.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "streamstate/checksum.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kChecksumKey = "\"checksum\"";
constexpr std::string_view kChecksumPrefix = "\"checksum\": \"";
constexpr std::string_view kChecksumSuffix = "\"\n}\n";

const char* kind_name(CheckpointKind kind) { return kind == CheckpointKind::kFull ? "full" : "incremental"; }

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out.push_back(kDigits[(static_cast<unsigned char>(c) >> 4) & 0xF]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 0xF]);
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool from_hex(std::string_view text, std::string& out) {
  if (text.size() % 2 != 0) return false;
  out.clear();
  for (size_t i = 0; i < text.size(); i += 2) {
    int high = hex_digit(text[i]);
    int low = hex_digit(text[i + 1]);
    if (high < 0 || low < 0) return false;
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

OrderedJson encode_file(const CheckpointFile& file) {
  OrderedJson columns = OrderedJson::array();
  for (const CheckpointFileColumn& column : file.columns) {
    OrderedJson groups = OrderedJson::array();
    for (const CheckpointKeyGroupOffset& group : column.key_groups) {
      groups.push_back(OrderedJson::array({group.key_group, group.offset, group.entries}));
    }
    columns.push_back(OrderedJson{{"name", column.name},
                                  {"values_carry_expiry", column.values_carry_expiry},
                                  {"entries", column.entries},
                                  {"section_offset", column.section_offset},
                                  {"section_end", column.section_end},
                                  {"key_groups", std::move(groups)}});
  }
  OrderedJson json{{"name", file.name},
                   {"size", file.size},
                   {"checksum", checksum_hex(file.checksum)},
                   {"shared", file.shared},
                   {"content", std::string(checkpoint_file_content_name(file.content))}};
  if (file.content == CheckpointFileContent::kRocksDbFile) json["local_name"] = file.local_name;
  json["columns"] = std::move(columns);
  return json;
}

OrderedJson encode_body(const CheckpointManifest& manifest) {
  OrderedJson states = OrderedJson::array();
  for (const CheckpointState& state : manifest.states) {
    states.push_back(OrderedJson{{"name", state.name},
                                 {"kind", state.kind},
                                 {"codec", state.codec},
                                 {"ttl", state.ttl},
                                 {"schema_version", state.schema_version.to_string()}});
  }
  OrderedJson records = OrderedJson::array();
  for (const auto& [key, value] : manifest.store_records) {
    records.push_back(OrderedJson{{"key", to_hex(key)}, {"value", to_hex(value)}});
  }
  OrderedJson files = OrderedJson::array();
  for (const CheckpointFile& file : manifest.files) files.push_back(encode_file(file));
  OrderedJson body;
  body["format_version"] = kManifestFormatVersion;
  body["id"] = manifest.id;
  body["created_millis"] = manifest.created_millis;
  body["kind"] = kind_name(manifest.kind);
  body["parents"] = manifest.parents;
  body["backend_kind"] = manifest.backend_kind;
  body["max_parallelism"] = manifest.max_parallelism;
  body["key_groups"] = OrderedJson{{"begin", manifest.key_groups.begin()}, {"end", manifest.key_groups.end()}};
  body["states"] = std::move(states);
  body["columns"] = manifest.columns;
  body["store_records"] = std::move(records);
  body["files"] = std::move(files);
  body["source_positions"] = manifest.source_positions;
  body["user_metadata"] = manifest.user_metadata;
  if (manifest.log_position.has_value()) body["log_position"] = *manifest.log_position;
  return body;
}

// A RocksDB file name: 1..255 characters of [A-Za-z0-9._-], not "." or "..".
bool is_plain_file_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

// Reads typed members of one JSON object, remembering the first error (named by path).
class FieldReader {
 public:
  FieldReader(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

  const Json* member(const char* key, bool (Json::*is_type)() const noexcept, const char* type) {
    if (!object_.is_object()) return fail(path_ + " is not an object");
    auto it = object_.find(key);
    if (it == object_.end()) return fail(path_ + "." + key + " is missing");
    if (!((*it).*is_type)()) return fail(path_ + "." + key + " is not " + type);
    return &*it;
  }
  uint64_t unsigned_number(const char* key, uint64_t max = UINT64_MAX) {
    const Json* value = member(key, &Json::is_number_unsigned, "an unsigned integer");
    if (value == nullptr) return 0;
    uint64_t number = value->get<uint64_t>();
    if (number > max) fail(path_ + "." + key + " is " + std::to_string(number) + ", above " + std::to_string(max));
    return number;
  }
  std::string string(const char* key) {
    const Json* value = member(key, &Json::is_string, "a string");
    return value == nullptr ? std::string() : value->get<std::string>();
  }
  bool boolean(const char* key) {
    const Json* value = member(key, &Json::is_boolean, "a boolean");
    return value != nullptr && value->get<bool>();
  }
  const Json& array(const char* key) {
    const Json* value = member(key, &Json::is_array, "an array");
    return value == nullptr ? empty_array() : *value;
  }
  std::nullptr_t fail(const std::string& what) {
    if (error_.empty()) error_ = what;
    return nullptr;
  }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  bool has(const char* key) const { return object_.is_object() && object_.contains(key); }

 private:
  static const Json& empty_array() {
    static const Json kEmpty = Json::array();
    return kEmpty;
  }
  const Json& object_;
  std::string path_;
  std::string error_;
};

bool parse_schema_version(const std::string& text, SchemaVersion& out) {
  uint32_t parts[3] = {0, 0, 0};
  size_t part = 0;
  size_t digits = 0;
  for (char c : text) {
    if (c == '.') {
      if (digits == 0 || ++part > 2) return false;
      digits = 0;
    } else if (c >= '0' && c <= '9' && digits < 9) {
      parts[part] = parts[part] * 10 + static_cast<uint32_t>(c - '0');
      ++digits;
    } else {
      return false;
    }
  }
  if (part != 2 || digits == 0) return false;
  out = SchemaVersion{parts[0], parts[1], parts[2]};
  return true;
}

bool is_state_kind(const std::string& kind) {
  return kind == "value" || kind == "list" || kind == "map" || kind == "reducing" || kind == "aggregating";
}

void parse_column(FieldReader& in, const Json& json, const std::string& path, uint64_t file_size,
                  uint32_t max_parallelism, CheckpointFileColumn& column) {
  FieldReader c(json, path);
  column.name = c.string("name");
  column.values_carry_expiry = c.boolean("values_carry_expiry");
  column.entries = c.unsigned_number("entries");
  column.section_offset = c.unsigned_number("section_offset", file_size);
  column.section_end = c.unsigned_number("section_end", file_size);
  if (c.error().empty() && column.section_end < column.section_offset) c.fail(path + " ends before it starts");
  uint64_t counted = 0;
  for (const Json& group : c.array("key_groups")) {
    if (!c.error().empty()) break;
    if (!group.is_array() || group.size() != 3 || !group[0].is_number_unsigned() || !group[1].is_number_unsigned() ||
        !group[2].is_number_unsigned()) {
      c.fail(path + ".key_groups holds an entry that is not [key group, offset, entries]");
      break;
    }
    CheckpointKeyGroupOffset offset{0, group[1].get<uint64_t>(), group[2].get<uint64_t>()};
    uint64_t key_group = group[0].get<uint64_t>();
    bool ascending = column.key_groups.empty() ||
                     (key_group > column.key_groups.back().key_group && offset.offset > column.key_groups.back().offset);
    if (key_group >= max_parallelism || !ascending || offset.offset <= column.section_offset ||
        offset.offset >= column.section_end || offset.entries == 0 || offset.entries > UINT64_MAX - counted) {
      c.fail(path + ".key_groups has an invalid entry for key group " + std::to_string(key_group));
      break;
    }
    offset.key_group = static_cast<uint32_t>(key_group);
    counted += offset.entries;
    column.key_groups.push_back(offset);
  }
  if (c.error().empty() && counted != column.entries) c.fail(path + " counts its entries inconsistently");
  if (!c.error().empty()) in.fail(c.error());
}

void parse_files(FieldReader& in, const Json& files, uint32_t max_parallelism, CheckpointManifest& manifest) {
  for (size_t i = 0; i < files.size() && in.error().empty(); ++i) {
    std::string path = "files[" + std::to_string(i) + "]";
    FieldReader f(files[i], path);
    CheckpointFile file;
    file.name = f.string("name");
    file.size = f.unsigned_number("size");
    if (f.error().empty() && (!file.name.starts_with("chk-") || !validate_object_name(file.name).is_ok())) {
      f.fail(path + ".name '" + file.name + "' is not an object under \"chk-\"");
    }
    if (f.error().empty() && !parse_checksum_hex(f.string("checksum"), file.checksum)) {
      f.fail(path + ".checksum is not 16 lowercase hex digits");
    }
    file.shared = f.boolean("shared");
    // Absent in manifests written before incremental checkpoints: a snapshot file of entries.
    if (f.has("content")) {
      std::string content = f.string("content");
      if (content == "entries") {
        file.content = CheckpointFileContent::kEntries;
      } else if (content == "tombstones") {
        file.content = CheckpointFileContent::kTombstones;
      } else if (content == "rocksdb") {
        file.content = CheckpointFileContent::kRocksDbFile;
        file.local_name = f.string("local_name");
        if (f.error().empty() && !is_plain_file_name(file.local_name)) {
          f.fail(path + ".local_name '" + file.local_name + "' is not a plain file name");
        }
      } else if (f.error().empty()) {
        f.fail(path + ".content '" + content + "' is not \"entries\", \"tombstones\" or \"rocksdb\"");
      }
    }
    const Json& columns = f.array("columns");
    for (size_t c = 0; c < columns.size() && f.error().empty(); ++c) {
      CheckpointFileColumn column;
      parse_column(f, columns[c], path + ".columns[" + std::to_string(c) + "]", file.size, max_parallelism, column);
      file.columns.push_back(std::move(column));
    }
    if (!f.error().empty()) {
      in.fail(f.error());
      return;
    }
    manifest.files.push_back(std::move(file));
  }
}

void parse_states(FieldReader& in, const Json& states, CheckpointManifest& manifest) {
  for (size_t i = 0; i < states.size() && in.error().empty(); ++i) {
    std::string path = "states[" + std::to_string(i) + "]";
    FieldReader s(states[i], path);
    CheckpointState state;
    state.name = s.string("name");
    state.kind = s.string("kind");
    state.codec = s.string("codec");
    state.ttl = s.boolean("ttl");
    std::string schema = s.string("schema_version");
    if (s.error().empty() && (state.name.empty() || !is_state_kind(state.kind))) {
      s.fail(path + " has an empty name or an unknown kind '" + state.kind + "'");
    }
    if (s.error().empty() && !parse_schema_version(schema, state.schema_version)) {
      s.fail(path + ".schema_version '" + schema + "' is not major.minor.patch");
    }
    if (!s.error().empty()) in.fail(s.error());
    manifest.states.push_back(std::move(state));
  }
}

void parse_string_map(FieldReader& in, const char* key, std::map<std::string, std::string>& out) {
  const Json* map = in.member(key, &Json::is_object, "an object");
  if (map == nullptr) return;
  for (const auto& [name, value] : map->items()) {
    if (!value.is_string()) {
      in.fail(std::string(key) + "." + name + " is not a string");
      return;
    }
    out.emplace(name, value.get<std::string>());
  }
}

void parse_body(FieldReader& in, CheckpointManifest& m) {
  m.id = in.unsigned_number("id");
  const Json* created = in.member("created_millis", &Json::is_number_integer, "an integer");
  if (created != nullptr) m.created_millis = created->get<int64_t>();
  std::string kind = in.string("kind");
  if (in.error().empty() && kind != "full" && kind != "incremental") in.fail("kind '" + kind + "' is unknown");
  m.kind = kind == "incremental" ? CheckpointKind::kIncremental : CheckpointKind::kFull;
  for (const Json& parent : in.array("parents")) {
    if (!parent.is_number_unsigned() || parent.get<uint64_t>() >= m.id) {
      in.fail("parents holds something other than an id below " + std::to_string(m.id));
      break;
    }
    m.parents.push_back(parent.get<uint64_t>());
  }
  if (in.error().empty() && (m.id == 0 || (m.kind == CheckpointKind::kFull) != m.parents.empty())) {
    in.fail("id 0, or a parent chain that does not match kind '" + kind + "'");
  }
  m.backend_kind = in.string("backend_kind");
  m.max_parallelism = static_cast<uint32_t>(in.unsigned_number("max_parallelism", kUpperBoundMaxParallelism));
  if (in.error().empty() && m.max_parallelism == 0) in.fail("max_parallelism is 0");
  const Json* range = in.member("key_groups", &Json::is_object, "an object");
  if (range != nullptr) {
    FieldReader r(*range, "key_groups");
    uint64_t begin = r.unsigned_number("begin", m.max_parallelism);
    uint64_t end = r.unsigned_number("end", m.max_parallelism);
    if (r.error().empty() && begin >= end) r.fail("key_groups is empty or reversed");
    if (!r.error().empty()) in.fail(r.error());
    m.key_groups = KeyGroupRange(static_cast<uint32_t>(begin), static_cast<uint32_t>(end));
  }
  parse_states(in, in.array("states"), m);
  for (const Json& column : in.array("columns")) {
    if (!column.is_string() || !validate_column_name(column.get<std::string>()).is_ok() ||
        (!m.columns.empty() && m.columns.back() >= column.get<std::string>())) {
      in.fail("columns holds an invalid or unsorted column name");
      break;
    }
    m.columns.push_back(column.get<std::string>());
  }
  for (const Json& record : in.array("store_records")) {
    FieldReader r(record, "store_records[]");
    std::string key;
    std::string value;
    if (!from_hex(r.string("key"), key) || !from_hex(r.string("value"), value) || key.empty()) {
      in.fail(r.error().empty() ? "store_records holds a key or value that is not hex" : r.error());
      break;
    }
    m.store_records.emplace(std::move(key), std::move(value));
  }
  if (in.error().empty()) parse_files(in, in.array("files"), m.max_parallelism, m);
  parse_string_map(in, "source_positions", m.source_positions);
  parse_string_map(in, "user_metadata", m.user_metadata);
  // Optional: only checkpoints of a LoggedBackend have it.
  if (in.error().empty() && in.has("log_position")) m.log_position = in.unsigned_number("log_position");
}

}  // namespace

std::string checksum_hex(uint64_t checksum) {
  std::string bytes;
  for (int shift = 56; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((checksum >> shift) & 0xFF));
  return to_hex(bytes);
}

bool parse_checksum_hex(std::string_view text, uint64_t& out) {
  std::string bytes;
  if (text.size() != 16 || !from_hex(text, bytes)) return false;
  out = 0;
  for (char c : bytes) out = (out << 8) | static_cast<unsigned char>(c);
  return true;
}

Result<std::string> encode_manifest(const CheckpointManifest& manifest) {
  std::string text;
  try {
    text = encode_body(manifest).dump(2);
  } catch (const nlohmann::json::exception& error) {
    return Status::invalid_argument("checkpoint " + std::to_string(manifest.id) +
                                    ": the manifest cannot hold a string given (" + error.what() +
                                    "); source positions, user metadata and names must be valid UTF-8");
  }
  // dump(2) ends the object with "\n}": the checksum member goes before that brace.
  text.resize(text.size() - 2);
  text += ",\n  ";
  uint64_t checksum = checksum64(text);
  text += std::string(kChecksumPrefix) + checksum_hex(checksum) + std::string(kChecksumSuffix);
  return text;
}

Result<CheckpointManifest> parse_manifest(std::string_view object_name, std::string_view bytes) {
  auto corrupt = [&](const std::string& what) {
    return Status::corruption("checkpoint manifest '" + std::string(object_name) + "': " + what +
                              "; the checkpoint cannot be used: restore an earlier one");
  };
  size_t at = bytes.rfind(kChecksumKey);
  uint64_t stored = 0;
  if (at == std::string_view::npos || bytes.size() - at != kChecksumPrefix.size() + 16 + kChecksumSuffix.size() ||
      bytes.substr(at, kChecksumPrefix.size()) != kChecksumPrefix ||
      !parse_checksum_hex(bytes.substr(at + kChecksumPrefix.size(), 16), stored) ||
      !bytes.ends_with(kChecksumSuffix)) {
    return corrupt("it does not end with its checksum member (truncated or not a manifest; " +
                   std::to_string(bytes.size()) + " bytes)");
  }
  if (checksum64(bytes.substr(0, at)) != stored) return corrupt("checksum mismatch");
  Json json = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return corrupt("not a JSON object");
  FieldReader in(json, "manifest");
  uint64_t version = in.unsigned_number("format_version");
  if (!in.error().empty()) return corrupt(in.error());
  if (version != kManifestFormatVersion) {
    return Status::failed_precondition("checkpoint manifest '" + std::string(object_name) + "' has format version " +
                                       std::to_string(version) + "; this build reads version " +
                                       std::to_string(kManifestFormatVersion) +
                                       ": restore it with a newer streamstate");
  }
  CheckpointManifest manifest;
  try {
    parse_body(in, manifest);
  } catch (const nlohmann::json::exception& error) {
    return corrupt(std::string("unexpected JSON content (") + error.what() + ")");
  }
  if (!in.error().empty()) return corrupt(in.error());
  return manifest;
}

}  // namespace streamstate::internal

namespace streamstate {

std::string_view checkpoint_file_content_name(CheckpointFileContent content) {
  switch (content) {
    case CheckpointFileContent::kEntries:
      return "entries";
    case CheckpointFileContent::kTombstones:
      return "tombstones";
    case CheckpointFileContent::kRocksDbFile:
      return "rocksdb";
  }
  return "unknown";
}

}  // namespace streamstate
