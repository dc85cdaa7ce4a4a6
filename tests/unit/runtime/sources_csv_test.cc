// The CSV file source: RFC 4180 quoting (delimiters, doubled quotes and line breaks inside
// quotes), a header per file naming the columns, another delimiter, exact replay from byte
// offsets (the header is read again), and malformed records - bad quoting, a quote open at
// the end of the file, a field count other than the header's - failing or skipped and counted.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "runtime/sources/csv_parser.h"
#include "streamstate/sources.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "unit/runtime/sources_test_helpers.h"

namespace streamstate {
namespace {

using testing::CollectingOutput;
using testing::open_or_fail;
using testing::read_all;

using Fields = std::vector<std::string>;

class CsvSourceTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::shared_ptr<FileSource<CsvRecord>> source(const std::vector<std::string>& paths,
                                                MalformedRecords malformed = MalformedRecords::kFail,
                                                CsvOptions csv = {}) {
    FileSourceOptions options;
    options.paths = paths;
    options.malformed = malformed;
    return csv_source(options, csv);
  }
  static std::vector<Fields> fields(const std::vector<CsvRecord>& records) {
    std::vector<Fields> all;
    for (const CsvRecord& record : records) all.push_back(record.fields);
    return all;
  }
  static std::vector<CsvRecord> read(Source<CsvRecord>& source) {
    Result<std::vector<SourceSplit>> splits = source.discover_splits();
    EXPECT_OK(splits);
    return splits.is_ok() ? read_all(source, *splits) : std::vector<CsvRecord>{};
  }

