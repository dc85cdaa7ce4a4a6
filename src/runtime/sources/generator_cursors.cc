// The progress of a generator reader's splits and its rate limit (streamstate/sources.h).
//
// Split p of S holds the indexes p, p + S, p + 2S, ... below `count`; its position is how many
// of them it has emitted. A reader emits its splits' records in ascending index order. The rate limit is a token bucket per reader: tokens accrue at the
// reader's share of the source's rate, up to a tenth of a second's worth (at least one).

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <string>
#include <system_error>
#include <vector>

#include "streamstate/sources.h"

namespace streamstate {

namespace {

constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max();

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string split_id(uint32_t partition, uint32_t splits) {
  return "partition-" + std::to_string(partition) + "-of-" + std::to_string(splits);
}

// Records of split `partition` in a stream of `count` records (0 = unbounded).
uint64_t split_total(const GeneratorOptions& options, uint32_t partition) {
  if (options.count == 0) return kUnbounded;
  if (options.count <= partition) return 0;
  return (options.count - partition - 1) / options.splits + 1;
}

bool parse_decimal(std::string_view text, uint64_t& value) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  return error == std::errc() && ptr == end;
}

// "partition-<p>-of-<s>" -> p and s.
bool parse_split_id(std::string_view id, uint64_t& partition, uint64_t& splits) {
  constexpr std::string_view kPrefix = "partition-";
  constexpr std::string_view kOf = "-of-";
  if (id.substr(0, kPrefix.size()) != kPrefix) return false;
  id.remove_prefix(kPrefix.size());
  const size_t of = id.find(kOf);
  if (of == std::string_view::npos) return false;
  return parse_decimal(id.substr(0, of), partition) && parse_decimal(id.substr(of + kOf.size()), splits);
}

}  // namespace

uint64_t generator_record_seed(uint64_t seed, uint64_t index) {
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ULL) ^ index);
}

