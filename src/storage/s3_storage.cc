// The S3 storage: options, reads in ranged pieces, listing and cleanup (see s3_storage.h).
#include "storage/s3_storage.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "storage/object_name.h"
#include "storage/s3_writer.h"
#include "util/parallel.h"
#include "util/status_macros.h"

namespace streamstate::storage {
namespace {

// Times a read starts over because the object was replaced while it was read.
constexpr int kReadRounds = 10;

std::string env_or(const std::string& value, std::initializer_list<const char*> names, std::string fallback = "") {
  if (!value.empty()) return value;
  for (const char* name : names) {
    const char* found = std::getenv(name);
    if (found != nullptr && *found != '\0') return found;
  }
  return fallback;
}

Status bad_option(const std::string& option, const std::string& why) {
  return Status::invalid_argument("S3StorageOptions::" + option + " " + why);
}

Status resolve_endpoint(std::string& endpoint, const std::string& region) {
  endpoint = env_or(endpoint, {"AWS_ENDPOINT_URL"}, "https://s3." + region + ".amazonaws.com");
  while (endpoint.ends_with('/')) endpoint.pop_back();
  const size_t scheme = endpoint.find("://");
  const std::string_view protocol = std::string_view(endpoint).substr(0, scheme);
  if (scheme == std::string::npos || (protocol != "http" && protocol != "https")) {
    return bad_option("endpoint", "'" + endpoint + "' must start with http:// or https://");
  }
  const std::string authority = endpoint.substr(scheme + 3, endpoint.find('/', scheme + 3) - scheme - 3);
  if (authority.find('@') != std::string::npos) {
    // Not echoed: the part before '@' may be a password.
    return bad_option("endpoint", "must not hold credentials ('user:password@'); set access_key_id and "
                                  "secret_access_key instead");
  }
  if (authority.empty()) return bad_option("endpoint", "'" + endpoint + "' has no host");
  return Status::ok();
}

Status resolve(S3StorageOptions& options) {
  options.region = env_or(options.region, {"AWS_REGION", "AWS_DEFAULT_REGION"}, "us-east-1");
  STREAMSTATE_RETURN_IF_ERROR(resolve_endpoint(options.endpoint, options.region));
  options.access_key_id = env_or(options.access_key_id, {"AWS_ACCESS_KEY_ID"});
  options.secret_access_key = env_or(options.secret_access_key, {"AWS_SECRET_ACCESS_KEY"});
  options.session_token = env_or(options.session_token, {"AWS_SESSION_TOKEN"});
  if (options.access_key_id.empty() || options.secret_access_key.empty()) {
    return Status::invalid_argument(
        "no S3 credentials for bucket '" + options.bucket + "' at " + options.endpoint +
        ": set S3StorageOptions access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (options.bucket.empty()) return bad_option("bucket", "is empty; name the bucket that holds the checkpoints");
  if (options.bucket.find_first_of("/ \t\r\n?#") != std::string::npos) {
    return bad_option("bucket", "'" + options.bucket + "' is not a bucket name (no '/', spaces, '?' or '#')");
  }
  if (!options.prefix.empty()) {
    Status prefix = validate_object_prefix(options.prefix);
    if (!prefix.is_ok()) return bad_option("prefix", prefix.message());
    if (!options.prefix.ends_with('/')) options.prefix += '/';
  }
  if (options.max_attempts < 1) return bad_option("max_attempts", "must be at least 1");
  if (options.base_backoff.count() < 0 || options.max_backoff.count() < 0) {
    return bad_option("base_backoff and max_backoff", "must not be negative");
  }
  if (options.connect_timeout.count() < 0 || options.stall_timeout.count() < 0 ||
      options.request_timeout.count() < 0) {
    return bad_option("connect_timeout, stall_timeout and request_timeout", "must not be negative");
  }
  if (options.multipart_threshold_bytes < 1) return bad_option("multipart_threshold_bytes", "must be at least 1");
  if (options.part_size_bytes < 1 || options.part_size_bytes > (uint64_t{5} << 30)) {
    return bad_option("part_size_bytes", "must be between 1 byte and 5 GiB");
  }
  if (options.download_part_bytes < 1) return bad_option("download_part_bytes", "must be at least 1");
  if (options.upload_parallelism < 1) return bad_option("upload_parallelism", "must be at least 1");
  if (options.download_parallelism < 1) return bad_option("download_parallelism", "must be at least 1");
  if (options.list_page_size < 1 || options.list_page_size > 1000) {
    return bad_option("list_page_size", "must be between 1 and 1000");
  }
  return Status::ok();
}

// A buffer of `size` bytes for a read, or kIoError when the process cannot hold it.
Result<std::string> allocate(std::string_view name, uint64_t size) {
  try {
    if (size > std::string().max_size()) throw std::length_error("too large");
    return std::string(static_cast<size_t>(size), '\0');
  } catch (const std::exception&) {
    return Status::io_error("cannot hold " + std::to_string(size) + " bytes in memory to read " + object_label(name));
  }
}

}  // namespace

Result<std::unique_ptr<S3Storage>> S3Storage::open(const S3StorageOptions& given) {
  S3StorageOptions options = given;
  STREAMSTATE_RETURN_IF_ERROR(resolve(options));
  S3Location location{options.endpoint, options.bucket, options.prefix, options.virtual_host_style};
  HttpSettings settings{.region = options.region,
                        .access_key_id = options.access_key_id,
                        .secret_access_key = options.secret_access_key,
                        .session_token = options.session_token,
                        .label = "S3 endpoint " + options.endpoint + " (bucket '" + options.bucket + "')",
                        .connect_timeout = options.connect_timeout,
                        .stall_timeout = options.stall_timeout,
                        .request_timeout = options.request_timeout,
                        .max_attempts = options.max_attempts,
                        .base_backoff = options.base_backoff,
                        .max_backoff = options.max_backoff};
  std::unique_ptr<S3Storage> storage(new S3Storage(std::move(options), std::move(location), std::move(settings)));
  STREAMSTATE_RETURN_IF_ERROR(storage->client_.check_bucket());
  return storage;
}

Result<std::unique_ptr<StorageWriter>> S3Storage::create(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  return std::unique_ptr<StorageWriter>(std::make_unique<S3Writer>(this, std::string(name)));
}

Result<std::string> S3Storage::read(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  return read_consistently(name, [&] { return read_whole_once(name); });
}

Result<std::string> S3Storage::read_range(std::string_view name, uint64_t offset, uint64_t length) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  if (length == 0 || length > std::numeric_limits<uint64_t>::max() - offset) {
    // Nothing to fetch (or a range no object can hold): only the size decides.
    STREAMSTATE_ASSIGN_OR_RETURN(auto found, client_.head(name));
    if (!found) return object_not_found(name, describe());
    if (offset > found->size || length > found->size - offset) {
      return range_past_end(name, offset, length, found->size, describe());
    }
    return std::string();
  }
  return read_consistently(name, [&] { return read_range_once(name, offset, length); });
}

Result<std::string> S3Storage::read_consistently(std::string_view name,
                                                 const std::function<Result<std::string>()>& attempt) {
  for (int round = 1;; ++round) {
    Result<std::string> bytes = attempt();
    if (bytes.is_ok() || bytes.status().code() != StatusCode::kFailedPrecondition) return bytes;
    if (round == kReadRounds) {
      return Status::io_error(bytes.status().message() + " (" + std::to_string(kReadRounds) +
                              " reads of " + object_label(name) + " failed so)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * round * round));
  }
}

Result<std::string> S3Storage::read_whole_once(std::string_view name) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto found, client_.head(name));
  if (!found) return object_not_found(name, describe());
  if (found->size == 0) {
    STREAMSTATE_RETURN_IF_ERROR(check_md5_etag(name, "", found->etag, describe()));
    return std::string();
  }
  if (found->size <= options_.download_part_bytes) {
    // A larger answer means the object was replaced since the HEAD: the read starts over.
    STREAMSTATE_ASSIGN_OR_RETURN(S3Piece piece, client_.get_whole(name, found->size));
    STREAMSTATE_RETURN_IF_ERROR(check_md5_etag(name, piece.bytes, piece.etag, describe()));
    return std::move(piece.bytes);
  }
  STREAMSTATE_ASSIGN_OR_RETURN(std::string out, allocate(name, found->size));
  STREAMSTATE_RETURN_IF_ERROR(fetch_pieces(name, 0, found->size, 0, found->etag, found->size, out));
  STREAMSTATE_RETURN_IF_ERROR(check_md5_etag(name, out, found->etag, describe()));
  return out;
}

Result<std::string> S3Storage::read_range_once(std::string_view name, uint64_t offset, uint64_t length) {
  const uint64_t first_length = std::min(length, options_.download_part_bytes);
  STREAMSTATE_ASSIGN_OR_RETURN(S3Piece first, client_.get(name, offset, first_length, ""));
  const uint64_t size = first.object_size;
  if (offset > size || length > size - offset) return range_past_end(name, offset, length, size, describe());
  if (first.bytes.size() != first_length) {
    return Status::io_error("reading " + object_label(name) + " from " + describe() + ": got " +
                            std::to_string(first.bytes.size()) + " bytes at offset " + std::to_string(offset) +
                            " instead of " + std::to_string(first_length));
  }
  if (first_length == length) return std::move(first.bytes);
  STREAMSTATE_ASSIGN_OR_RETURN(std::string out, allocate(name, length));
  std::copy(first.bytes.begin(), first.bytes.end(), out.begin());
  STREAMSTATE_RETURN_IF_ERROR(fetch_pieces(name, offset + first_length, offset + length, offset, first.etag, size, out));
  return out;
}

Status S3Storage::fetch_pieces(std::string_view name, uint64_t begin, uint64_t end, uint64_t out_offset,
                               const std::string& etag, uint64_t size, std::string& out) {
  const uint64_t piece_size = options_.download_part_bytes;
  const size_t pieces = static_cast<size_t>((end - begin + piece_size - 1) / piece_size);
  return internal::run_parallel(pieces, static_cast<uint32_t>(std::max(options_.download_parallelism, 1)),
                               [&](size_t i) -> Status {
    const uint64_t piece_offset = begin + i * piece_size;
    const uint64_t piece_length = std::min(piece_size, end - piece_offset);
    STREAMSTATE_ASSIGN_OR_RETURN(S3Piece piece, client_.get(name, piece_offset, piece_length, etag));
    if (piece.etag != etag || piece.object_size != size) {
      return Status::failed_precondition(object_label(name) + " changed while it was read from " + describe());
    }
    if (piece.bytes.size() != piece_length) {
      return Status::io_error("reading " + object_label(name) + " from " + describe() + ": got " +
                              std::to_string(piece.bytes.size()) + " bytes at offset " +
                              std::to_string(piece_offset) + " instead of " + std::to_string(piece_length));
    }
    std::copy(piece.bytes.begin(), piece.bytes.end(), out.begin() + static_cast<ptrdiff_t>(piece_offset - out_offset));
    return Status::ok();
  });
}

Result<std::vector<StoredObject>> S3Storage::list(std::string_view prefix) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_prefix(prefix));
  std::vector<StoredObject> objects;
  std::set<std::string> tokens_seen;
  std::string token;
  for (;;) {
    STREAMSTATE_ASSIGN_OR_RETURN(s3xml::ListPage page, client_.list_page(prefix, token, options_.list_page_size));
    for (s3xml::ListedKey& key : page.keys) {
      if (!key.key.starts_with(options_.prefix)) continue;
      std::string name = key.key.substr(options_.prefix.size());
      // Keys that are no valid object name were not written through this interface.
      if (!name.starts_with(prefix) || !validate_object_name(name).is_ok()) continue;
      objects.push_back(StoredObject{std::move(name), key.size});
    }
    if (!page.truncated) break;
    if (page.next_token.empty() || !tokens_seen.insert(page.next_token).second) {
      return Status::io_error("listing " + describe() + ": the server said the listing goes on but gave " +
                              (page.next_token.empty() ? "no continuation token" : "a continuation token twice"));
    }
    token = std::move(page.next_token);
  }
  // S3 lists in byte order already; s3rver walks its directories in another order.
  std::sort(objects.begin(), objects.end(), [](const StoredObject& a, const StoredObject& b) { return a.name < b.name; });
  objects.erase(std::unique(objects.begin(), objects.end(),
                            [](const StoredObject& a, const StoredObject& b) { return a.name == b.name; }),
                objects.end());
  return objects;
}

