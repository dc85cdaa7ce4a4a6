// The typed sink factories and their formatters (JSON lines, CSV, headers), the stream sink,
// and the errors of an unusable sink directory.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "streamstate/sinks.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace streamstate {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;

FileSinkOptions options_in(const fs::path& directory) {
  FileSinkOptions options;
  options.directory = directory.string();
  options.prefix = "out";
  return options;
}

TEST(SinkFormatTest, CsvRowsAreQuotedWhereNeeded) {
  std::string line;
  append_csv_row({"plain", "a,b", "say \"hi\"", "", " padded", "two\nlines"}, line);
  EXPECT_EQ(line, "plain,\"a,b\",\"say \"\"hi\"\"\",,\" padded\",\"two\nlines\"");
}

TEST(SinkFormatTest, JsonRecordsBecomeJsonLines) {
  TempDir dir;
  auto sink = file_sink<nlohmann::json>(options_in(dir.path()));
  ASSERT_OK(sink);
  auto writer = (*sink)->open_writer({"json", 0, 1});
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->write(nlohmann::json{{"user", "ada"}, {"clicks", 3}}, kNoEventTime));
  ASSERT_OK((*writer)->write(nlohmann::json::array({1, "two\nlines"}), kNoEventTime));
  ASSERT_OK((*sink)->commit((*writer)->pre_commit(1).value()));
  EXPECT_EQ(read_file(dir.path() / "out-0-00000001-0000.jsonl"), "{\"clicks\":3,\"user\":\"ada\"}\n[1,\"two\\nlines\"]\n");
}

TEST(SinkFormatTest, CsvFilesStartEveryPartWithTheHeader) {
  TempDir dir;
  FileSinkOptions options = options_in(dir.path());
  options.suffix = ".csv";
  options.header = "user,clicks";
  options.roll_bytes = 20;
  struct Count {
    std::string user;
    int clicks;
  };
  auto sink = file_sink<Count>(options, [](const Count& count, std::string& line) {
    append_csv_row({count.user, std::to_string(count.clicks)}, line);
  });
  ASSERT_OK(sink);
  auto writer = (*sink)->open_writer({"csv", 0, 1});
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->write(Count{"ada", 1}, kNoEventTime));  // header 12 + 6 bytes
  ASSERT_OK((*writer)->write(Count{"bob, jr", 2}, kNoEventTime));  // 24 bytes: rolls
  ASSERT_OK((*writer)->write(Count{"cy", 3}, kNoEventTime));
  ASSERT_OK((*sink)->commit((*writer)->pre_commit(2).value()));
  EXPECT_EQ(read_file(dir.path() / "out-0-00000002-0000.csv"), "user,clicks\nada,1\n\"bob, jr\",2\n");
  EXPECT_EQ(read_file(dir.path() / "out-0-00000002-0001.csv"), "user,clicks\ncy,3\n");
}

TEST(SinkFormatTest, AFormatterThatThrowsFailsTheWrite) {
  TempDir dir;
  auto sink = file_sink<int>(options_in(dir.path()), [](const int& value, std::string& line) {
    if (value < 0) throw std::invalid_argument("negative value");
    line += std::to_string(value);
  });
  ASSERT_OK(sink);
  auto writer = (*sink)->open_writer({"ints", 0, 1});
  ASSERT_OK(writer);
  EXPECT_OK((*writer)->write(1, kNoEventTime));
  EXPECT_STATUS((*writer)->write(-1, kNoEventTime), StatusCode::kInvalidArgument, "negative value");
  // Invalid UTF-8 cannot become JSON text: an error, not an altered record.
  auto json_sink = file_sink<nlohmann::json>(options_in(dir.path() / "json"));
  ASSERT_OK(json_sink);
  auto json_writer = (*json_sink)->open_writer({"json", 0, 1});
  ASSERT_OK(json_writer);
  EXPECT_STATUS((*json_writer)->write(nlohmann::json("\xff"), kNoEventTime), StatusCode::kInvalidArgument,
                "formatter failed");
}

