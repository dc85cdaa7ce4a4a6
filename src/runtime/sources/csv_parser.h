// Splitting one CSV record into fields (RFC 4180 quoting), for csv_source.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace streamstate::internal {

enum class CsvParse {
  kRecord,      // `fields` holds the record's fields
  kIncomplete,  // a quoted field is still open at the end of `text`: the record continues
  kMalformed,   // `error` says where and why
};

// Splits `text` at `delimiter`. A field in double quotes may hold the delimiter, line breaks
// and "" (one quote); a quote inside an unquoted field or text after a closing quote is
// malformed.
CsvParse parse_csv_record(std::string_view text, char delimiter, std::vector<std::string>& fields,
                          std::string& error);

}  // namespace streamstate::internal
