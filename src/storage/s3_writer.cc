// Single PUT below the threshold, parallel multipart upload above it (see s3_writer.h).
#include "storage/s3_writer.h"

#include <system_error>
#include <utility>

#include "storage/s3_storage.h"
#include "util/status_macros.h"

namespace streamstate::storage {
namespace {

// S3 numbers parts 1 to 10,000.
constexpr int kMaxParts = 10000;

}  // namespace

S3Writer::S3Writer(S3Storage* storage, std::string name) : storage_(storage), name_(std::move(name)) {}

S3Writer::~S3Writer() {
  if (state_.committed()) return;
  for (auto& part : in_flight_) part.wait();
  in_flight_.clear();
  abort_upload();
}

Status S3Writer::append(BytesView data) {
  STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
  size_ += data.size();
  const S3StorageOptions& options = storage_->options();
  std::string pending;
  if (upload_id_.empty()) {
    buffer_.append(data);
    if (buffer_.size() < options.multipart_threshold_bytes) return Status::ok();
    STREAMSTATE_RETURN_IF_ERROR(state_.fail(start_upload()));
    pending = std::move(buffer_);
    buffer_.clear();
    data = pending;
  }
  const size_t part_size = static_cast<size_t>(options.part_size_bytes);
  while (!data.empty()) {
    const size_t take = std::min(part_size - buffer_.size(), data.size());
    buffer_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (buffer_.size() == part_size) STREAMSTATE_RETURN_IF_ERROR(state_.fail(send_part(part_size)));
  }
  return Status::ok();
}

Status S3Writer::sync() {
  STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
  return state_.fail(finish_all_parts());
}

Status S3Writer::commit() {
  STREAMSTATE_RETURN_IF_ERROR(state_.check_open(name_));
  Status status = upload_id_.empty() ? storage_->client_.put(name_, buffer_) : commit_multipart();
  STREAMSTATE_RETURN_IF_ERROR(state_.fail(std::move(status)));
  state_.mark_committed();
  buffer_.clear();
  buffer_.shrink_to_fit();
  return Status::ok();
}

Status S3Writer::commit_multipart() {
  if (!buffer_.empty()) STREAMSTATE_RETURN_IF_ERROR(send_part(buffer_.size()));
  STREAMSTATE_RETURN_IF_ERROR(finish_all_parts());
  STREAMSTATE_RETURN_IF_ERROR(storage_->client_.complete_upload(name_, upload_id_, etags_));
  storage_->untrack_upload(upload_id_);
  upload_id_.clear();
  return Status::ok();
}

Status S3Writer::start_upload() {
  STREAMSTATE_ASSIGN_OR_RETURN(upload_id_, storage_->client_.create_upload(name_));
  storage_->track_upload(upload_id_);
  return Status::ok();
}

Status S3Writer::send_part(size_t bytes) {
  if (parts_sent_ >= kMaxParts) {
    return Status::invalid_argument(object_label(name_) + " needs more than 10,000 parts of " +
                                    std::to_string(storage_->options().part_size_bytes) +
                                    " bytes; raise S3StorageOptions::part_size_bytes");
  }
  if (in_flight_.size() >= static_cast<size_t>(storage_->options().upload_parallelism)) {
    STREAMSTATE_RETURN_IF_ERROR(finish_oldest_part());
  }
  auto part = std::make_shared<std::string>();
  if (bytes == buffer_.size()) {
    part->swap(buffer_);
    buffer_.reserve(static_cast<size_t>(storage_->options().part_size_bytes));
  } else {
    part->assign(buffer_, 0, bytes);
    buffer_.erase(0, bytes);
  }
  const int number = ++parts_sent_;
  S3Client* client = &storage_->client_;
  auto upload = [client, name = name_, id = upload_id_, number, part]() -> Result<std::string> {
    return client->upload_part(name, id, number, *part);
  };
  try {
    in_flight_.push_back(std::async(std::launch::async, upload));
  } catch (const std::system_error&) {
    // No thread to be had: upload on this one.
    std::promise<Result<std::string>> done;
    done.set_value(upload());
    in_flight_.push_back(done.get_future());
  }
  return Status::ok();
}

Status S3Writer::finish_oldest_part() {
  Result<std::string> etag = in_flight_.front().get();
  in_flight_.pop_front();
  if (!etag.is_ok()) return etag.status();
  etags_.push_back(std::move(etag).value());
  return Status::ok();
}

Status S3Writer::finish_all_parts() {
  Status first;
  while (!in_flight_.empty()) {
    Status status = finish_oldest_part();
    if (first.is_ok()) first = std::move(status);
  }
  return first;
}

void S3Writer::abort_upload() {
  if (upload_id_.empty()) return;
  // Best effort: a server that keeps the upload (s3rver cannot abort) leaves it to
  // remove_incomplete() or to the bucket's lifecycle rules; the object never appears.
  Status aborted = storage_->client_.abort_upload_key(storage_->client_.key_of(name_), upload_id_);
  (void)aborted;
  storage_->untrack_upload(upload_id_);
  upload_id_.clear();
}

}  // namespace streamstate::storage
