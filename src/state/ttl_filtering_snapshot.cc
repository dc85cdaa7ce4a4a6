#include "state/ttl_filtering_snapshot.h"

#include <optional>
#include <utility>

#include "core/expiring_value.h"
#include "state/printable.h"

namespace streamstate::internal {

namespace {

class ExpiryFilteringIterator final : public SnapshotIterator {
 public:
  ExpiryFilteringIterator(std::unique_ptr<SnapshotIterator> inner, std::string column, int64_t now)
      : inner_(std::move(inner)), column_(std::move(column)), now_(now) {
    skip_expired();
  }

  bool valid() const override { return status_.is_ok() && inner_->valid(); }
  BytesView key() const override { return inner_->key(); }
  BytesView value() const override { return inner_->value(); }
  void next() override {
    inner_->next();
    skip_expired();
  }
  Status status() const override { return status_.is_ok() ? inner_->status() : status_; }

 private:
  void skip_expired() {
    for (; inner_->valid(); inner_->next()) {
      const std::optional<int64_t> expires_at = read_expiry(inner_->value());
      if (!expires_at.has_value()) {
        status_ = Status::corruption("state '" + column_ + "': " + describe_state_key(inner_->key()) +
                                     " has a value of " + std::to_string(inner_->value().size()) +
                                     " bytes, too short for its expiry header");
        return;
      }
      if (!is_expired_at(*expires_at, now_)) return;
    }
  }

  std::unique_ptr<SnapshotIterator> inner_;
  const std::string column_;
  const int64_t now_;
  Status status_;
};

}  // namespace

TtlFilteringSnapshot::TtlFilteringSnapshot(std::unique_ptr<BackendSnapshot> inner,
                                           std::set<std::string, std::less<>> filtered_columns, int64_t now)
    : inner_(std::move(inner)), filtered_columns_(std::move(filtered_columns)), now_(now) {}

Result<std::unique_ptr<SnapshotIterator>> TtlFilteringSnapshot::iterate(std::string_view column,
                                                                        BytesView prefix) {
  auto iterator = inner_->iterate(column, prefix);
  if (!iterator.is_ok() || !filtered_columns_.contains(column)) return iterator;
  return std::unique_ptr<SnapshotIterator>(
      std::make_unique<ExpiryFilteringIterator>(std::move(iterator).value(), std::string(column), now_));
}

}  // namespace streamstate::internal
