#include "backend/memory/memory_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "core/expiring_value.h"

namespace streamstate::internal {
namespace {

// A key for an error message: printable ASCII as is, other bytes as \xNN, at most 64 bytes.
std::string describe_key(BytesView key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < key.size() && i < 64; ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\' && byte != '\'') {
      out.push_back(static_cast<char>(byte));
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  out += key.size() > 64 ? "'..." : "'";
  return out;
}

}  // namespace

MemoryStore::MemoryStore(ResolvedMemoryOptions options)
    : options_(std::move(options)),
      shard_mask_(options_.shard_count - 1),
      unlocked_reads_(options_.concurrent_reads && !options_.has_size_limit() &&
                      !(options_.refresh_ttl_on_read && options_.ttl_millis > 0)),
      shards_(std::make_unique<Shard[]>(options_.shard_count)) {
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    shards_[i].index = i;
    shards_[i].stripe = ReadGate::stripe_of(i);
    shards_[i].gate = unlocked_reads_ ? &gate_ : nullptr;  // no unlocked reader to keep out
    shards_[i].max_entries = shard_share(options_.max_entries, options_.shard_count, i);
    shards_[i].max_bytes = shard_share(options_.max_bytes, options_.shard_count, i);
  }
}

Status MemoryStore::closed_status() {
  return Status::closed("memory backend is closed: close() was called, so no further operations are accepted; "
                        "open a new backend");
}

Status MemoryStore::unusable_status(const ColumnState& column) const {
  if (closed_.load(std::memory_order_relaxed)) return closed_status();
  return Status::not_found("column '" + column.name + "' was dropped; call column(\"" + column.name +
                           "\") to create it again");
}

Status MemoryStore::check_entry_size(std::string_view column, BytesView key, size_t value_size) const {
  const uint64_t limit = options_.max_entry_bytes();
  const uint64_t size = key.size() + value_size;
  if (limit == 0 || size <= limit) return Status::ok();
  return Status::invalid_argument("entry " + describe_key(key) + " of column '" + std::string(column) + "' has " +
                                  std::to_string(size) + " bytes, more than one shard's share of max_bytes (" +
                                  std::to_string(limit) + " = max_bytes / " + std::to_string(options_.shard_count) +
                                  " shards); raise MemoryBackendOptions.max_bytes");
}

TableNode& MemoryStore::insert_entry(Shard& shard, ColumnState& column, MemoryTable& table, const KeyRef& key,
                                     BytesView value, int64_t expires_at, ValueSlabCursor* slabs) {
  record_change(shard, column, key.bytes, nullptr);
  TableNode& node = table.insert(key, value, expires_at, slabs);
  ++shard.entries;
  shard.bytes += entry_bytes(node);
  if (tracks_recency()) node.entry.recency = shard.recency.add(&column, key);
  return node;
}

void MemoryStore::erase_entry(Shard& shard, const ColumnState& column, MemoryTable& table, TableNode& node) {
  record_change(shard, column, node.key.view(), &node.entry);
  forget_entry(shard, node);
  table.erase(node, kept_buffers(shard));
}

std::shared_ptr<MemoryTable> MemoryStore::detach_table(Shard& shard, ColumnState& column) {
  std::shared_ptr<MemoryTable>& table = column.tables[shard.index];
  if (table->empty()) return nullptr;
  shard.exclude_readers();
  for (const TableNode& node : table->entries()) {
    record_change(shard, column, node.key.view(), &node.entry);
    forget_entry(shard, node);
  }
  // The empty table instead of erasing in place: the old one is freed outside the lock (or
  // once no snapshot copy points into it).
  return take_table(shard, table);
}

