#include "checkpoint/store_catalog.h"

#include <algorithm>
#include <cstdio>

#include "streamstate/key_group.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

constexpr std::string_view kLayoutKey = "!layout";
constexpr uint8_t kRecordFormat = 1;

const char* kind_name(uint8_t kind) {
  switch (kind) {
    case 1: return "value";
    case 2: return "list";
    case 3: return "map";
    case 4: return "reducing";
    case 5: return "aggregating";
    default: return nullptr;
  }
}

}  // namespace

std::optional<CheckpointState> decode_state_record_bytes(const std::string& name, BytesView bytes) {
  ByteReader in(bytes);
  uint8_t format = 0;
  uint8_t kind = 0;
  uint8_t ttl = 0;
  BytesView codec;
  CheckpointState state;
  if (!in.read_byte(format) || format != kRecordFormat || !in.read_byte(kind) || kind_name(kind) == nullptr ||
      !in.read_length_prefixed(codec) || !in.read_varint32(state.schema_version.major) ||
      !in.read_varint32(state.schema_version.minor) || !in.read_varint32(state.schema_version.patch) ||
      !in.read_byte(ttl) || ttl > 1 || !in.empty()) {
    return std::nullopt;
  }
  state.name = name;
  state.kind = kind_name(kind);
  state.codec = std::string(codec);
  state.ttl = ttl == 1;
  return state;
}

std::optional<uint32_t> decode_layout_max_parallelism(BytesView bytes) {
  ByteReader in(bytes);
  uint8_t format = 0;
  uint32_t max_parallelism = 0;
  if (!in.read_byte(format) || format != kRecordFormat || !in.read_varint32(max_parallelism)) return std::nullopt;
  return max_parallelism;
}

Result<StoreCatalog> read_store_catalog(BackendSnapshot& snapshot) {
  StoreCatalog catalog;
  const std::vector<std::string>& columns = snapshot.columns();
  if (!std::binary_search(columns.begin(), columns.end(), std::string(kStoreRecordsColumn))) return catalog;
  STREAMSTATE_ASSIGN_OR_RETURN(auto it, snapshot.iterate(kStoreRecordsColumn));
  for (; it->valid(); it->next()) {
    std::string key(it->key());
    BytesView value = it->value();
    if (key == kLayoutKey) {
      catalog.max_parallelism = decode_layout_max_parallelism(value);
    } else if (!key.empty() && key[0] != '!') {
      std::optional<CheckpointState> state = decode_state_record_bytes(key, value);
      if (state) {
        if (state->ttl) catalog.ttl_states.insert(key);
        catalog.states.push_back(std::move(*state));
      }
    }
    catalog.records.emplace(std::move(key), std::string(value));
  }
  STREAMSTATE_RETURN_IF_ERROR(it->status());
  std::sort(catalog.states.begin(), catalog.states.end(),
            [](const CheckpointState& a, const CheckpointState& b) { return a.name < b.name; });
  return catalog;
}

std::string migration_staging_column(std::string_view state) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash_key(state)));
  return "_ss.migration." + std::string(hex);
}

std::string quoted_state_names(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "'" : ", '") + name + "'";
  return out.empty() ? "no states" : out;
}

}  // namespace streamstate::internal
