// StateCore: map entries under the current key and namespace, found by a prefix scan of the
// scoped prefix. Under a TTL, expired entries are removed after the scan (and returned once
// with kReturnExpiredIfNotCleanedUp); under kOnReadAndWrite the visited live entries get a
// fresh expiry. Writes are collected and applied after the scan, never from inside it.
#include <utility>
#include <vector>

#include "core/expiring_value.h"
#include "streamstate/detail/state_core.h"
#include "util/status_macros.h"

namespace streamstate::detail {

Status StateCore::scan_entries(const EntryVisitor& visitor) {
  const BytesView prefix = context_->scoped_prefix();
  const int64_t time = now();
  const int64_t renewed = internal::expiry_after(time, ttl_millis_);
  Status failure;
  batch_.clear();
  Status scanned = column_->scan(prefix, [&](BytesView key, BytesView stored) {
    int64_t expires_at = 0;
    BytesView payload;
    failure = split_value(stored, expires_at, payload);
    if (!failure.is_ok()) return false;
    const BytesView suffix = key.substr(prefix.size());
    if (ttl_millis_ > 0 && expired(expires_at, time)) {
      batch_.remove(spec_.name, key);
      return return_expired() ? visitor(suffix, payload) : true;
    }
    if (ttl_millis_ > 0 && update_on_read()) {
      write_buffer_.clear();
      internal::append_expiring_value(write_buffer_, renewed, payload);
      batch_.put(spec_.name, key, write_buffer_);
    }
    return visitor(suffix, payload);
  });
  if (scanned.is_ok()) {
    scanned = failure;
  } else {
    scanned = keyed(scanned, prefix);
  }
  if (!scanned.is_ok()) {
    batch_.clear();
    return scanned;
  }
  return commit();
}

Result<bool> StateCore::has_entries() {
  bool any = false;
  STREAMSTATE_RETURN_IF_ERROR(scan_entries([&any](BytesView, BytesView) {
    any = true;
    return false;
  }));
  return any;
}

Status StateCore::clear_entries() {
  const BytesView prefix = context_->scoped_prefix();
  std::vector<std::string> keys;
  STREAMSTATE_RETURN_IF_ERROR(keyed(column_->scan(prefix, [&keys](BytesView key, BytesView) {
    keys.emplace_back(key);
    return true;
  }), prefix));
  batch_.clear();
  for (const std::string& key : keys) batch_.remove(spec_.name, key);
  return commit();
}

}  // namespace streamstate::detail