Result<bool> S3Storage::exists(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  STREAMSTATE_ASSIGN_OR_RETURN(auto found, client_.head(name));
  return found.has_value();
}

Status S3Storage::remove(std::string_view name) {
  STREAMSTATE_RETURN_IF_ERROR(validate_object_name(name));
  return client_.remove(name);
}

Status S3Storage::remove_incomplete() {
  std::string key_marker;
  std::string id_marker;
  for (;;) {
    STREAMSTATE_ASSIGN_OR_RETURN(auto page, client_.list_uploads(key_marker, id_marker));
    if (!page) return Status::ok();  // ListMultipartUploads not implemented: nothing to find
    for (const s3xml::PendingUpload& upload : page->uploads) {
      if (!upload.key.starts_with(options_.prefix)) continue;
      {
        std::lock_guard lock(mutex_);
        if (open_uploads_.contains(upload.upload_id)) continue;
      }
      STREAMSTATE_RETURN_IF_ERROR(client_.abort_upload_key(upload.key, upload.upload_id));
    }
    if (!page->truncated) return Status::ok();
    if (page->next_key_marker == key_marker && page->next_upload_id_marker == id_marker) {
      return Status::io_error("listing the pending multipart uploads in " + describe() +
                              ": the server said the listing goes on but gave the same markers again");
    }
    key_marker = std::move(page->next_key_marker);
    id_marker = std::move(page->next_upload_id_marker);
  }
}

void S3Storage::track_upload(const std::string& upload_id) {
  std::lock_guard lock(mutex_);
  open_uploads_.insert(upload_id);
}

void S3Storage::untrack_upload(const std::string& upload_id) {
  std::lock_guard lock(mutex_);
  open_uploads_.erase(upload_id);
}

}  // namespace streamstate::storage

namespace streamstate {

Result<std::unique_ptr<CheckpointStorage>> open_s3_storage(const S3StorageOptions& options) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto storage, storage::S3Storage::open(options));
  return std::unique_ptr<CheckpointStorage>(std::move(storage));
}

}  // namespace streamstate