  testing::TempDir dir_;
};

TEST(CsvParser, SplitsQuotedAndUnquotedFields) {
  Fields fields;
  std::string error;
  using internal::CsvParse;
  EXPECT_EQ(internal::parse_csv_record(R"(a,"b,c","say ""hi""",)", ',', fields, error), CsvParse::kRecord);
  EXPECT_EQ(fields, (Fields{"a", "b,c", "say \"hi\"", ""}));
  EXPECT_EQ(internal::parse_csv_record("\"two\nlines\";x", ';', fields, error), CsvParse::kRecord);
  EXPECT_EQ(fields, (Fields{"two\nlines", "x"}));
  EXPECT_EQ(internal::parse_csv_record("a,\"open", ',', fields, error), CsvParse::kIncomplete);
  EXPECT_EQ(internal::parse_csv_record("a,b\"c", ',', fields, error), CsvParse::kMalformed);
  EXPECT_NE(error.find("a quote inside unquoted field 2"), std::string::npos) << error;
  EXPECT_EQ(internal::parse_csv_record("\"a\"x,b", ',', fields, error), CsvParse::kMalformed);
  EXPECT_NE(error.find("text after the closing quote of field 1"), std::string::npos) << error;
}

TEST_F(CsvSourceTest, HeaderNamesColumnsAndQuotedFieldsMayHoldDelimitersQuotesAndLineBreaks) {
  const std::string path =
      write("a.csv", "user,comment\r\nada,\"hello, world\"\nbob,\"said \"\"hi\"\"\"\n\ncy,\"two\nlines\"\ndee,");
  auto csv = source({path});
  const std::vector<CsvRecord> records = read(*csv);
  EXPECT_EQ(fields(records), (std::vector<Fields>{{"ada", "hello, world"},
                                                  {"bob", "said \"hi\""},
                                                  {"cy", "two\nlines"},
                                                  {"dee", ""}}));
  ASSERT_EQ(records.size(), 4u);
  ASSERT_NE(records[2].field("comment"), nullptr);
  EXPECT_EQ(*records[2].field("comment"), "two\nlines");
  EXPECT_EQ(*records[0].field("user"), "ada");
  EXPECT_EQ(records[0].field("missing"), nullptr);
  testing::expect_exact_replay<CsvRecord>(*csv, {1, 2, 3, 4});
}

TEST_F(CsvSourceTest, ByteOrderMarkIsNotPartOfTheFirstColumnName) {
  const std::string path = write("bom.csv", "\xEF\xBB\xBFuser,n\nada,1\n");
  const std::vector<CsvRecord> records = read(*source({path}));
  ASSERT_EQ(records.size(), 1u);
  ASSERT_NE(records[0].field("user"), nullptr);
  EXPECT_EQ(*records[0].field("user"), "ada");
}

TEST_F(CsvSourceTest, RestoredReaderReadsTheHeaderAgain) {
  const std::string path = write("h.csv", "k,v\n1,one\n2,two\n3,three\n");
  auto csv = source({path});
  auto reader = open_or_fail(*csv, {{path, "10"}});  // after "1,one"
  CollectingOutput<CsvRecord> out;
  testing::read_to_end(*reader, out);
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(*out.records[0].field("v"), "two");
  EXPECT_STATUS(csv->open_reader({{path, "2"}}, {}), StatusCode::kInvalidArgument, "not the start of a line");
  // A header over two lines (a quoted line break): offset 3 starts a line, but inside the header.
  const std::string two_line = write("h2.csv", "\"a\nb\",c\n1,2\n");
  auto inside = open_or_fail(*csv, {{two_line, "3"}});
  ASSERT_NE(inside, nullptr);
  EXPECT_STATUS(inside->poll(out, 1), StatusCode::kInvalidArgument, "lies inside the file's header");
  const std::vector<CsvRecord> records = read_all(*csv, {{two_line, ""}});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(*records[0].field("a\nb"), "1");
}

TEST_F(CsvSourceTest, WithoutHeaderEveryLineIsARecordAndAnotherDelimiterWorks) {
  const std::string path = write("n.csv", "1;a;x\n2;\"b;c\"\n");
  CsvOptions options;
  options.header = false;
  options.delimiter = ';';
  auto csv = source({path}, MalformedRecords::kFail, options);
  const std::vector<CsvRecord> records = read(*csv);
  EXPECT_EQ(fields(records), (std::vector<Fields>{{"1", "a", "x"}, {"2", "b;c"}}));
  EXPECT_EQ(records[0].columns, nullptr);
  CsvOptions bad;
  bad.delimiter = '"';
  EXPECT_STATUS(source({path}, MalformedRecords::kFail, bad)->discover_splits(), StatusCode::kInvalidArgument,
                "CsvOptions::delimiter");
}

TEST_F(CsvSourceTest, WrongFieldCountFailsNamingFileLineAndCounts) {
  const std::string path = write("w.csv", "a,b\n1,2\n3,4,5\n6,7\n");
  auto csv = source({path});
  auto reader = open_or_fail(*csv, *csv->discover_splits());
  CollectingOutput<CsvRecord> out;
  EXPECT_STATUS(reader->poll(out, 10), StatusCode::kInvalidArgument,
                path + " line 3 (byte offset 8): malformed CSV: 3 fields where the header has 2 columns");
  EXPECT_EQ(fields(out.records), (std::vector<Fields>{{"1", "2"}}));
}

TEST_F(CsvSourceTest, BadQuotingFailsWithTheParsersMessage) {
  const std::string path = write("q.csv", "a,b\n1,x\"y\n");
  auto csv = source({path});
  auto reader = open_or_fail(*csv, *csv->discover_splits());
  CollectingOutput<CsvRecord> out;
  EXPECT_STATUS(reader->poll(out, 10), StatusCode::kInvalidArgument,
                "line 2 (byte offset 4): malformed CSV: a quote inside unquoted field 2");
}

TEST_F(CsvSourceTest, MalformedRecordsAreSkippedAndCounted) {
  const std::string path = write("s.csv", "a,b\n1,2\n3,4,5\n\"x\"y,1\n6,7\n");
  auto csv = source({path}, MalformedRecords::kSkip);
  EXPECT_EQ(fields(read(*csv)), (std::vector<Fields>{{"1", "2"}, {"6", "7"}}));
  EXPECT_EQ(csv->skipped_records(), 2u);
}

TEST_F(CsvSourceTest, QuoteOpenAtTheEndOfTheFileFailsOrSkipsOnlyItsFirstLine) {
  const std::string path = write("o.csv", "a,b\n1,\"never closed\n2,3\n4,5\n");
  auto failing = source({path});
  auto reader = open_or_fail(*failing, *failing->discover_splits());
  CollectingOutput<CsvRecord> out;
  EXPECT_STATUS(reader->poll(out, 10), StatusCode::kInvalidArgument,
                "line 2 (byte offset 4): malformed CSV: a quoted field is still open at the end of the file");
  // Skipping drops the line that opened the quote and reads on after it.
  auto skipping = source({path}, MalformedRecords::kSkip);
  EXPECT_EQ(fields(read(*skipping)), (std::vector<Fields>{{"2", "3"}, {"4", "5"}}));
  EXPECT_EQ(skipping->skipped_records(), 1u);
}

TEST_F(CsvSourceTest, SeveralFilesRegroupedGiveTheSameRecords) {
  std::vector<std::string> paths;
  for (int f = 0; f < 4; ++f) {
    std::string text = "id,name\n";
    for (int i = 0; i < 15; ++i) text += std::to_string(f * 100 + i) + ",\"n," + std::to_string(i) + "\"\n";
    paths.push_back(write("r" + std::to_string(f) + ".csv", text));
  }
  auto csv = source(paths);
  testing::expect_same_records_regrouped<CsvRecord>(*csv, 20, [](const CsvRecord& record) {
    return record.fields.at(0) + "|" + record.fields.at(1);
  });
  testing::expect_exact_replay<CsvRecord>(*csv, {14, 15, 16, 59});
}

}  // namespace
}  // namespace streamstate