TEST(SinkFormatTest, StreamSinkWritesLinesAtOnce) {
  std::ostringstream out;
  auto sink = ostream_sink<nlohmann::json>(out);
  EXPECT_FALSE(sink->exactly_once());
  auto zero = sink->open_writer({"print", 0, 2});
  auto one = sink->open_writer({"print", 1, 2});
  ASSERT_OK(zero);
  ASSERT_OK(one);
  ASSERT_OK((*zero)->write(nlohmann::json{{"n", 1}}, kNoEventTime));
  EXPECT_EQ(out.str(), "{\"n\":1}\n") << "written before any checkpoint";
  ASSERT_OK((*one)->write(nlohmann::json{{"n", 2}}, kNoEventTime));
  auto committable = (*zero)->pre_commit(1);
  ASSERT_OK(committable);
  EXPECT_EQ(*committable, "");
  EXPECT_OK(sink->commit(""));
  EXPECT_OK(sink->recover({}));
  EXPECT_EQ(out.str(), "{\"n\":1}\n{\"n\":2}\n");
}

TEST(SinkFormatTest, AFailedStreamFailsTheWrite) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  auto sink = ostream_line_sink(out, "the report stream");
  auto writer = sink->open_writer({"print", 0, 1});
  ASSERT_OK(writer);
  EXPECT_STATUS((*writer)->write("x", kNoEventTime), StatusCode::kIoError, "the report stream");
}

TEST(SinkDirectoryTest, ADirectoryThatCannotBeCreatedIsNamed) {
  TempDir dir;
  std::ofstream(dir.path() / "a-file") << "not a directory";
  const fs::path under_file = dir.path() / "a-file" / "out";
  EXPECT_STATUS(file_line_sink(options_in(under_file)), StatusCode::kIoError,
                "cannot create the file sink's directory " + under_file.string());
  EXPECT_STATUS(file_line_sink(options_in(under_file)), StatusCode::kIoError, "FileSinkOptions::directory");
}

// Makes `directory` unwritable even for root (the immutable attribute), or by permissions.
// False when neither works here.
bool make_unwritable(const fs::path& directory, bool immutable) {
  if (!immutable) return ::chmod(directory.c_str(), 0555) == 0;
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  int flags = 0;
  bool done = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  flags |= FS_IMMUTABLE_FL;
  done = done && ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  ::close(fd);
  return done;
}

void make_writable(const fs::path& directory, bool immutable) {
  if (!immutable) {
    ::chmod(directory.c_str(), 0755);
    return;
  }
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  int flags = 0;
  if (fd >= 0 && ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
    flags &= ~FS_IMMUTABLE_FL;
    (void)::ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  if (fd >= 0) ::close(fd);
}

TEST(SinkDirectoryTest, AnUnwritableDirectoryIsNamedAtCreationAndAtOpenWriter) {
  TempDir dir;
  const fs::path out = dir.path() / "out";
  auto sink = file_line_sink(options_in(out));
  ASSERT_OK(sink);
  const fs::path staging = out / ".out.in-progress";
  const bool immutable = ::geteuid() == 0;  // root writes through permissions
  if (!make_unwritable(staging, immutable)) GTEST_SKIP() << "cannot make a directory unwritable here";
  Status at_open = (*sink)->open_writer({"s", 0, 1}).status();
  Status at_creation = file_line_sink(options_in(out)).status();
  make_writable(staging, immutable);
  EXPECT_STATUS(at_open, StatusCode::kIoError, "the file sink directory " + out.string() + " is not writable");
  EXPECT_STATUS(at_open, StatusCode::kIoError, "give this process write permission");
  EXPECT_STATUS(at_creation, StatusCode::kIoError, "the file sink directory " + out.string() + " is not writable");
}

}  // namespace
}  // namespace streamstate