void MemoryStore::evict_over_limits(Shard& shard, const TableNode* keep, int64_t now) {
  while ((shard.max_entries != 0 && shard.entries > shard.max_entries) ||
         (shard.max_bytes != 0 && shard.bytes > shard.max_bytes)) {
    RecencyNode* victim = shard.recency.least_recent();
    if (victim == nullptr || (keep != nullptr && victim == keep->entry.recency)) break;
    MemoryTable& table = make_writable(shard, *victim->column);
    TableNode* node = table.find(victim->key_ref());
    // A victim whose TTL had passed already left because of its TTL, not the limit.
    if (is_expired(node->entry, now)) {
      ++shard.counters.expirations;
    } else {
      ++shard.counters.evictions;
    }
    erase_entry(shard, *victim->column, table, *node);
  }
}

Result<bool> MemoryStore::get(ColumnState& column, BytesView key, std::string* value) {
  const KeyRef ref{key, memory_key_hash(key)};
  Shard& shard = shards_[shard_index(ref.hash)];
  const int64_t time = now();
  const uint32_t slot = thread_slot();
  if (unlocked_reads_ && gate_.try_enter(slot, shard.stripe)) {
    // Checked inside the gate: a close or drop that emptied this shard is visible here.
    if (!usable(column)) {
      gate_.leave(slot, shard.stripe);
      return unusable_status(column);
    }
    const TableNode* node = std::as_const(*column.tables[shard.index]).find(ref);
    if (node == nullptr) {
      gate_.leave(slot, shard.stripe);
      get_counters_.count_miss(slot);
      return false;
    }
    if (!is_expired(node->entry, time)) {
      if (value != nullptr) value->assign(node->entry.value.view());
      gate_.leave(slot, shard.stripe);
      get_counters_.count_hit(slot);
      return true;
    }
    gate_.leave(slot, shard.stripe);  // expired: removing it needs the lock
  }
  std::lock_guard<Shard> lock(shard);
  return get_locked(shard, column, ref, value, time, slot);
}

Result<bool> MemoryStore::get_locked(Shard& shard, ColumnState& column, const KeyRef& ref, std::string* value,
                                     int64_t time, uint32_t slot) {
  if (!usable(column)) return unusable_status(column);
  TableNode* node = column.tables[shard.index]->find(ref);
  if (node == nullptr) {
    get_counters_.count_miss(slot);
    return false;
  }
  if (is_expired(node->entry, time)) {
    node = make_writable(shard, column, ref, node);
    erase_entry(shard, column, *column.tables[shard.index], *node);
    ++shard.counters.expirations;
    get_counters_.count_miss(slot);
    return false;
  }
  if (options_.refresh_ttl_on_read && options_.ttl_millis > 0) {
    node = make_writable(shard, column, ref, node);
    record_change(shard, column, ref.bytes, &node->entry);
    node->entry.expires_at = expiry_for_write(time);
  }
  // Recency lives outside the table: moving it is no change of the table.
  if (node->entry.recency != nullptr) shard.recency.touch(node->entry.recency);
  get_counters_.count_hit(slot);
  if (value != nullptr) value->assign(node->entry.value.view());
  return true;
}

void MemoryStore::put_locked(Shard& shard, ColumnState& column, const KeyRef& key, BytesView value, int64_t now,
                             ValueSlabCursor* slabs) {
  MemoryTable& table = make_writable(shard, column);
  ++shard.counters.puts;
  TableNode* node = table.find(key);
  if (node != nullptr) {
    if (is_expired(node->entry, now)) ++shard.counters.expirations;
    assign_entry(shard, column, table, *node, value, expiry_for_write(now));
  } else {
    node = &insert_entry(shard, column, table, key, value, expiry_for_write(now), slabs);
  }
  enforce_limits(shard, node, now);
}

void MemoryStore::remove_locked(Shard& shard, ColumnState& column, const KeyRef& key, int64_t now) {
  ++shard.counters.removes;
  TableNode* node = column.tables[shard.index]->find(key);
  if (node == nullptr) return;
  node = make_writable(shard, column, key, node);
  if (is_expired(node->entry, now)) ++shard.counters.expirations;
  erase_entry(shard, column, *column.tables[shard.index], *node);
}

