// The CSV file source (streamstate/sources.h): RFC 4180 records, an optional header per file.

#include <memory>
#include <string>
#include <vector>

#include "runtime/sources/csv_parser.h"
#include "runtime/sources/file_source.h"

namespace streamstate {

const std::string* CsvRecord::field(std::string_view column) const {
  if (columns == nullptr) return nullptr;
  for (size_t i = 0; i < columns->size() && i < fields.size(); ++i) {
    if ((*columns)[i] == column) return &fields[i];
  }
  return nullptr;
}

bool operator==(const CsvRecord& a, const CsvRecord& b) {
  if (a.fields != b.fields) return false;
  if (a.columns == nullptr || b.columns == nullptr) return a.columns == b.columns;
  return *a.columns == *b.columns;
}

namespace {

class CsvFormat final : public internal::LineFormat<CsvRecord> {
 public:
  explicit CsvFormat(CsvOptions options) : options_(options) {}

  Result<uint64_t> begin_file(internal::LineReader& reader) override {
    columns_.reset();
    if (!options_.header) return 0;
    std::string header;
    bool first = true;
    std::string_view line;
    for (;;) {
      Result<bool> got = reader.next(line);
      if (!got.is_ok()) return got.status();
      if (!*got) {
        if (first) return 0;  // an empty file: no header, no records
        return Status::invalid_argument(reader.path() + ": the header line has a quoted field still open at the "
                                        "end of the file");
      }
      if (!first) header += '\n';
      header.append(line);
      first = false;
      std::vector<std::string> names;
      std::string error;
      switch (internal::parse_csv_record(header, options_.delimiter, names, error)) {
        case internal::CsvParse::kRecord:
          columns_ = std::make_shared<const std::vector<std::string>>(std::move(names));
          return reader.offset();
        case internal::CsvParse::kIncomplete:
          continue;
        case internal::CsvParse::kMalformed:
          return Status::invalid_argument(reader.path() + ": the header line (line 1) is malformed CSV: " + error);
      }
    }
  }

  Parsed parse(std::string_view text, CsvRecord& record, std::string& error) override {
    if (text.empty()) return Parsed::kBlank;
    switch (internal::parse_csv_record(text, options_.delimiter, record.fields, error)) {
      case internal::CsvParse::kIncomplete:
        return Parsed::kIncomplete;
      case internal::CsvParse::kMalformed:
        return Parsed::kMalformed;
      case internal::CsvParse::kRecord:
        break;
    }
    if (columns_ != nullptr && record.fields.size() != columns_->size()) {
      error = std::to_string(record.fields.size()) + " fields where the header has " +
              std::to_string(columns_->size()) + " columns";
      return Parsed::kMalformed;
    }
    record.columns = columns_;
    return Parsed::kRecord;
  }

  const char* name() const override { return "CSV"; }

 private:
  CsvOptions options_;
  std::shared_ptr<const std::vector<std::string>> columns_;  // the current file's header
};

Status check_csv_options(const CsvOptions& csv) {
  if (csv.delimiter == '"' || csv.delimiter == '\n' || csv.delimiter == '\r') {
    return Status::invalid_argument("csv_source: CsvOptions::delimiter cannot be a quote or a line break");
  }
  return Status::ok();
}

}  // namespace

std::shared_ptr<FileSource<CsvRecord>> csv_source(FileSourceOptions options, CsvOptions csv) {
  return std::make_shared<internal::FileSourceImpl<CsvRecord>>(
      std::move(options), "csv_source", [csv] { return std::make_unique<CsvFormat>(csv); }, check_csv_options(csv));
}

}  // namespace streamstate
