#include "backend/rocksdb/expiry_compaction_filter.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "backend/rocksdb/rocksdb_status.h"
#include "core/expiring_value.h"

namespace streamstate::internal {
namespace {

class ExpiryCompactionFilter final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryCompactionFilter(std::shared_ptr<const Clock> clock) : clock_(std::move(clock)) {}

  // Removes a plain value whose expiry time has passed; RocksDB turns the removal into a
  // deletion, so an older version of the key in a lower level stays hidden. Values too short to
  // carry a header are kept: the reader reports them as corrupt, and dropping them would hide
  // the corruption. Merge operands and blob indexes (never written by this backend) are kept.
  Decision FilterV2(int /*level*/, const rocksdb::Slice& /*key*/, ValueType value_type,
                    const rocksdb::Slice& existing_value, std::string* /*new_value*/,
                    std::string* /*skip_until*/) const override {
    if (value_type != ValueType::kValue) return Decision::kKeep;
    const std::optional<int64_t> expires_at = read_expiry(to_view(existing_value));
    if (expires_at.has_value() && is_expired_at(*expires_at, clock_->now_millis())) return Decision::kRemove;
    return Decision::kKeep;
  }

  const char* Name() const override { return "streamstate.ExpiryCompactionFilter"; }

 private:
  // Shared, not borrowed from the factory: a filter may outlive a dropped family's options.
  const std::shared_ptr<const Clock> clock_;
};

class ExpiryCompactionFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  explicit ExpiryCompactionFilterFactory(std::shared_ptr<const Clock> clock)
      : clock_(std::move(clock)) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    return std::make_unique<ExpiryCompactionFilter>(clock_);
  }

  const char* Name() const override { return "streamstate.ExpiryCompactionFilterFactory"; }

 private:
  const std::shared_ptr<const Clock> clock_;
};

}  // namespace

std::shared_ptr<rocksdb::CompactionFilterFactory> make_expiry_compaction_filter_factory(
    std::shared_ptr<const Clock> clock) {
  if (clock == nullptr) clock = system_clock();
  return std::make_shared<ExpiryCompactionFilterFactory>(std::move(clock));
}

rocksdb::ColumnFamilyOptions expiring_column_family_options(const rocksdb::ColumnFamilyOptions& base,
                                                            std::shared_ptr<const Clock> clock) {
  rocksdb::ColumnFamilyOptions options = base;
  options.compaction_filter_factory = make_expiry_compaction_filter_factory(std::move(clock));
  return options;
}

}  // namespace streamstate::internal
