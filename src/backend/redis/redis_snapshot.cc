#include "backend/redis/redis_snapshot.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>
#include <vector>

namespace streamstate::internal {
namespace {

// KEYS[1] column set, KEYS[2] id counter; ARGV[1] "P:col:", ARGV[2] "P:snap:".
// COPY of an absent hash (a column with no entries) copies nothing, which reads as empty.
// The id is formatted with %d because Lua would print a large number in exponent notation.
constexpr std::string_view kSnapshotScript = R"lua(
local id = string.format('%d', redis.call('INCR', KEYS[2]))
local columns = redis.call('SMEMBERS', KEYS[1])
for _, name in ipairs(columns) do
  redis.call('COPY', ARGV[1] .. name, ARGV[2] .. id .. ':' .. name, 'REPLACE')
end
return {id, columns}
)lua";

class RedisSnapshotIterator final : public SnapshotIterator {
 public:
  RedisSnapshotIterator(std::shared_ptr<RedisStore> store, std::string copy, BytesView prefix)
      : store_(store), scanner_(std::move(store), std::move(copy), prefix) {
    fill();
  }

  bool valid() const override { return status_.is_ok() && index_ < page_.size(); }
  BytesView key() const override { return page_[index_].first; }
  BytesView value() const override { return page_[index_].second; }
  void next() override {
    if (!valid()) return;
    ++index_;
    if (store_->connection->closed()) {
      status_ = store_->connection->closed_error();
      return;
    }
    if (index_ == page_.size()) fill();
  }
  Status status() const override { return status_; }

 private:
  // Loads pages until one has entries or the copy is exhausted.
  void fill() {
    index_ = 0;
    page_.clear();
    while (page_.empty() && more_) {
      status_ = scanner_.next_page(page_, more_);
      if (!status_.is_ok()) {
        page_.clear();
        return;
      }
    }
  }

  std::shared_ptr<RedisStore> store_;
  HashScanner scanner_;
  std::vector<std::pair<std::string, std::string>> page_;
  size_t index_ = 0;
  bool more_ = true;
  Status status_;
};

class RedisSnapshot final : public BackendSnapshot {
 public:
  RedisSnapshot(std::shared_ptr<RedisStore> store, uint64_t id, std::vector<std::string> columns)
      : store_(std::move(store)), id_(id), columns_(std::move(columns)) {}

  ~RedisSnapshot() override {
    std::lock_guard<std::mutex> lock(store_->snapshot_mutex);
    auto entry = store_->live_snapshots.find(id_);
    if (entry == store_->live_snapshots.end()) return;  // close() already deleted the copies
    if (!store_->connection->closed()) {
      Status unlinked = unlink_keys(*store_, entry->second);
      (void)unlinked;  // a destructor cannot report; the keys are named "<prefix>:snap:<id>:*"
    }
    store_->live_snapshots.erase(entry);
  }

  const std::vector<std::string>& columns() const override { return columns_; }

  Result<std::unique_ptr<SnapshotIterator>> iterate(std::string_view column, BytesView prefix) override {
    if (store_->connection->closed()) return store_->connection->closed_error();
    if (!std::binary_search(columns_.begin(), columns_.end(), column)) {
      return Status::not_found("column '" + std::string(column) +
                               "' is not in the snapshot (it did not exist when " +
                               "the snapshot was taken)");
    }
    return std::unique_ptr<SnapshotIterator>(
        new RedisSnapshotIterator(store_, store_->keys.snapshot_copy(id_, column), prefix));
  }

 private:
  std::shared_ptr<RedisStore> store_;
  uint64_t id_;
  std::vector<std::string> columns_;
};

}  // namespace

Result<std::unique_ptr<BackendSnapshot>> take_redis_snapshot(const std::shared_ptr<RedisStore>& store) {
  // Held until the snapshot is registered, so that close() either sees it or runs first.
  std::lock_guard<std::mutex> lock(store->snapshot_mutex);
  uint64_t id = 0;
  std::vector<std::string> columns;
  Status status = store->connection->run("the snapshot script (EVAL)", [&](RedisSession& session) -> Status {
    columns.clear();
    Result<RedisReplyPtr> reply = session.call({"EVAL", kSnapshotScript, "2", store->keys.columns_set(),
                                                store->keys.snapshot_sequence(), store->keys.column_stem(),
                                                store->keys.snapshot_stem()});
    if (!reply.is_ok()) return reply.status();
    const redisReply& top = **reply;
    if (top.type != REDIS_REPLY_ARRAY || top.elements != 2 || top.element[0]->type != REDIS_REPLY_STRING ||
        top.element[1]->type != REDIS_REPLY_ARRAY) {
      return session.unexpected(top, "the snapshot script (EVAL)");
    }
    const BytesView id_text = reply_bytes(*top.element[0]);
    const auto parsed = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (parsed.ec != std::errc() || parsed.ptr != id_text.data() + id_text.size()) {
      return Status::io_error("Redis at " + session.address() + " returned a malformed snapshot id '" +
                              std::string(id_text) + "'");
    }
    const redisReply& names = *top.element[1];
    for (size_t i = 0; i < names.elements; ++i) {
      if (names.element[i]->type != REDIS_REPLY_STRING)
        return session.unexpected(*names.element[i], "SMEMBERS");
      columns.emplace_back(reply_bytes(*names.element[i]));
    }
    return Status::ok();
  });
  if (!status.is_ok()) return status.with_context("snapshot");
  std::sort(columns.begin(), columns.end());
  std::vector<std::string> copies;
  copies.reserve(columns.size());
  for (const std::string& column : columns) copies.push_back(store->keys.snapshot_copy(id, column));
  store->live_snapshots.emplace(id, std::move(copies));
  return std::unique_ptr<BackendSnapshot>(new RedisSnapshot(store, id, std::move(columns)));
}

void release_snapshots_and_close(RedisStore& store) {
  std::lock_guard<std::mutex> lock(store.snapshot_mutex);
  std::vector<std::string> copies;
  for (const auto& [id, keys] : store.live_snapshots) copies.insert(copies.end(), keys.begin(), keys.end());
  if (!store.connection->closed()) {
    Status unlinked = unlink_keys(store, copies);
    (void)unlinked;  // closing goes on regardless; the copies are named "<prefix>:snap:<id>:*"
  }
  store.live_snapshots.clear();
  store.connection->close();
}

}  // namespace streamstate::internal