Status MemoryStore::put(ColumnState& column, BytesView key, BytesView value) {
  if (options_.max_bytes != 0) {
    Status size = check_entry_size(column.name, key, value.size());
    if (!size.is_ok()) return size;
  }
  const KeyRef ref{key, memory_key_hash(key)};
  Shard& shard = shards_[shard_index(ref.hash)];
  const int64_t time = now();
  std::lock_guard<Shard> lock(shard);
  if (!usable(column)) return unusable_status(column);
  put_locked(shard, column, ref, value, time);
  return Status::ok();
}

Status MemoryStore::remove(ColumnState& column, BytesView key) {
  const KeyRef ref{key, memory_key_hash(key)};
  Shard& shard = shards_[shard_index(ref.hash)];
  const int64_t time = now();
  std::lock_guard<Shard> lock(shard);
  if (!usable(column)) return unusable_status(column);
  remove_locked(shard, column, ref, time);
  return Status::ok();
}

Status MemoryStore::update(ColumnState& column, BytesView key, const UpdateFunction& fn) {
  const KeyRef ref{key, memory_key_hash(key)};
  Shard& shard = shards_[shard_index(ref.hash)];
  const int64_t time = now();
  std::lock_guard<Shard> lock(shard);
  if (!usable(column)) return unusable_status(column);
  TableNode* node = column.tables[shard.index]->find(ref);
  if (node != nullptr && is_expired(node->entry, time)) {
    node = make_writable(shard, column, ref, node);
    erase_entry(shard, column, *column.tables[shard.index], *node);
    ++shard.counters.expirations;
    node = nullptr;
  }
  std::optional<std::string> next =
      fn(node != nullptr ? std::optional<BytesView>(node->entry.value.view()) : std::optional<BytesView>());
  if (next.has_value()) {
    if (options_.max_bytes != 0) {
      Status size = check_entry_size(column.name, key, next->size());
      if (!size.is_ok()) return size;
    }
    ++shard.counters.puts;
    if (node != nullptr) {
      node = make_writable(shard, column, ref, node);
      assign_entry(shard, column, *column.tables[shard.index], *node, *next, expiry_for_write(time));
    } else {
      node = &insert_entry(shard, column, make_writable(shard, column), ref, *next, expiry_for_write(time));
    }
    enforce_limits(shard, node, time);
  } else if (node != nullptr) {
    ++shard.counters.removes;
    node = make_writable(shard, column, ref, node);
    erase_entry(shard, column, *column.tables[shard.index], *node);
  }
  return Status::ok();
}

Status MemoryStore::scan(ColumnState& column, BytesView prefix, const ScanVisitor& visitor) {
  std::vector<std::pair<std::string, std::string>> matches;
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    Shard& shard = shards_[i];
    matches.clear();
    const int64_t time = now();
    {
      std::lock_guard<Shard> lock(shard);
      if (!usable(column)) return unusable_status(column);
      if (i == 0) ++shard.counters.scans;
      for (const TableNode& node : column.tables[i]->entries()) {
        if (node.key.view().starts_with(prefix) && !is_expired(node.entry, time)) {
          matches.emplace_back(node.key.view(), node.entry.value.view());
        }
      }
    }
    // The visitor runs unlocked, so it may take its time or call back into the backend.
    for (const auto& [key, value] : matches) {
      if (!visitor(key, value)) return Status::ok();
    }
  }
  return Status::ok();
}

Status MemoryStore::clear(ColumnState& column) {
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    Shard& shard = shards_[i];
    std::shared_ptr<MemoryTable> old;
    {
      std::lock_guard<Shard> lock(shard);
      if (!usable(column)) return unusable_status(column);
      old = detach_table(shard, column);
    }
    // `old` is freed here, outside the lock.
  }
  return Status::ok();
}

void MemoryStore::reserve(ColumnState& column, uint64_t entries) {
  // Keys spread evenly over the shards by their hash; a little headroom for the unevenness.
  const uint64_t share = entries / options_.shard_count + entries / options_.shard_count / 16 + 16;
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard<Shard> lock(shard);
    if (!usable(column)) return;
    MemoryTable& table = make_writable(shard, column);
    table.reserve(table.size() + share);
  }
}

