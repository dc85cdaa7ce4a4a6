// CheckpointStorage over S3-compatible object storage (see streamstate/s3_storage.h for the
// options, how the contract maps to S3, the retries and the errors).
//
// Thread-safety: as CheckpointStorage. The upload ids of this storage's open writers are kept
// under a mutex so that remove_incomplete() never aborts an upload still being written here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/s3_client.h"
#include "streamstate/s3_storage.h"

namespace streamstate::storage {

class S3Storage final : public CheckpointStorage {
 public:
  // Resolves the options (environment fallbacks), checks them and the bucket.
  static Result<std::unique_ptr<S3Storage>> open(const S3StorageOptions& options);

  Result<std::unique_ptr<StorageWriter>> create(std::string_view name) override;
  Result<std::string> read(std::string_view name) override;
  Result<std::string> read_range(std::string_view name, uint64_t offset, uint64_t length) override;
  Result<std::vector<StoredObject>> list(std::string_view prefix) override;
  Result<bool> exists(std::string_view name) override;
  Status remove(std::string_view name) override;
  Status remove_incomplete() override;
  std::string describe() const override { return client_.describe(); }

  const S3StorageOptions& options() const { return options_; }

 private:
  friend class S3Writer;
  S3Storage(S3StorageOptions options, S3Location location, HttpSettings settings)
      : options_(std::move(options)), client_(std::move(location), std::move(settings)) {}

  // Runs `attempt` again (after a short pause) while it fails with FailedPrecondition, which
  // means the object changed during the read; the last such failure becomes kIoError.
  Result<std::string> read_consistently(std::string_view name, const std::function<Result<std::string>()>& attempt);
  Result<std::string> read_whole_once(std::string_view name);
  Result<std::string> read_range_once(std::string_view name, uint64_t offset, uint64_t length);
  // Fetches [begin, end) of the object into out[begin - out_offset ...] in ranged GETs of
  // download_part_bytes, download_parallelism at once, each required to carry `etag` and
  // `size` (else FailedPrecondition).
  Status fetch_pieces(std::string_view name, uint64_t begin, uint64_t end, uint64_t out_offset,
                      const std::string& etag, uint64_t size, std::string& out);

  void track_upload(const std::string& upload_id);
  void untrack_upload(const std::string& upload_id);

  S3StorageOptions options_;  // resolved: no field is left to the environment
  S3Client client_;
  std::mutex mutex_;
  std::set<std::string> open_uploads_;  // guarded by mutex_
};

}  // namespace streamstate::storage
