// Text-lines and JSON-lines file sources (streamstate/sources.h).

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/sources/file_source.h"

namespace streamstate {

namespace {

class TextLineFormat final : public internal::LineFormat<std::string> {
 public:
  Parsed parse(std::string_view text, std::string& record, std::string& /*error*/) override {
    record.assign(text);
    return Parsed::kRecord;
  }
  const char* name() const override { return "text"; }
};

bool blank(std::string_view text) { return text.find_first_not_of(" \t") == std::string_view::npos; }

class JsonLineFormat final : public internal::LineFormat<nlohmann::json> {
 public:
  Parsed parse(std::string_view text, nlohmann::json& record, std::string& error) override {
    if (blank(text)) return Parsed::kBlank;
    try {
      record = nlohmann::json::parse(text);
      return Parsed::kRecord;
    } catch (const nlohmann::json::exception& parse_error) {
      error = parse_error.what();
      return Parsed::kMalformed;
    }
  }
  const char* name() const override { return "JSON"; }
};

}  // namespace

std::shared_ptr<FileSource<std::string>> text_lines_source(FileSourceOptions options) {
  return std::make_shared<internal::FileSourceImpl<std::string>>(
      std::move(options), "text_lines_source", [] { return std::make_unique<TextLineFormat>(); });
}

std::shared_ptr<FileSource<nlohmann::json>> json_lines_source(FileSourceOptions options) {
  return std::make_shared<internal::FileSourceImpl<nlohmann::json>>(
      std::move(options), "json_lines_source", [] { return std::make_unique<JsonLineFormat>(); });
}

}  // namespace streamstate