void MemoryStore::erase_column(ColumnState& column) {
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    Shard& shard = shards_[i];
    std::shared_ptr<MemoryTable> old;
    {
      std::lock_guard<Shard> lock(shard);
      old = detach_table(shard, column);
    }
  }
}

MemoryStore::KeysByShard MemoryStore::sort_by_shard(size_t count, const std::function<BytesView(size_t)>& key_of) const {
  // A counting sort: shards are few, keys many.
  KeysByShard by_shard;
  const uint32_t shard_count = options_.shard_count;
  by_shard.hashes.resize(count);
  by_shard.starts.assign(shard_count + 1, 0);
  for (size_t i = 0; i < count; ++i) {
    by_shard.hashes[i] = memory_key_hash(key_of(i));
    ++by_shard.starts[shard_index(by_shard.hashes[i]) + 1];
  }
  for (uint32_t s = 0; s < shard_count; ++s) by_shard.starts[s + 1] += by_shard.starts[s];
  by_shard.order.resize(count);
  std::vector<uint32_t> next(by_shard.starts.begin(), by_shard.starts.end() - 1);
  for (size_t i = 0; i < count; ++i) {
    by_shard.order[next[shard_index(by_shard.hashes[i])]++] = static_cast<uint32_t>(i);
  }
  return by_shard;
}

Status MemoryStore::put_entries(ColumnState& column, std::span<const std::pair<BytesView, BytesView>> entries) {
  const KeysByShard by_shard = sort_by_shard(entries.size(), [&](size_t i) { return entries[i].first; });
  const int64_t time = now();
  // New entries' long values are carved from slabs, not allocated one by one. The cursor is
  // the thread's, so that many small calls fill one slab instead of starting one each.
  thread_local ValueSlabCursor slabs;
  auto put_shard = [&](uint32_t s) {
    for (uint32_t at = by_shard.starts[s]; at < by_shard.starts[s + 1]; ++at) {
      const uint32_t i = by_shard.order[at];
      put_locked(shards_[s], column, KeyRef{entries[i].first, by_shard.hashes[i]}, entries[i].second, time, &slabs);
    }
  };
  // Threads restoring side by side sweep the same shards: a shard another thread holds is
  // left for later instead of waited for, so they do not march through the shards in step.
  std::vector<uint32_t> busy;
  for (uint32_t s = 0; s < options_.shard_count; ++s) {
    if (by_shard.starts[s] == by_shard.starts[s + 1]) continue;
    std::unique_lock<Shard> lock(shards_[s], std::try_to_lock);
    if (!lock.owns_lock()) {
      busy.push_back(s);
      continue;
    }
    if (!usable(column)) return unusable_status(column);
    put_shard(s);
  }
  for (uint32_t s : busy) {
    std::lock_guard<Shard> lock(shards_[s]);
    if (!usable(column)) return unusable_status(column);
    put_shard(s);
  }
  return Status::ok();
}

Status MemoryStore::apply_batch(const std::vector<ResolvedOperation>& operations) {
  struct Prepared {
    KeyRef key;
    uint32_t shard;
    ColumnState* column;
    const WriteBatch::Operation* operation;
  };
  std::vector<Prepared> prepared;
  prepared.reserve(operations.size());
  std::vector<uint32_t> involved;
  involved.reserve(operations.size() + 1);
  for (const ResolvedOperation& resolved : operations) {
    const std::string& key = resolved.operation->key;
    const KeyRef ref{key, memory_key_hash(key)};
    prepared.push_back(Prepared{ref, shard_index(ref.hash), resolved.column, resolved.operation});
    involved.push_back(prepared.back().shard);
  }
  // An empty batch still counts; it is recorded in shard 0.
  if (involved.empty()) involved.push_back(0);
  std::sort(involved.begin(), involved.end());
  involved.erase(std::unique(involved.begin(), involved.end()), involved.end());

  const int64_t time = now();
  // Locking in index order (as capture() does) cannot deadlock; holding all the involved
  // shards makes the batch atomic for readers as well as for other writers.
  std::vector<std::unique_lock<Shard>> locks;
  locks.reserve(involved.size());
  for (uint32_t index : involved) locks.emplace_back(shards_[index]);
  if (closed_.load(std::memory_order_relaxed)) return closed_status();
  ++shards_[involved.front()].counters.batches;
  for (const Prepared& op : prepared) {
    Shard& shard = shards_[op.shard];
    if (op.operation->type == WriteBatch::OperationType::kPut) {
      put_locked(shard, *op.column, op.key, op.operation->value, time);
    } else {
      remove_locked(shard, *op.column, op.key, time);
    }
  }
  return Status::ok();
}

