// StateCore: list state. A list is a head entry at the scoped prefix holding
// [first sequence fixed64][next sequence fixed64] (after the expiry header under a TTL) and
// one entry per element at scoped prefix + [sequence fixed64 big-endian]. Appending writes
// the new elements and the head in one batch, whatever the list's length; reading walks the
// sequences first..next, by a prefix scan on ordered backends and by point reads otherwise.
//
// Under a TTL every element carries its own expiry and the head carries the latest expiry
// given to any element, so a head that has expired means the whole list has. A read removes
// the expired elements it finds and moves `first` past the leading ones; a read that finds
// the head expired removes the whole list.
#include <algorithm>
#include <utility>

#include "core/expiring_value.h"
#include "streamstate/detail/state_core.h"
#include "util/status_macros.h"

namespace streamstate::detail {

namespace {

constexpr size_t kSequenceBytes = 8;

void put_fixed64_big_endian(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

uint64_t decode_fixed64_big_endian(const char* bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < kSequenceBytes; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

}  // namespace

// Progress of one read of a list.
struct StateCore::ListScan {
  explicit ListScan(const PayloadVisitor& fn) : visitor(fn) {}
  const PayloadVisitor& visitor;
  int64_t now = 0;
  int64_t renewed = 0;        // expiry given to elements read under kOnReadAndWrite
  bool head_expired = false;  // the whole list has expired
  bool stopped = false;       // the visitor asked to stop
  bool live_seen = false;     // a live element was met (ends the leading run of gone ones)
  bool renewed_any = false;
  uint64_t new_first = 0;  // first sequence after the leading expired or missing elements
  Status failure;
};

void StateCore::list_element_key(uint64_t sequence, std::string& out) const {
  const BytesView prefix = context_->scoped_prefix();
  out.assign(prefix.data(), prefix.size());
  put_fixed64_big_endian(out, sequence);
}

Result<StateCore::ListHead> StateCore::read_list_head() {
  ListHead head;
  const BytesView head_key = context_->scoped_prefix();
  STREAMSTATE_ASSIGN_OR_RETURN(head.present, keyed(column_->get_into(head_key, read_buffer_), head_key));
  if (!head.present) return head;
  int64_t expires_at = 0;
  BytesView fields;
  STREAMSTATE_RETURN_IF_ERROR(split_value(read_buffer_, expires_at, fields));
  if (fields.size() != 2 * sizeof(uint64_t)) {
    return corrupt("list head has " + std::to_string(fields.size()) + " bytes, expected 16 ([first][next])");
  }
  head.expires_at = expires_at;
  head.first = decode_fixed64(fields.data());
  head.next = decode_fixed64(fields.data() + sizeof(uint64_t));
  if (head.first > head.next) {
    return corrupt("list head has first sequence " + std::to_string(head.first) + " after next sequence " +
                   std::to_string(head.next));
  }
  return head;
}

void StateCore::stage_list_head(const ListHead& head) {
  write_buffer_.clear();
  if (ttl_millis_ > 0) put_fixed64(write_buffer_, static_cast<uint64_t>(head.expires_at));
  put_fixed64(write_buffer_, head.first);
  put_fixed64(write_buffer_, head.next);
  batch_.put(spec_.name, context_->scoped_prefix(), write_buffer_);
}

Status StateCore::list_append(std::span<const std::string> payloads) {
  if (payloads.empty()) return Status::ok();
  STREAMSTATE_ASSIGN_OR_RETURN(ListHead head, read_list_head());
  if (!head.present) head = ListHead{true, 0, 0, 0};
  const int64_t expires_at = fresh_expiry();
  batch_.clear();
  for (const std::string& payload : payloads) {
    list_element_key(head.next++, key_buffer_);
    write_buffer_.clear();
    append_stored(write_buffer_, expires_at, payload);
    batch_.put(spec_.name, key_buffer_, write_buffer_);
  }
  // Elements left in front that have expired stay in range: the next read removes them.
  head.expires_at = std::max(head.expires_at, expires_at);
  stage_list_head(head);
  return commit();
}

Status StateCore::list_replace(std::span<const std::string> payloads) {
  STREAMSTATE_ASSIGN_OR_RETURN(ListHead head, read_list_head());
  batch_.clear();
  if (head.present) {
    for (uint64_t sequence = head.first; sequence < head.next; ++sequence) {
      list_element_key(sequence, key_buffer_);
      batch_.remove(spec_.name, key_buffer_);
    }
  }
  if (payloads.empty()) {
    if (head.present) batch_.remove(spec_.name, context_->scoped_prefix());
    return commit();
  }
  // Later operations of a batch win, so new elements reusing old sequences are kept.
  const int64_t expires_at = fresh_expiry();
  for (uint64_t sequence = 0; sequence < payloads.size(); ++sequence) {
    list_element_key(sequence, key_buffer_);
    write_buffer_.clear();
    append_stored(write_buffer_, expires_at, payloads[sequence]);
    batch_.put(spec_.name, key_buffer_, write_buffer_);
  }
  stage_list_head(ListHead{true, expires_at, 0, payloads.size()});
  return commit();
}

Status StateCore::list_clear() { return list_replace({}); }

Status StateCore::list_for_each(const PayloadVisitor& visitor) {
  STREAMSTATE_ASSIGN_OR_RETURN(const ListHead head, read_list_head());
  if (!head.present) return Status::ok();
  ListScan scan(visitor);
  scan.now = now();
  scan.renewed = internal::expiry_after(scan.now, ttl_millis_);
  scan.head_expired = ttl_millis_ > 0 && expired(head.expires_at, scan.now);
  scan.new_first = head.first;
  batch_.clear();
  if (!scan.head_expired || return_expired()) {
    Status visited = visit_list_elements(head, scan);
    if (visited.is_ok()) visited = scan.failure;
    if (!visited.is_ok()) {
      batch_.clear();
      return visited;
    }
  }
  return finish_list_scan(head, scan);
}

Status StateCore::visit_list_elements(const ListHead& head, ListScan& scan) {
  if (!ordered_scan_) {
    for (uint64_t sequence = head.first; sequence < head.next && !scan.stopped; ++sequence) {
      list_element_key(sequence, key_buffer_);
      STREAMSTATE_ASSIGN_OR_RETURN(const bool found, keyed(column_->get_into(key_buffer_, read_buffer_), key_buffer_));
      if (found) STREAMSTATE_RETURN_IF_ERROR(visit_list_element(sequence, read_buffer_, scan));
    }
    return Status::ok();
  }
  // Ordered backends: one prefix scan meets the head first (the shortest key), then the
  // elements in sequence order.
  const BytesView prefix = context_->scoped_prefix();
  return keyed(column_->scan(prefix, [&](BytesView key, BytesView stored) {
    if (key.size() == prefix.size()) return true;
    if (key.size() != prefix.size() + kSequenceBytes) {
      scan.failure = corrupt("list element key has " + std::to_string(key.size() - prefix.size()) +
                             " bytes after the list prefix, expected 8");
      return false;
    }
    const uint64_t sequence = decode_fixed64_big_endian(key.data() + prefix.size());
    // Outside [first, next): left over from an earlier list whose head was dropped.
    if (sequence < head.first || sequence >= head.next) return true;
    key_buffer_.assign(key.data(), key.size());
    scan.failure = visit_list_element(sequence, stored, scan);
    return scan.failure.is_ok() && !scan.stopped;
  }), prefix);
}

Status StateCore::visit_list_element(uint64_t sequence, BytesView stored, ListScan& scan) {
  // Sequences skipped since the last element are missing (removed by a cleanup).
  if (!scan.live_seen) scan.new_first = sequence;
  int64_t expires_at = 0;
  BytesView payload;
  STREAMSTATE_RETURN_IF_ERROR(split_value(stored, expires_at, payload));
  const bool gone = ttl_millis_ > 0 && (scan.head_expired || expired(expires_at, scan.now));
  if (gone) {
    batch_.remove(spec_.name, key_buffer_);
    if (!scan.live_seen) scan.new_first = sequence + 1;
    if (return_expired() && !scan.visitor(payload)) scan.stopped = true;
    return Status::ok();
  }
  scan.live_seen = true;
  if (ttl_millis_ > 0 && update_on_read()) {
    write_buffer_.clear();
    internal::append_expiring_value(write_buffer_, scan.renewed, payload);
    batch_.put(spec_.name, key_buffer_, write_buffer_);
    scan.renewed_any = true;
  }
  if (!scan.visitor(payload)) scan.stopped = true;
  return Status::ok();
}

Status StateCore::finish_list_scan(ListHead head, const ListScan& scan) {
  if (scan.head_expired) {
    for (uint64_t sequence = head.first; sequence < head.next; ++sequence) {
      list_element_key(sequence, key_buffer_);
      batch_.remove(spec_.name, key_buffer_);
    }
    batch_.remove(spec_.name, context_->scoped_prefix());
    return commit();
  }
  uint64_t new_first = scan.new_first;
  // A walk that reached the end without a live element: everything was expired or missing.
  if (!scan.stopped && !scan.live_seen) new_first = head.next;
  if (new_first >= head.next) {
    batch_.remove(spec_.name, context_->scoped_prefix());
  } else if (new_first != head.first || scan.renewed_any) {
    head.first = new_first;
    if (scan.renewed_any) head.expires_at = std::max(head.expires_at, scan.renewed);
    stage_list_head(head);
  }
  return commit();
}

}  // namespace streamstate::detail
