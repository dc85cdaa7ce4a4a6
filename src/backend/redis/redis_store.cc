#include "backend/redis/redis_store.h"

#include <utility>

#include "util/status_macros.h"

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

GroupScanner::GroupScanner(std::shared_ptr<RedisStore> store, std::string column, BytesView prefix)
    : store_(std::move(store)), column_(std::move(column)), prefix_(prefix) {
  const LexRange range = lex_range_for_prefix(prefix_);
  min_ = range.min;
  max_ = range.max;
}

// A prefix of kGroupBytes or more names its group; a shorter one needs the column's group set.
Status GroupScanner::load_groups() {
  groups_loaded_ = true;
  if (prefix_.size() >= kGroupBytes) {
    groups_.push_back(group_of(prefix_));
    return Status::ok();
  }
  std::vector<std::string> all;
  const std::string groups_key = store_->keys.groups(column_);
  Status status = store_->connection->run("SMEMBERS", [&](RedisSession& session) -> Status {
    all.clear();
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr reply, session.call({"SMEMBERS", groups_key}));
    if (reply->type != REDIS_REPLY_ARRAY) return session.unexpected(*reply, "SMEMBERS of " + groups_key);
    for (size_t i = 0; i < reply->elements; ++i) all.emplace_back(reply_bytes(*reply->element[i]));
    return Status::ok();
  });
  if (!status.is_ok()) return status;
  groups_ = groups_for_prefix(std::move(all), prefix_);
  return Status::ok();
}

Status GroupScanner::next_page(std::vector<std::pair<std::string, std::string>>& page, bool& more) {
  page.clear();
  if (!groups_loaded_) STREAMSTATE_RETURN_IF_ERROR(load_groups());
  if (group_ >= groups_.size()) {
    more = false;
    return Status::ok();
  }
  const std::string& group = groups_[group_];
  const std::string index = store_->keys.index(column_, group);
  const std::string count = std::to_string(store_->options.pipeline_depth);
  std::vector<std::string> members;
  Status status = store_->connection->run("ZRANGEBYLEX/MGET", [&](RedisSession& session) -> Status {
    page.clear();
    members.clear();
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr range,
                                 session.call({"ZRANGEBYLEX", index, min_, max_, "LIMIT", "0", count}));
    if (range->type != REDIS_REPLY_ARRAY) return session.unexpected(*range, "ZRANGEBYLEX of " + index);
    if (range->elements == 0) return Status::ok();
    RedisArgs mget = {"MGET"};
    std::vector<std::string> entry_keys(range->elements);
    for (size_t i = 0; i < range->elements; ++i) {
      members.emplace_back(reply_bytes(*range->element[i]));
      store_->keys.append_entry(entry_keys[i], column_, group, members.back());
    }
    mget.insert(mget.end(), entry_keys.begin(), entry_keys.end());
    STREAMSTATE_ASSIGN_OR_RETURN(RedisReplyPtr values, session.call(mget));
    if (values->type != REDIS_REPLY_ARRAY || values->elements != members.size()) {
      return session.unexpected(*values, "MGET of the entries of " + index);
    }
    for (size_t i = 0; i < members.size(); ++i) {
      const redisReply& value = *values->element[i];
      if (value.type == REDIS_REPLY_NIL) continue;  // removed since ZRANGEBYLEX
      if (value.type != REDIS_REPLY_STRING) return session.unexpected(value, "MGET of the entries of " + index);
      page.emplace_back(members[i], std::string(reply_bytes(value)));
    }
    return Status::ok();
  });
  if (!status.is_ok()) {
    page.clear();
    return status;
  }
  if (members.size() < store_->options.pipeline_depth) {
    ++group_;  // this group is done
    const LexRange range = lex_range_for_prefix(prefix_);
    min_ = range.min;
  } else {
    min_ = "(" + members.back();
  }
  more = group_ < groups_.size();
  return Status::ok();
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
