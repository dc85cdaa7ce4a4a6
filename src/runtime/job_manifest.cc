#include "runtime/job_manifest.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "checkpoint/manifest.h"
#include "runtime/prefixed_storage.h"
#include "streamstate/checksum.h"
#include "util/status_macros.h"

namespace streamstate::detail {
namespace {

using nlohmann::json;

json body_of(const JobManifest& m) {
  json states = json::array();
  for (const JobStateCheckpoint& s : m.states) {
    states.push_back({{"operator", s.operator_name},
                      {"instance", s.instance},
                      {"key_groups", {s.key_groups.begin(), s.key_groups.end()}},
                      {"prefix", s.prefix},
                      {"checkpoint", s.id},
                      {"bytes", s.bytes}});
  }
  json sources = json::object();
  for (const auto& [name, splits] : m.sources) {
    json list = json::array();
    for (const SourceSplit& split : splits) list.push_back({{"id", split.id}, {"position", split.position}});
    sources[name] = std::move(list);
  }
  json committables = json::object();
  for (const auto& [name, list] : m.committables) committables[name] = list;
  return json{{"format", 1},
              {"id", m.id},
              {"pipeline", m.pipeline},
              {"created_millis", m.created_millis},
              {"final", m.final_checkpoint},
              {"max_parallelism", m.max_parallelism},
              {"parallelism", m.parallelism},
              {"states", std::move(states)},
              {"sources", std::move(sources)},
              {"committables", std::move(committables)}};
}

}  // namespace

std::string job_manifest_name(CheckpointId id) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%010llu", static_cast<unsigned long long>(id));
  return std::string(kJobManifestPrefix) + digits + ".json";
}

std::string state_prefix(std::string_view operator_name, uint32_t instance) {
  return "state/" + std::string(operator_name) + "/" + std::to_string(instance) + "/";
}

std::string encode_job_manifest(const JobManifest& manifest) {
  json body = body_of(manifest);
  const std::string compact = body.dump();
  body["checksum"] = internal::checksum_hex(checksum64(BytesView(compact)));
  return body.dump(2) + "\n";
}

Result<JobManifest> parse_job_manifest(std::string_view object_name, std::string_view bytes) {
  const std::string where = "job manifest '" + std::string(object_name) + "'";
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::corruption(where + " is not a JSON object");
  if (!j.contains("checksum") || !j["checksum"].is_string()) return Status::corruption(where + " has no checksum");
  uint64_t stored = 0;
  if (!internal::parse_checksum_hex(j["checksum"].get<std::string>(), stored)) {
    return Status::corruption(where + ": checksum is not 16 lowercase hex digits");
  }
  j.erase("checksum");
  if (checksum64(BytesView(j.dump())) != stored) {
    return Status::corruption(where + ": checksum mismatch (the file was changed or damaged)");
  }
  try {
    JobManifest m;
    if (j.at("format").get<int>() != 1) {
      return Status::corruption(where + ": format " + j.at("format").dump() + " is not supported (this version reads 1)");
    }
    m.id = j.at("id").get<CheckpointId>();
    m.pipeline = j.at("pipeline").get<std::string>();
    m.created_millis = j.at("created_millis").get<int64_t>();
    m.final_checkpoint = j.at("final").get<bool>();
    m.max_parallelism = j.at("max_parallelism").get<uint32_t>();
    m.parallelism = j.at("parallelism").get<std::map<std::string, uint32_t>>();
    for (const json& s : j.at("states")) {
      JobStateCheckpoint state;
      state.operator_name = s.at("operator").get<std::string>();
      state.instance = s.at("instance").get<uint32_t>();
      const auto range = s.at("key_groups").get<std::vector<uint32_t>>();
      if (range.size() != 2 || range[0] >= range[1]) return Status::corruption(where + ": a bad key-group range");
      state.key_groups = KeyGroupRange(range[0], range[1]);
      state.prefix = s.at("prefix").get<std::string>();
      state.id = s.at("checkpoint").get<CheckpointId>();
      state.bytes = s.at("bytes").get<uint64_t>();
      m.states.push_back(std::move(state));
    }
    for (const auto& [name, list] : j.at("sources").items()) {
      std::vector<SourceSplit> splits;
      for (const json& split : list) {
        splits.push_back(SourceSplit{split.at("id").get<std::string>(), split.at("position").get<std::string>()});
      }
      m.sources[name] = std::move(splits);
    }
    for (const auto& [name, list] : j.at("committables").items()) {
      m.committables[name] = list.get<std::vector<std::string>>();
    }
    return m;
  } catch (const json::exception& e) {
    return Status::corruption(where + ": " + e.what());
  }
}

Status write_job_manifest(CheckpointStorage& storage, const JobManifest& manifest) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<StorageWriter> writer, storage.create(job_manifest_name(manifest.id)));
  const std::string text = encode_job_manifest(manifest);
  STREAMSTATE_RETURN_IF_ERROR(writer->append(BytesView(text)));
  return writer->commit();
}

Result<std::vector<CheckpointId>> list_job_checkpoints(CheckpointStorage& storage) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<StoredObject> objects, storage.list(kJobManifestPrefix));
  std::vector<CheckpointId> ids;
  for (const StoredObject& object : objects) {
    std::string_view rest = std::string_view(object.name).substr(kJobManifestPrefix.size());
    if (!rest.ends_with(".json")) continue;
    rest.remove_suffix(5);
    CheckpointId id = 0;
    auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
    if (error != std::errc() || end != rest.data() + rest.size()) continue;
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<JobManifest> read_job_checkpoint(CheckpointStorage& storage, CheckpointId id) {
  const std::string name = job_manifest_name(id);
  STREAMSTATE_ASSIGN_OR_RETURN(std::string bytes, storage.read(name));
  STREAMSTATE_ASSIGN_OR_RETURN(JobManifest manifest, parse_job_manifest(name, bytes));
  for (const JobStateCheckpoint& state : manifest.states) {
    PrefixedStorage folder(storage, state.prefix);
    Result<CheckpointManifest> checkpoint = read_checkpoint(folder, state.id);
    if (!checkpoint.is_ok()) {
      return Status(checkpoint.status().code(), "job checkpoint " + std::to_string(id) + " names the state of '" +
                                                    state.operator_name + "' instance " +
                                                    std::to_string(state.instance) + ", which cannot be read: " +
                                                    checkpoint.status().message());
    }
  }
  return manifest;
}

Result<std::optional<JobManifest>> latest_job_checkpoint(CheckpointStorage& storage,
                                                         std::vector<std::string>* skipped) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::vector<CheckpointId> ids, list_job_checkpoints(storage));
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    Result<JobManifest> manifest = read_job_checkpoint(storage, *it);
    if (manifest.is_ok()) return std::optional<JobManifest>(std::move(*manifest));
    if (manifest.status().code() == StatusCode::kIoError || manifest.status().code() == StatusCode::kUnavailable) {
      return manifest.status();
    }
    if (skipped != nullptr) skipped->push_back(manifest.status().to_string());
  }
  return std::optional<JobManifest>();
}

}  // namespace streamstate::detail
