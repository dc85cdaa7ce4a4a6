// CSV record splitting (csv_parser.h).

#include "runtime/sources/csv_parser.h"

#include <string>

namespace streamstate::internal {

CsvParse parse_csv_record(std::string_view text, char delimiter, std::vector<std::string>& fields,
                          std::string& error) {
  fields.clear();
  size_t at = 0;
  for (;;) {
    std::string field;
    const size_t column = fields.size() + 1;
    if (at < text.size() && text[at] == '"') {
      ++at;
      for (;;) {
        const size_t quote = text.find('"', at);
        if (quote == std::string_view::npos) return CsvParse::kIncomplete;
        field.append(text.substr(at, quote - at));
        at = quote + 1;
        if (at < text.size() && text[at] == '"') {
          field += '"';
          ++at;
          continue;
        }
        break;
      }
      if (at < text.size() && text[at] != delimiter) {
        error = "text after the closing quote of field " + std::to_string(column) + " (at character " +
                std::to_string(at + 1) + ")";
        return CsvParse::kMalformed;
      }
    } else {
      size_t end = text.find(delimiter, at);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view raw = text.substr(at, end - at);
      const size_t quote = raw.find('"');
      if (quote != std::string_view::npos) {
        error = "a quote inside unquoted field " + std::to_string(column) + " (at character " +
                std::to_string(at + quote + 1) + "); quote the whole field and double the quote";
        return CsvParse::kMalformed;
      }
      field.assign(raw);
      at = end;
    }
    fields.push_back(std::move(field));
    if (at >= text.size()) return CsvParse::kRecord;
    ++at;  // the delimiter; a delimiter at the very end leaves an empty last field
  }
}

}  // namespace streamstate::internal
