// streamstate::Wal forwards to WalImpl; the sync policy names.
#include "streamstate/wal.h"

#include "wal/wal_impl.h"

namespace streamstate {

std::string_view wal_sync_policy_name(WalSyncPolicy policy) {
  switch (policy) {
    case WalSyncPolicy::kEveryAppend:
      return "every_append";
    case WalSyncPolicy::kGroupCommit:
      return "group_commit";
    case WalSyncPolicy::kPeriodic:
      return "periodic";
    case WalSyncPolicy::kNone:
      return "none";
  }
  return "unknown";
}

Result<WalSyncPolicy> parse_wal_sync_policy(std::string_view name) {
  for (WalSyncPolicy policy : {WalSyncPolicy::kEveryAppend, WalSyncPolicy::kGroupCommit, WalSyncPolicy::kPeriodic,
                               WalSyncPolicy::kNone}) {
    if (name == wal_sync_policy_name(policy)) return policy;
  }
  return Status::invalid_argument("unknown WAL sync policy \"" + std::string(name) +
                                  "\"; expected every_append, group_commit, periodic or none");
}

Wal::Wal(std::unique_ptr<WalImpl> impl) : impl_(std::move(impl)) {}
Wal::~Wal() = default;

Result<std::unique_ptr<Wal>> Wal::open(const WalOptions& options) {
  Result<std::unique_ptr<WalImpl>> impl = WalImpl::open(options);
  if (!impl.is_ok()) return impl.status();
  return std::unique_ptr<Wal>(new Wal(std::move(impl).value()));
}

Result<uint64_t> Wal::append(uint8_t type, BytesView payload) {
  const WalRecordInput record{type, payload};
  return impl_->append_batch(std::span<const WalRecordInput>(&record, 1));
}

Result<uint64_t> Wal::append_batch(std::span<const WalRecordInput> records) { return impl_->append_batch(records); }

Result<uint64_t> Wal::enqueue(uint8_t type, BytesView payload) {
  const WalRecordInput record{type, payload};
  return impl_->enqueue_batch(std::span<const WalRecordInput>(&record, 1));
}

Result<uint64_t> Wal::enqueue_batch(std::span<const WalRecordInput> records) { return impl_->enqueue_batch(records); }

Status Wal::wait_for(uint64_t sequence) { return impl_->wait_for(sequence); }
Status Wal::sync() { return impl_->sync(); }
Status Wal::replay(uint64_t from_sequence, const std::function<Status(const WalRecordView&)>& visit) {
  return impl_->replay(from_sequence, visit);
}
Result<uint64_t> Wal::truncate_before(uint64_t sequence) { return impl_->truncate_before(sequence); }
WalStatistics Wal::statistics() const { return impl_->statistics(); }
Status Wal::close() { return impl_->close(); }
const std::string& Wal::directory() const { return impl_->directory(); }

}  // namespace streamstate