Result<uint64_t> MemoryStore::cleanup_expired(const std::vector<std::shared_ptr<ColumnState>>& columns) {
  const bool any_headers = std::any_of(columns.begin(), columns.end(),
                                       [](const auto& column) { return column->values_carry_expiry; });
  if (options_.ttl_millis == 0 && !any_headers) {
    // Nothing can expire: skip walking every shard (a cleanup thread may run without a ttl).
    if (closed_.load(std::memory_order_acquire)) return closed_status();
    return uint64_t{0};
  }
  uint64_t removed = 0;
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    Shard& shard = shards_[i];
    const int64_t time = now();
    // Expiry headers are absolute times, so they need the clock even without a backend ttl.
    const int64_t header_time = any_headers ? options_.clock->now_millis() : 0;
    std::lock_guard<Shard> lock(shard);
    if (closed_.load(std::memory_order_relaxed)) return closed_status();
    for (const std::shared_ptr<ColumnState>& column : columns) {
      if (!usable(*column)) continue;  // dropped meanwhile: its entries are gone already
      const bool headers = column->values_carry_expiry;
      const auto expired = [time, header_time, headers](const TableNode& node) {
        if (is_expired(node.entry, time)) return true;
        if (!headers) return false;
        const std::optional<int64_t> expires_at = read_expiry(node.entry.value.view());
        return expires_at.has_value() && is_expired_at(*expires_at, header_time);
      };
      const auto& entries = column->tables[i]->entries();
      // A column with no table of its own in the shard (the shared empty one) has nothing to remove.
      if (column->tables[i].use_count() > 1 && std::none_of(entries.begin(), entries.end(), expired)) continue;
      const uint64_t count = erase_entries_if(shard, *column, make_writable(shard, *column), expired);
      shard.counters.expirations += count;
      removed += count;
    }
  }
  return removed;
}

BackendStatistics MemoryStore::statistics() const {
  BackendStatistics total;
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard<Shard> lock(shard);
    const Counters& c = shard.counters;
    total.puts += c.puts;
    total.removes += c.removes;
    total.scans += c.scans;
    total.batches += c.batches;
    total.evictions += c.evictions;
    total.expirations += c.expirations;
    total.live_entries += shard.entries;
    total.bytes_in_use += shard.bytes;
  }
  total.hits = get_counters_.hits();
  total.misses = get_counters_.misses();
  total.gets = total.hits + total.misses;
  return total;
}

void MemoryStore::release_tables(const std::vector<std::shared_ptr<ColumnState>>& columns) {
  std::vector<std::shared_ptr<MemoryTable>> old;
  for (uint32_t i = 0; i < options_.shard_count; ++i) {
    old.clear();
    {
      std::lock_guard<Shard> lock(shards_[i]);
      shards_[i].exclude_readers();
      for (const std::shared_ptr<ColumnState>& column : columns) {
        old.push_back(take_table(shards_[i], column->tables[i]));
      }
      shards_[i].recency.clear();
      shards_[i].entries = 0;
      shards_[i].bytes = 0;
    }
    // `old` holds the data, freed outside the lock.
  }
}

}  // namespace streamstate::internal
