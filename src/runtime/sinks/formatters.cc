// The ready-made record formatters of streamstate/sinks.h.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "streamstate/sinks.h"

namespace streamstate {
namespace {

bool needs_quotes(const std::string& field) {
  if (field.empty()) return false;
  if (field.front() == ' ' || field.back() == ' ') return true;
  return field.find_first_of(",\"\r\n") != std::string::npos;
}

}  // namespace

LineFormatter<std::string> string_lines() {
  return [](const std::string& record, std::string& line) { line.append(record); };
}

LineFormatter<nlohmann::json> json_lines() {
  // Strict UTF-8: a record that cannot be written as JSON fails instead of being altered.
  return [](const nlohmann::json& record, std::string& line) {
    line.append(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict));
  };
}

void append_csv_row(const std::vector<std::string>& fields, std::string& line) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.push_back(',');
    const std::string& field = fields[i];
    if (!needs_quotes(field)) {
      line.append(field);
      continue;
    }
    line.push_back('"');
    for (char c : field) {
      if (c == '"') line.push_back('"');
      line.push_back(c);
    }
    line.push_back('"');
  }
}

LineFormatter<std::vector<std::string>> csv_lines() {
  return [](const std::vector<std::string>& record, std::string& line) { append_csv_row(record, line); };
}

EntryFormatter<nlohmann::json> json_fields() {
  return [](const nlohmann::json& record, RedisStreamFields& fields) {
    if (!record.is_object()) {
      fields.emplace_back("json", record.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict));
      return;
    }
    for (const auto& [name, value] : record.items()) {
      fields.emplace_back(name, value.is_string() ? value.get<std::string>()
                                                  : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict));
    }
  };
}

}  // namespace streamstate
