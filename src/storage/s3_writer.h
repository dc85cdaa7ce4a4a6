// The StorageWriter of the S3 storage: buffers, switches to a multipart upload at the
// threshold, uploads parts in parallel and completes (or aborts) the upload
// (see streamstate/s3_storage.h).
//
// Thread-safety: one thread at a time, as every StorageWriter; its part uploads run on threads
// of their own, all joined before commit() returns and before the writer is destroyed.
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <string>

#include "storage/object_name.h"
#include "streamstate/checkpoint_storage.h"

namespace streamstate::storage {

class S3Storage;

class S3Writer final : public StorageWriter {
 public:
  S3Writer(S3Storage* storage, std::string name);
  // Without commit: waits for the parts in flight and aborts the multipart upload.
  ~S3Writer() override;
  S3Writer(const S3Writer&) = delete;
  S3Writer& operator=(const S3Writer&) = delete;

  Status append(BytesView data) override;
  Status sync() override;
  Status commit() override;
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }

 private:
  Status start_upload();
  // Sends the buffer's first `bytes` as the next part, waiting first when upload_parallelism
  // parts are already in flight.
  Status send_part(size_t bytes);
  // Waits for the oldest part in flight and records its ETag.
  Status finish_oldest_part();
  Status finish_all_parts();
  Status commit_multipart();
  void abort_upload();

  S3Storage* storage_;
  std::string name_;
  WriterState state_;
  uint64_t size_ = 0;
  std::string buffer_;
  std::string upload_id_;  // empty until a multipart upload is started
  std::vector<std::string> etags_;               // of the parts finished, in order
  std::deque<std::future<Result<std::string>>> in_flight_;  // parts etags_.size() + 1 ...
  int parts_sent_ = 0;
};

}  // namespace streamstate::storage