namespace detail {

Status GeneratorCursors::validate(const GeneratorOptions& options) {
  if (options.splits == 0) {
    return Status::invalid_argument("generator_source: GeneratorOptions::splits is 0; it must be at least 1");
  }
  if (!(options.records_per_second >= 0) || std::isinf(options.records_per_second)) {
    return Status::invalid_argument("generator_source: GeneratorOptions::records_per_second is " +
                                    std::to_string(options.records_per_second) +
                                    "; it must be a finite number >= 0 (0 = unlimited)");
  }
  return Status::ok();
}

std::vector<SourceSplit> GeneratorCursors::initial_splits(const GeneratorOptions& options) {
  std::vector<SourceSplit> splits;
  splits.reserve(options.splits);
  for (uint32_t p = 0; p < options.splits; ++p) splits.push_back({split_id(p, options.splits), ""});
  return splits;
}

std::string GeneratorCursors::describe(const GeneratorOptions& options) {
  std::string text = "generator (seed " + std::to_string(options.seed) + ", " + std::to_string(options.splits) +
                     " splits, " + (options.count == 0 ? "unbounded" : std::to_string(options.count) + " records");
  if (options.records_per_second > 0) text += ", " + std::to_string(options.records_per_second) + " records/s";
  return text + ")";
}

Result<GeneratorCursors> GeneratorCursors::open(const GeneratorOptions& options,
                                                const std::vector<SourceSplit>& splits) {
  Status valid = validate(options);
  if (!valid.is_ok()) return valid;
  GeneratorCursors cursors;
  cursors.options_ = options;
  if (cursors.options_.clock == nullptr) cursors.options_.clock = system_clock();
  std::vector<bool> seen(options.splits, false);
  for (const SourceSplit& split : splits) {
    uint64_t partition = 0;
    uint64_t of = 0;
    if (!parse_split_id(split.id, partition, of)) {
      return Status::invalid_argument("generator_source: split '" + split.id +
                                      "' is not a generator split (expected partition-<p>-of-<splits>)");
    }
    if (of != options.splits || partition >= of) {
      return Status::invalid_argument("generator_source: split '" + split.id + "' belongs to a generator with " +
                                      std::to_string(of) + " splits, this one has GeneratorOptions::splits = " +
                                      std::to_string(options.splits) + "; restore with splits = " +
                                      std::to_string(of) + " to replay the same records");
    }
    if (seen[partition]) {
      return Status::invalid_argument("generator_source: split '" + split.id + "' was given twice");
    }
    seen[partition] = true;
    const uint64_t total = split_total(options, static_cast<uint32_t>(partition));
    uint64_t emitted = 0;
    if (!split.position.empty() && !parse_decimal(split.position, emitted)) {
      return Status::invalid_argument("generator_source: position '" + split.position + "' of split '" + split.id +
                                      "' is not a record count (a decimal number)");
    }
    if (emitted > total) {
      return Status::invalid_argument("generator_source: position " + split.position + " of split '" + split.id +
                                      "' is past its end (" + std::to_string(total) +
                                      " records with GeneratorOptions::count = " + std::to_string(options.count) +
                                      ")");
    }
    cursors.cursors_.push_back({static_cast<uint32_t>(partition), emitted, total});
  }
  // Split order is emission order within a poll; sort so that it does not depend on dealing.
  std::sort(cursors.cursors_.begin(), cursors.cursors_.end(),
            [](const Cursor& a, const Cursor& b) { return a.partition < b.partition; });
  cursors.reader_rate_ = options.records_per_second * static_cast<double>(cursors.cursors_.size()) /
                         static_cast<double>(options.splits);
  return cursors;
}

size_t GeneratorCursors::grant(size_t wanted) {
  if (options_.records_per_second <= 0) return wanted;
  const double capacity = std::max(1.0, reader_rate_ / 10.0);
  const int64_t now = options_.clock->now_millis();
  if (!refilled_once_) {
    refilled_once_ = true;
    tokens_ = capacity;
  } else if (now > last_refill_millis_) {
    tokens_ = std::min(capacity, tokens_ + static_cast<double>(now - last_refill_millis_) * reader_rate_ / 1000.0);
  }
  last_refill_millis_ = std::max(last_refill_millis_, now);
  const double whole = std::floor(tokens_);
  const size_t granted = whole >= static_cast<double>(wanted) ? wanted : static_cast<size_t>(whole);
  tokens_ -= static_cast<double>(granted);
  return granted;
}

void GeneratorCursors::next_batch(size_t max_records, std::vector<uint64_t>& indexes) {
  indexes.clear();
  if (done()) return;
  // Never ask for more than the splits hold, so that unused tokens stay in the bucket.
  size_t available = 0;
  for (const Cursor& cursor : cursors_) {
    const uint64_t left = cursor.total - cursor.emitted;
    available = left >= max_records - available ? max_records : available + static_cast<size_t>(left);
    if (available >= max_records) break;
  }
  size_t budget = grant(std::max<size_t>(1, available));
  // In ascending index order across the splits: a reader over every split emits 0, 1, 2, ...,
  // and a reader's order depends only on its splits' positions, so a reader restored from
  // them continues exactly as the first would have. Splits behind the others catch up first.
  using Next = std::pair<uint64_t, size_t>;  // (next index, cursor)
  std::priority_queue<Next, std::vector<Next>, std::greater<>> next;
  for (size_t i = 0; i < cursors_.size(); ++i) {
    const Cursor& cursor = cursors_[i];
    if (cursor.emitted < cursor.total) next.emplace(cursor.partition + cursor.emitted * options_.splits, i);
  }
  while (budget > 0 && !next.empty()) {
    const auto [index, i] = next.top();
    next.pop();
    indexes.push_back(index);
    --budget;
    Cursor& cursor = cursors_[i];
    if (++cursor.emitted < cursor.total) next.emplace(index + options_.splits, i);
  }
}

bool GeneratorCursors::done() const {
  for (const Cursor& cursor : cursors_) {
    if (cursor.emitted < cursor.total) return false;
  }
  return true;
}

std::string GeneratorCursors::describe_record(uint64_t index) const {
  return "record " + std::to_string(index) + " (split " +
         split_id(static_cast<uint32_t>(index % options_.splits), options_.splits) + ", position " +
         std::to_string(index / options_.splits) + ")";
}

std::vector<SourceSplit> GeneratorCursors::splits() const {
  std::vector<SourceSplit> splits;
  splits.reserve(cursors_.size());
  for (const Cursor& cursor : cursors_) {
    splits.push_back({split_id(cursor.partition, options_.splits), std::to_string(cursor.emitted)});
  }
  return splits;
}

}  // namespace detail
}  // namespace streamstate
