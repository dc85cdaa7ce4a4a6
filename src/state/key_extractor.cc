#include "streamstate/key_extractor.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace streamstate {
namespace {

struct PathSegment {
  std::string name;             // the field name, escapes resolved
  std::optional<size_t> index;  // set when name is a canonical array index ("0", "17")
};

// "0" or digits without a leading zero that fit comfortably in size_t.
std::optional<size_t> parse_index(std::string_view text) {
  if (text.empty() || text.size() > 18 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

Result<std::vector<PathSegment>> parse_path(std::string_view path) {
  const auto malformed = [&](const std::string& problem) {
    return Status::invalid_argument("JSON key path \"" + std::string(path) + "\": " + problem +
                                    R"( (write segments separated by dots, e.g. "user.id" or "items.0.sku"; )"
                                    R"(escape a dot inside a field name as "\." and a backslash as "\\"))");
  };
  if (path.empty()) return malformed("the path is empty");
  std::vector<PathSegment> segments;
  std::string current;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '\\') {
      if (i + 1 == path.size()) return malformed("ends with a lone backslash");
      const char escaped = path[++i];
      if (escaped != '.' && escaped != '\\') {
        return malformed(std::string("unknown escape \"\\") + escaped + "\" at offset " +
                         std::to_string(i - 1));
      }
      current.push_back(escaped);
    } else if (c == '.') {
      if (current.empty()) return malformed("empty segment before offset " + std::to_string(i));
      segments.push_back({current, parse_index(current)});
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (current.empty()) return malformed("ends with an empty segment");
  segments.push_back({current, parse_index(current)});
  return segments;
}

const char* json_type_name(const nlohmann::json& value) { return value.type_name(); }

// Reads one field of a JSON record; immutable after creation, shared by every copy of the
// extractor.
class JsonFieldReader {
 public:
  JsonFieldReader(std::string path, std::vector<PathSegment> segments, JsonFieldOptions options)
      : path_(std::move(path)), segments_(std::move(segments)), options_(std::move(options)) {}

  Result<std::string> read(const nlohmann::json& record) const {
    const nlohmann::json* node = &record;
    for (size_t i = 0; i < segments_.size(); ++i) {
      const PathSegment& segment = segments_[i];
      if (node->is_object()) {
        const auto found = node->find(segment.name);
        if (found == node->end()) return missing(i);
        node = &*found;
      } else if (node->is_array()) {
        if (!segment.index) {
          return wrong_shape(i, "is an array, and \"" + segment.name + "\" is not an array index");
        }
        if (*segment.index >= node->size()) {
          return missing(i, " (the array has " + std::to_string(node->size()) + " elements)");
        }
        node = &(*node)[*segment.index];
      } else if (node->is_null()) {
        return missing(i, ", which is null");
      } else {
        return wrong_shape(i, std::string("is a ") + json_type_name(*node) + ", which has no fields");
      }
    }
    return key_text(*node);
  }

 private:
  // The path up to (not including) segment `end`, as the user wrote it; "the record" for none.
  std::string prefix(size_t end) const {
    if (end == 0) return "the record";
    std::string text;
    for (size_t i = 0; i < end; ++i) {
      if (i > 0) text.push_back('.');
      for (char c : segments_[i].name) {
        if (c == '.' || c == '\\') text.push_back('\\');
        text.push_back(c);
      }
    }
    return "\"" + text + "\"";
  }

  // `segment` is the first segment not found; `detail` says why when it is not plain absence.
  Result<std::string> missing(size_t segment, std::string_view detail = {}) const {
    if (options_.fallback) return *options_.fallback;
    return Status::not_found("JSON key field \"" + path_ + "\" is missing: no \"" + segments_[segment].name +
                             "\" in " + prefix(segment) + std::string(detail) +
                             " (set JsonFieldOptions::fallback to use a default key)");
  }

  Status wrong_shape(size_t segment, const std::string& problem) const {
    return Status::invalid_argument("JSON key field \"" + path_ + "\": " + prefix(segment) + " " + problem);
  }

  Result<std::string> key_text(const nlohmann::json& value) const {
    if (value.is_string()) return value.get_ref<const std::string&>();
    if (value.is_number() || value.is_boolean()) return value.dump();
    if (value.is_null() && options_.null_is_missing)
      return missing(segments_.size() - 1, " (the field is null)");
    if (!options_.allow_structured) {
      return Status::invalid_argument(
          "JSON key field \"" + path_ + "\" is " + json_type_name(value) +
          ", not a string, number or bool (set JsonFieldOptions::allow_structured "
          "to use its JSON text as the key)");
    }
    try {
      return value.dump();
    } catch (const nlohmann::json::exception& error) {
      return Status::invalid_argument("JSON key field \"" + path_ +
                                      "\" cannot be written as JSON text: " + error.what());
    }
  }

  std::string path_;
  std::vector<PathSegment> segments_;
  JsonFieldOptions options_;
};

Result<std::shared_ptr<const JsonFieldReader>> make_reader(std::string path,
                                                           const JsonFieldOptions& options) {
  Result<std::vector<PathSegment>> segments = parse_path(path);
  if (!segments.is_ok()) return segments.status();
  return std::make_shared<const JsonFieldReader>(std::move(path), std::move(segments).value(), options);
}

}  // namespace

Result<KeyExtractor<nlohmann::json>> json_field_key(std::string dotted_path, JsonFieldOptions options) {
  Result<std::shared_ptr<const JsonFieldReader>> reader = make_reader(std::move(dotted_path), options);
  if (!reader.is_ok()) return reader.status();
  return KeyExtractor<nlohmann::json>(
      [reader = std::move(reader).value()](const nlohmann::json& record) { return reader->read(record); });
}

Result<KeyExtractor<nlohmann::json>> json_composite_key(std::vector<std::string> dotted_paths,
                                                        JsonFieldOptions options) {
  if (dotted_paths.empty()) {
    return Status::invalid_argument(
        "json_composite_key: the list of JSON key paths is empty; give at least one path");
  }
  std::vector<std::shared_ptr<const JsonFieldReader>> readers;
  readers.reserve(dotted_paths.size());
  for (std::string& path : dotted_paths) {
    Result<std::shared_ptr<const JsonFieldReader>> reader = make_reader(std::move(path), options);
    if (!reader.is_ok()) return reader.status();
    readers.push_back(std::move(reader).value());
  }
  return KeyExtractor<nlohmann::json>(
      [readers = std::move(readers)](const nlohmann::json& record) -> Result<std::string> {
        std::string key;
        for (size_t i = 0; i < readers.size(); ++i) {
          Result<std::string> part = readers[i]->read(record);
          if (!part.is_ok()) return part.status().with_context("composite key part " + std::to_string(i));
          append_composite_key_part(key, *part);
        }
        return key;
      });
}

}  // namespace streamstate
