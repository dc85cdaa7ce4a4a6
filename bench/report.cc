// Table and JSON output of benchmark results, written by hand (no JSON dependency).
#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace streamstate::bench {
namespace {

// 1234567.8 -> "1,234,568".
std::string with_thousands(double value) {
  if (!std::isfinite(value)) return "n/a";
  std::string digits = std::to_string(static_cast<unsigned long long>(std::llround(std::max(value, 0.0))));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof(escape), "\\u%04x", static_cast<unsigned>(c));
          out += escape;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// JSON has no NaN or infinity; such a figure is written as null.
void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  out += buffer;
}

}  // namespace

void print_table(std::ostream& out, std::string_view suite, const BenchOptions& options,
                 const std::vector<CaseResult>& results) {
  const std::vector<std::string> header = {"case", "ours", "unit", "baseline", "baseline value", "ratio"};
  std::vector<std::vector<std::string>> rows;
  for (const CaseResult& result : results) {
    rows.push_back({result.name, with_thousands(result.value), result.unit, result.baseline,
                    with_thousands(result.baseline_value), fixed(result.ratio, 3)});
  }
  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    widths[c] = header[c].size();
    for (const auto& row : rows) widths[c] = std::max(widths[c], row[c].size());
  }
  // Numbers are right-aligned, text left-aligned.
  const std::vector<bool> right_aligned = {false, true, false, false, true, true};
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      std::string padding(widths[c] - row[c].size(), ' ');
      line += right_aligned[c] ? padding + row[c] : row[c] + padding;
      if (c + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  out << "suite " << suite << ": " << with_thousands(static_cast<double>(options.keys)) << " keys, median of "
      << options.runs << " run" << (options.runs == 1 ? "" : "s")
      << ", ratio = ours / baseline (higher is better)\n";
  print_row(header);
  std::vector<std::string> rule;
  for (size_t width : widths) rule.push_back(std::string(width, '-'));
  print_row(rule);
  for (const auto& row : rows) print_row(row);
}

void print_json(std::ostream& out, const std::vector<CaseResult>& results) {
  std::string text = "[";
  for (size_t i = 0; i < results.size(); ++i) {
    const CaseResult& result = results[i];
    text += i == 0 ? "\n  {" : ",\n  {";
    text += "\"case\": ";
    append_json_string(text, result.name);
    text += ", \"value\": ";
    append_json_number(text, result.value);
    text += ", \"unit\": ";
    append_json_string(text, result.unit);
    text += ", \"baseline\": ";
    append_json_string(text, result.baseline);
    text += ", \"baseline_value\": ";
    append_json_number(text, result.baseline_value);
    text += ", \"ratio\": ";
    append_json_number(text, result.ratio);
    text += ", \"runs\": " + std::to_string(result.runs);
    text += ", \"operations\": " + std::to_string(result.operations);
    text += ", \"baseline_operations\": " + std::to_string(result.baseline_operations);
    text += ", \"checksum\": " + std::to_string(result.checksum);
    text += "}";
  }
  text += results.empty() ? "]\n" : "\n]\n";
  out << text;
}

}  // namespace streamstate::bench
