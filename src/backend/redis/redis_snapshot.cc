#include "backend/redis/redis_snapshot.h"

#include "backend/redis/redis_scripts.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace streamstate::internal {
namespace {

class RedisSnapshotIterator final : public SnapshotIterator {
 public:
  RedisSnapshotIterator(std::shared_ptr<RedisStore> store, std::vector<std::string> copies, BytesView prefix)
      : store_(std::move(store)), copies_(std::move(copies)), prefix_(prefix) {
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
  // Loads pages until one has entries or every copy is exhausted.
  void fill() {
    index_ = 0;
    page_.clear();
    while (page_.empty()) {
      if (!more_) {
        if (next_copy_ == copies_.size()) return;
        scanner_.emplace(store_, copies_[next_copy_++], prefix_);
        more_ = true;
      }
      status_ = scanner_->next_page(page_, more_);
      if (!status_.is_ok()) {
        page_.clear();
        return;
      }
    }
  }

  std::shared_ptr<RedisStore> store_;
  std::vector<std::string> copies_;  // the hashes to read, in order
  std::string prefix_;
  size_t next_copy_ = 0;
  std::optional<HashScanner> scanner_;
  std::vector<std::pair<std::string, std::string>> page_;
  size_t index_ = 0;
  bool more_ = false;  // whether scanner_ has more pages
  Status status_;
};

class RedisSnapshot final : public BackendSnapshot {
 public:
  RedisSnapshot(std::shared_ptr<RedisStore> store, uint64_t id, std::vector<std::string> columns,
                std::map<std::string, std::vector<std::string>> groups)
      : store_(std::move(store)), id_(id), columns_(std::move(columns)), groups_(std::move(groups)) {}

  ~RedisSnapshot() override {
    std::lock_guard<std::mutex> lock(store_->snapshot_mutex);
    auto entry = store_->live_snapshots.find(id_);
    if (entry == store_->live_snapshots.end()) return;  // close() already deleted the copies
    if (!store_->connection->closed()) {
      Status unlinked = unlink_keys(*store_, entry->second);
      (void)unlinked;  // a destructor cannot report; the keys are named "<prefix>:snap{...}:<id>"
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
    std::vector<std::string> copies;
    auto groups = groups_.find(std::string(column));
    if (groups != groups_.end()) {
      for (const std::string& group : groups_for_prefix(groups->second, prefix)) {
        copies.push_back(store_->keys.snapshot_copy(id_, column, group));
      }
    }
    return std::unique_ptr<SnapshotIterator>(new RedisSnapshotIterator(store_, std::move(copies), prefix));
  }

 private:
  std::shared_ptr<RedisStore> store_;
  uint64_t id_;
  std::vector<std::string> columns_;
  std::map<std::string, std::vector<std::string>> groups_;  // column -> groups copied (hex)
};

}  // namespace

Result<std::unique_ptr<BackendSnapshot>> take_redis_snapshot(const std::shared_ptr<RedisStore>& store) {
  // Held until the snapshot is registered, so that close() either sees it or runs first.
  std::lock_guard<std::mutex> lock(store->snapshot_mutex);
  uint64_t id = 0;
  std::vector<std::string> columns;
  std::map<std::string, std::vector<std::string>> groups;
  const RedisScript& script = store->scripts.snapshot;
  Status status = store->connection->run(script.name, [&](RedisSession& session) -> Status {
    columns.clear();
    groups.clear();
    Result<RedisReplyPtr> reply = eval_script(
        session, script, {store->keys.registry(), store->keys.snapshot_sequence()}, {store->keys.prefix()});
    if (!reply.is_ok()) return reply.status();
    const redisReply& top = **reply;
    if (top.type != REDIS_REPLY_ARRAY || top.elements < 1 || top.element[0]->type != REDIS_REPLY_STRING) {
      return session.unexpected(top, script.name);
    }
    const BytesView id_text = reply_bytes(*top.element[0]);
    const auto parsed = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (parsed.ec != std::errc() || parsed.ptr != id_text.data() + id_text.size()) {
      return Status::io_error("Redis at " + session.address() + " returned a malformed snapshot id '" +
                              std::string(id_text) + "'");
    }
    for (size_t i = 1; i < top.elements; ++i) {
      const redisReply& column = *top.element[i];
      if (column.type != REDIS_REPLY_ARRAY || column.elements != 2 || column.element[0]->type != REDIS_REPLY_STRING ||
          column.element[1]->type != REDIS_REPLY_ARRAY) {
        return session.unexpected(column, script.name);
      }
      std::string name(reply_bytes(*column.element[0]));
      std::vector<std::string>& copied = groups[name];
      const redisReply& names = *column.element[1];
      for (size_t g = 0; g < names.elements; ++g) {
        if (names.element[g]->type != REDIS_REPLY_STRING) return session.unexpected(*names.element[g], script.name);
        copied.emplace_back(reply_bytes(*names.element[g]));
      }
      columns.push_back(std::move(name));
    }
    return Status::ok();
  });
  if (!status.is_ok()) return status.with_context("snapshot");
  std::sort(columns.begin(), columns.end());
  std::vector<std::string> copies;
  for (const auto& [column, copied] : groups) {
    for (const std::string& group : copied) copies.push_back(store->keys.snapshot_copy(id, column, group));
  }
  store->live_snapshots.emplace(id, std::move(copies));
  return std::unique_ptr<BackendSnapshot>(new RedisSnapshot(store, id, std::move(columns), std::move(groups)));
}

void release_snapshots_and_close(RedisStore& store) {
  std::lock_guard<std::mutex> lock(store.snapshot_mutex);
  std::vector<std::string> copies;
  for (const auto& [id, keys] : store.live_snapshots) copies.insert(copies.end(), keys.begin(), keys.end());
  if (!store.connection->closed()) {
    Status unlinked = unlink_keys(store, copies);
    (void)unlinked;  // closing goes on regardless; the copies are named "<prefix>:snap{...}:<id>"
  }
  store.live_snapshots.clear();
  store.connection->close();
}

}  // namespace streamstate::internal
