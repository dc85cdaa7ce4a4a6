// streamstate-bench SUITE [--json] [--keys N] [--events N] [--runs R] [--dir PATH] [--only PREFIX]
//
// Parses the command line, runs one registered suite and prints its results. Exit status:
// 0 on success, 1 when the suite failed, 2 for a usage error or --help.
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report.h"
#include "suite.h"

namespace {

using streamstate::bench::BenchOptions;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void print_usage(std::ostream& out) {
  out << "usage: streamstate-bench SUITE [--json] [--keys N] [--events N] [--runs R] [--dir PATH] [--only PREFIX]\n"
         "\n"
         "Measures streamstate against a baseline doing the same work in the same run and\n"
         "reports both medians and their ratio (ours / baseline, higher is better).\n"
         "\n"
         "  --json      print a JSON array (one object per case) instead of a table\n"
         "  --keys N    distinct keys per case (default 1000000)\n"
         "  --events N  events per measurement of the pipeline suite (default 10000000)\n"
         "  --runs R    measurements of each side per case; the median is reported (default 3)\n"
         "  --dir PATH  parent directory for on-disk data (default: the system temp directory);\n"
         "              a fresh directory is created inside it and removed afterwards\n"
         "  --only PREFIX  report only the cases whose names start with PREFIX (memory/, rocksdb/get);\n"
         "              parts of the suite without such a case are skipped\n"
         "\n"
         "suites:\n";
  for (const auto& suite : streamstate::bench::registered_suites()) {
    out << "  " << suite.name << std::string(suite.name.size() < 12 ? 12 - suite.name.size() : 1, ' ')
        << suite.description << '\n';
  }
}

std::optional<uint64_t> parse_count(std::string_view text, uint64_t max) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > max)
    return std::nullopt;
  return value;
}

struct CommandLine {
  std::string suite;
  bool json = false;
  bool help = false;
  BenchOptions options;
};

// Returns the parsed command line, or an error message.
std::optional<CommandLine> parse(const std::vector<std::string_view>& args, std::string& error) {
  CommandLine line;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view flag = arg;
    std::optional<std::string_view> inline_value;
    if (size_t equals = arg.find('='); arg.starts_with("--") && equals != std::string_view::npos) {
      flag = arg.substr(0, equals);
      inline_value = arg.substr(equals + 1);
    }
    auto take_value = [&]() -> std::optional<std::string_view> {
      if (inline_value) return inline_value;
      if (i + 1 < args.size()) return args[++i];
      error = std::string(flag) + " needs a value";
      return std::nullopt;
    };
    if (flag == "--help" || flag == "-h") {
      line.help = true;
    } else if (flag == "--json") {
      line.json = true;
    } else if (flag == "--keys") {
      std::optional<std::string_view> text = take_value();
      if (!text) return std::nullopt;
      std::optional<uint64_t> keys = parse_count(*text, std::numeric_limits<uint32_t>::max());
      if (!keys) {
        error = "--keys must be a whole number from 1 to 4294967295, got '" + std::string(*text) + "'";
        return std::nullopt;
      }
      line.options.keys = *keys;
    } else if (flag == "--events") {
      std::optional<std::string_view> text = take_value();
      if (!text) return std::nullopt;
      std::optional<uint64_t> events = parse_count(*text, uint64_t{1} << 40);
      if (!events) {
        error = "--events must be a whole number from 1 to 1099511627776, got '" + std::string(*text) + "'";
        return std::nullopt;
      }
      line.options.events = *events;
    } else if (flag == "--runs") {
      std::optional<std::string_view> text = take_value();
      if (!text) return std::nullopt;
      std::optional<uint64_t> runs = parse_count(*text, 1000);
      if (!runs) {
        error = "--runs must be a whole number from 1 to 1000, got '" + std::string(*text) + "'";
        return std::nullopt;
      }
      line.options.runs = static_cast<int>(*runs);
    } else if (flag == "--dir") {
      std::optional<std::string_view> text = take_value();
      if (!text) return std::nullopt;
      if (text->empty()) {
        error = "--dir needs a non-empty path";
        return std::nullopt;
      }
      line.options.dir = std::string(*text);
    } else if (flag == "--only") {
      std::optional<std::string_view> text = take_value();
      if (!text) return std::nullopt;
      line.options.only = std::string(*text);
    } else if (arg.starts_with("-")) {
      error = "unknown option '" + std::string(arg) + "'";
      return std::nullopt;
    } else if (line.suite.empty()) {
      line.suite = std::string(arg);
    } else {
      error = "only one suite may be given, got '" + line.suite + "' and '" + std::string(arg) + "'";
      return std::nullopt;
    }
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string error;
  std::optional<CommandLine> line = parse(args, error);
  if (!line) {
    std::cerr << "streamstate-bench: " << error << "\n\n";
    print_usage(std::cerr);
    return kExitUsage;
  }
  if (line->help) {
    print_usage(std::cout);
    return kExitUsage;
  }
  if (line->suite.empty()) {
    std::cerr << "streamstate-bench: name a suite\n\n";
    print_usage(std::cerr);
    return kExitUsage;
  }
  const streamstate::bench::SuiteInfo* suite = streamstate::bench::find_suite(line->suite);
  if (suite == nullptr) {
    std::cerr << "streamstate-bench: unknown suite '" << line->suite << "'\n\n";
    print_usage(std::cerr);
    return kExitUsage;
  }

  line->options.progress = isatty(STDERR_FILENO) != 0;
  std::vector<streamstate::bench::CaseResult> results;
  streamstate::Status status;
  try {
    status = suite->run(line->options, results);
  } catch (const std::exception& exception) {
    // Only allocation failure can throw here (the library never throws across its API).
    status = streamstate::Status::internal(std::string("unexpected exception: ") + exception.what());
  }
  if (status.is_ok() && results.empty() && !line->options.only.empty()) {
    status = streamstate::Status::invalid_argument("no case of suite '" + suite->name + "' starts with '" +
                                                   line->options.only + "'; run without --only to list them");
  }
  if (line->json) {
    streamstate::bench::print_json(std::cout, results);
  } else {
    streamstate::bench::print_table(std::cout, suite->name, line->options, results);
  }
  if (!status.is_ok()) {
    std::cerr << "streamstate-bench: suite " << suite->name << " failed: " << status.to_string() << '\n';
    return kExitFailure;
  }
  return 0;
}
