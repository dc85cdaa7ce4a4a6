#include "runtime/sinks/committable_json.h"

namespace streamstate::internal {

const nlohmann::json* json_member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

Result<nlohmann::json> parse_committable(const std::string& committable, const std::string& format, int version,
                                         const std::string& context) {
  nlohmann::json json = nlohmann::json::parse(committable, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Status::corruption(context + "that is not JSON: " + committable);
  const nlohmann::json* written_by = json_member(json, "format");
  if (written_by == nullptr || *written_by != format) {
    return Status::corruption(context + "of another kind of sink (no \"format\":\"" + format + "\"): " + committable);
  }
  const nlohmann::json* written_version = json_member(json, "version");
  if (written_version == nullptr || *written_version != version) {
    return Status::corruption(context + "of an unknown version (this library reads version " +
                              std::to_string(version) + "): " + committable);
  }
  return json;
}

}  // namespace streamstate::internal
