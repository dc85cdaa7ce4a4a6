#include "backend/redis/redis_store.h"

#include <utility>

namespace streamstate::internal {

Status unlink_keys(RedisStore& store, const std::vector<std::string>& keys) {
  if (keys.empty()) return Status::ok();
  RedisArgs args = {"UNLINK"};
  for (const std::string& key : keys) args.push_back(key);
  return store.connection->run("UNLINK of snapshot copies", [&](RedisSession& session) -> Status {
    Result<RedisReplyPtr> reply = session.call(args);
    if (!reply.is_ok()) return reply.status();
    return session.check(**reply, "UNLINK of snapshot copies");
  });
}

HashScanner::HashScanner(std::shared_ptr<RedisStore> store, std::string hash, BytesView prefix)
    : store_(std::move(store)),
      hash_(std::move(hash)),
      prefix_(prefix),
      pattern_(glob_pattern_for_prefix(prefix)) {}

Status HashScanner::next_page(std::vector<std::pair<std::string, std::string>>& page, bool& more) {
  page.clear();
  if (finished_) {
    more = false;
    return Status::ok();
  }
  const std::string count = std::to_string(store_->options.pipeline_depth);
  std::string next_cursor;
  Status status = store_->connection->run("HSCAN", [&](RedisSession& session) -> Status {
    page.clear();
    Result<RedisReplyPtr> reply = session.call({"HSCAN", hash_, cursor_, "MATCH", pattern_, "COUNT", count});
    if (!reply.is_ok()) return reply.status();
    const redisReply& top = **reply;
    if (top.type != REDIS_REPLY_ARRAY || top.elements != 2 || top.element[0]->type != REDIS_REPLY_STRING ||
        top.element[1]->type != REDIS_REPLY_ARRAY || top.element[1]->elements % 2 != 0) {
      return session.unexpected(top, "HSCAN of " + hash_);
    }
    next_cursor = std::string(reply_bytes(*top.element[0]));
    const redisReply& entries = *top.element[1];
    for (size_t i = 0; i + 1 < entries.elements; i += 2) {
      const redisReply& key = *entries.element[i];
      const redisReply& value = *entries.element[i + 1];
      if (key.type != REDIS_REPLY_STRING || value.type != REDIS_REPLY_STRING) {
        return session.unexpected(key.type != REDIS_REPLY_STRING ? key : value, "HSCAN of " + hash_);
      }
      page.emplace_back(std::string(reply_bytes(key)), std::string(reply_bytes(value)));
    }
    return Status::ok();
  });
  if (!status.is_ok()) {
    page.clear();
    return status;
  }
  // The MATCH pattern already selects the prefix; the check guards against a server whose
  // glob rules differ from the escaping used here.
  size_t kept = 0;
  for (size_t i = 0; i < page.size(); ++i) {
    if (!page[i].first.starts_with(prefix_) || !seen_.insert(page[i].first).second) continue;
    if (kept != i) page[kept] = std::move(page[i]);
    ++kept;
  }
  page.resize(kept);
  cursor_ = std::move(next_cursor);
  finished_ = cursor_ == "0";
  more = !finished_;
  return Status::ok();
}

}  // namespace streamstate::internal
