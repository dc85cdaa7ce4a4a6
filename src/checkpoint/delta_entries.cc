// Incremental checkpoint entries: changed keys looked up in the snapshot, split into puts and
// tombstones, and seen again as snapshots by the snapshot file writer.
#include "checkpoint/delta_entries.h"

#include <algorithm>

#include "core/expiring_value.h"
#include "util/status_macros.h"

namespace streamstate::internal {
namespace {

// Iterates one delta column's puts or tombstones.
class DeltaIterator final : public SnapshotIterator {
 public:
  DeltaIterator(const DeltaColumn& column, bool tombstones) : column_(column), tombstones_(tombstones) {}
  bool valid() const override { return position_ < size(); }
  BytesView key() const override {
    return tombstones_ ? BytesView(column_.tombstones[position_]) : BytesView(column_.put_keys[position_]);
  }
  BytesView value() const override {
    if (tombstones_) return BytesView();
    const auto [offset, size] = column_.put_values[position_];
    return BytesView(column_.values.data() + offset, size);
  }
  void next() override { ++position_; }
  Status status() const override { return Status::ok(); }

 private:
  size_t size() const { return tombstones_ ? column_.tombstones.size() : column_.put_keys.size(); }
  const DeltaColumn& column_;
  const bool tombstones_;
  size_t position_ = 0;
};

class DeltaView final : public BackendSnapshot {
 public:
  DeltaView(const DeltaEntries& delta, bool tombstones) : delta_(delta), tombstones_(tombstones) {
    for (const DeltaColumn& column : delta_.columns) {
      if (!(tombstones_ ? column.tombstones.empty() : column.put_keys.empty())) names_.push_back(column.name);
    }
  }
  const std::vector<std::string>& columns() const override { return names_; }
  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override {
    if (!prefix.empty()) return Status::invalid_argument("a delta view iterates whole columns only");
    for (const DeltaColumn& candidate : delta_.columns) {
      if (candidate.name == column) {
        return std::unique_ptr<SnapshotIterator>(std::make_unique<DeltaIterator>(candidate, tombstones_));
      }
    }
    return Status::not_found("delta has no column '" + std::string(column) + "'");
  }

 private:
  const DeltaEntries& delta_;
  const bool tombstones_;
  std::vector<std::string> names_;
};

}  // namespace

Result<DeltaEntries> collect_delta_entries(BackendSnapshot& snapshot, std::vector<ChangedColumn>& changes,
                                           const std::set<std::string, std::less<>>& expiring, int64_t now_millis,
                                           const std::set<std::string, std::less<>>& excluded) {
  DeltaEntries delta;
  const std::vector<std::string>& present = snapshot.columns();
  for (ChangedColumn& changed : changes) {
    if (excluded.contains(changed.name) || !std::binary_search(present.begin(), present.end(), changed.name)) continue;
    DeltaColumn column;
    column.name = changed.name;
    const bool carries_expiry = expiring.contains(changed.name);
    // Each key's value, packed into column.values; kAbsent for keys the snapshot lacks.
    constexpr size_t kAbsent = SIZE_MAX;
    std::vector<std::pair<size_t, size_t>> values(changed.keys.size(), {kAbsent, 0});
    STREAMSTATE_RETURN_IF_ERROR(snapshot.get_many(changed.name, changed.keys, [&](size_t i, BytesView found) {
      if (carries_expiry) {
        std::optional<int64_t> expiry = read_expiry(found);
        if (expiry && is_expired_at(*expiry, now_millis)) return;  // a tombstone
      }
      values[i] = {column.values.size(), found.size()};
      column.values.append(found.data(), found.size());
    }));
    column.put_keys.reserve(changed.keys.size());
    column.put_values.reserve(changed.keys.size());
    for (size_t i = 0; i < changed.keys.size(); ++i) {
      if (values[i].first == kAbsent) {
        column.tombstones.push_back(std::move(changed.keys[i]));
      } else {
        column.put_values.push_back(values[i]);
        column.put_keys.push_back(std::move(changed.keys[i]));
      }
    }
    changed.keys = {};
    delta.puts += column.put_keys.size();
    delta.tombstones += column.tombstones.size();
    if (!column.put_keys.empty() || !column.tombstones.empty()) delta.columns.push_back(std::move(column));
  }
  std::sort(delta.columns.begin(), delta.columns.end(),
            [](const DeltaColumn& a, const DeltaColumn& b) { return a.name < b.name; });
  return delta;
}

std::unique_ptr<BackendSnapshot> delta_puts_view(const DeltaEntries& delta) {
  return std::make_unique<DeltaView>(delta, false);
}

std::unique_ptr<BackendSnapshot> delta_tombstones_view(const DeltaEntries& delta) {
  return std::make_unique<DeltaView>(delta, true);
}

}  // namespace streamstate::internal
