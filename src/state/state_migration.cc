#include "state/state_migration.h"

#include <memory>
#include <optional>
#include <utility>

#include "core/expiring_value.h"
#include "state/printable.h"
#include "streamstate/key_group.h"
#include "streamstate/state_key.h"
#include "streamstate/write_batch.h"
#include "util/status_macros.h"

namespace streamstate::internal {

namespace {

// A batch is written once it holds this many operations or bytes.
constexpr size_t kBatchOperations = 1000;
constexpr size_t kBatchBytes = size_t{4} << 20;

Status drop_if_present(StateBackend& backend, std::string_view column) {
  Status status = backend.drop_column(column);
  if (status.code() == StatusCode::kNotFound) return Status::ok();
  return status;
}

Status flush_if_full(StateBackend& backend, WriteBatch& batch, bool force) {
  if (batch.empty() || (!force && batch.size() < kBatchOperations && batch.payload_bytes() < kBatchBytes)) {
    return Status::ok();
  }
  Status status = backend.write(batch);
  batch.clear();
  return status;
}

// Calls visit(key, value) for each entry of `column` in a snapshot; a missing column has none.
template <typename Visit>
Status for_each_entry(StateBackend& backend, std::string_view column, Visit&& visit) {
  STREAMSTATE_ASSIGN_OR_RETURN(std::unique_ptr<BackendSnapshot> snapshot, backend.snapshot());
  auto iterator = snapshot->iterate(column);
  if (iterator.status().code() == StatusCode::kNotFound) return Status::ok();
  if (!iterator.is_ok()) return iterator.status();
  SnapshotIterator& it = *iterator.value();
  for (; it.valid(); it.next()) STREAMSTATE_RETURN_IF_ERROR(visit(it.key(), it.value()));
  return it.status();
}

// True for a list head, false for a list element (by the length of the key's namespace part).
Result<bool> is_list_head(const std::string& state_name, BytesView key) {
  const std::string where = "state '" + state_name + "': " + describe_state_key(key, StateKind::kList);
  Result<StateKeyParts> parts = decode_state_key(key);
  if (!parts.is_ok()) return parts.status().with_context(where);
  ByteReader in(parts->name_space);
  uint32_t length = 0;
  BytesView name_space;
  if (!in.read_varint32(length) || !in.read_bytes(length, name_space)) {
    return Status::corruption(where + " has a malformed list namespace");
  }
  if (in.remaining() == 0) return true;
  if (in.remaining() == 8) return false;
  return Status::corruption(where + " has " + std::to_string(in.remaining()) +
                            " bytes after the list namespace; expected 0 (head) or 8 (element)");
}

// The new stored value of one entry, or nullopt to drop it (expired).
Result<std::optional<std::string>> rewrite_entry(const StateRewrite& rewrite, BytesView key,
                                                 BytesView value) {
  const std::string where = "state '" + rewrite.state_name + "', " + describe_state_key(key, rewrite.from.kind);
  int64_t expires_at = rewrite.expiry_for_new_headers;
  BytesView payload = value;
  if (rewrite.from.ttl) {
    const std::optional<int64_t> expiry = read_expiry(value);
    if (!expiry.has_value()) {
      return Status::corruption(where + ": value of " + std::to_string(value.size()) +
                                " bytes is too short for its expiry header");
    }
    if (is_expired_at(*expiry, rewrite.now)) return std::optional<std::string>();
    expires_at = *expiry;
    payload = expiring_payload(value);
  }
  bool head = false;
  if (rewrite.from.kind == StateKind::kList) {
    STREAMSTATE_ASSIGN_OR_RETURN(head, is_list_head(rewrite.state_name, key));
  }
  std::string migrated(payload);
  if (!head) {
    for (const SchemaMigration& migration : rewrite.migrations) {
      Result<std::string> next = migration(migrated);
      if (!next.is_ok()) {
        return next.status().with_context(where + ": schema migration " + rewrite.from.schema.to_string() +
                                          " -> " + rewrite.to.schema.to_string() +
                                          " failed (nothing was changed)");
      }
      migrated = std::move(next).value();
    }
  }
  std::string stored;
  if (rewrite.to.ttl) {
    append_expiring_value(stored, expires_at, migrated);
  } else {
    stored = std::move(migrated);
  }
  return std::optional<std::string>(std::move(stored));
}

Status stage_entries(StateBackend& backend, const StateRewrite& rewrite, const std::string& staging) {
  STREAMSTATE_RETURN_IF_ERROR(drop_if_present(backend, staging));
  STREAMSTATE_RETURN_IF_ERROR(backend.column(staging).status());
  WriteBatch batch;
  STREAMSTATE_RETURN_IF_ERROR(
      for_each_entry(backend, rewrite.state_name, [&](BytesView key, BytesView value) {
        STREAMSTATE_ASSIGN_OR_RETURN(const std::optional<std::string> stored,
                                     rewrite_entry(rewrite, key, value));
        if (stored.has_value()) batch.put(staging, key, *stored);
        return flush_if_full(backend, batch, false);
      }));
  return flush_if_full(backend, batch, true);
}

}  // namespace

std::string staging_column_name(std::string_view state_name) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hash = hash_key(state_name);
  std::string digits(16, '0');
  for (size_t i = 16; i-- > 0; hash >>= 4) digits[i] = kHex[hash & 0xf];
  return std::string(kReservedColumnPrefix) + "migration." + digits;
}

Status rewrite_state(StateBackend& backend, StateColumn& states, const StateRewrite& rewrite) {
  const std::string staging = staging_column_name(rewrite.state_name);
  Status staged = stage_entries(backend, rewrite, staging);
  if (!staged.is_ok()) {
    // Phase 1 failed: the state is untouched; the staging column is only clutter now.
    (void)drop_if_present(backend, staging);
    return staged;
  }
  STREAMSTATE_RETURN_IF_ERROR(
      states.put(migration_marker_key(rewrite.state_name), encode_state_record(rewrite.to)));
  return finish_state_rewrite(backend, rewrite.state_name, rewrite.to, rewrite.column_options);
}

Status finish_state_rewrite(StateBackend& backend, const std::string& state_name, const StateRecord& to,
                            const ColumnOptions& column_options) {
  const std::string staging = staging_column_name(state_name);
  const std::string where = "state '" + state_name + "': finishing its rewrite from " + staging;
  STREAMSTATE_RETURN_IF_ERROR(drop_if_present(backend, state_name).with_context(where));
  STREAMSTATE_RETURN_IF_ERROR(
      backend.column_with_options(state_name, column_options).status().with_context(where));
  WriteBatch batch;
  STREAMSTATE_RETURN_IF_ERROR(for_each_entry(backend, staging, [&](BytesView key, BytesView value) {
                                batch.put(state_name, key, value);
                                return flush_if_full(backend, batch, false);
                              }).with_context(where));
  STREAMSTATE_RETURN_IF_ERROR(flush_if_full(backend, batch, true).with_context(where));
  batch.put(kStatesColumn, state_name, encode_state_record(to));
  batch.remove(kStatesColumn, migration_marker_key(state_name));
  STREAMSTATE_RETURN_IF_ERROR(backend.write(batch).with_context(where));
  return drop_if_present(backend, staging).with_context(where);
}

}  // namespace streamstate::internal
