// The S3 operations the S3 storage needs, one request each (with the retries of HttpClient),
// and the wording of their errors. Object names are turned into keys (prefix + name) here.
//
// Thread-safety: every method may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/s3_http.h"
#include "storage/s3_xml.h"
#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate::storage {

struct S3Location {
  std::string endpoint;  // "http://host:port", no trailing '/'
  std::string bucket;
  std::string prefix;    // "" or ending in '/'
  bool virtual_host_style = false;
};

// The bytes of one GET and what the answer told about the object.
struct S3Piece {
  std::string bytes;
  std::string etag;
  uint64_t object_size = 0;
};

class S3Client {
 public:
  S3Client(S3Location location, HttpSettings settings);

  // "S3 bucket 'b' at http://host:port" (with " under prefix 'p/'" when there is one).
  const std::string& describe() const { return description_; }
  const S3Location& location() const { return location_; }

  // One ListObjectsV2 request under the prefix: the bucket exists and the credentials work.
  Status check_bucket();

  Status put(std::string_view name, BytesView bytes);
  // `length` bytes at `offset` (length > 0), with If-Match when `etag` is not empty. A range
  // that starts past the end is kOutOfRange through range_past_end; a changed ETag is
  // kFailedPrecondition. The answer may hold fewer bytes than asked when the range reaches
  // past the end: the caller compares with object_size.
  Result<S3Piece> get(std::string_view name, uint64_t offset, uint64_t length, const std::string& etag);
  // The whole object in one GET; FailedPrecondition when it holds more than `max_bytes`.
  Result<S3Piece> get_whole(std::string_view name, uint64_t max_bytes);
  struct Head {
    uint64_t size = 0;
    std::string etag;
  };
  // The object's size and ETag (HEAD), or nullopt when it does not exist.
  Result<std::optional<Head>> head(std::string_view name);
  Status remove(std::string_view name);
  // One page of keys starting with prefix + `name_prefix`, as names (the prefix removed).
  Result<s3xml::ListPage> list_page(std::string_view name_prefix, const std::string& token, int page_size);

  Result<std::string> create_upload(std::string_view name);
  // The part's ETag.
  Result<std::string> upload_part(std::string_view name, const std::string& upload_id, int part_number,
                                  BytesView bytes);
  Status complete_upload(std::string_view name, const std::string& upload_id, const std::vector<std::string>& etags);
  // Aborts by key (prefix included), as ListMultipartUploads names them.
  Status abort_upload_key(const std::string& key, const std::string& upload_id);
  // One page of the pending multipart uploads under the prefix; nullopt when the server does
  // not implement ListMultipartUploads.
  Result<std::optional<s3xml::UploadsPage>> list_uploads(const std::string& key_marker,
                                                         const std::string& upload_id_marker);

  std::string key_of(std::string_view name) const { return location_.prefix + std::string(name); }

 private:
  std::string url(const std::string& key, const std::string& query) const;
  // The error for an answer that was not a success, `doing` saying what was attempted
  // ("reading checkpoint object 'x'"); `name` (when not empty) for NoSuchKey.
  Status error_for(const HttpResponse& response, std::string_view doing, std::string_view name) const;

  S3Location location_;
  std::string description_;
  HttpClient http_;
};

// MD5 of `bytes` as 32 lowercase hex digits, and as base64 (for Content-MD5), by OpenSSL.
std::string md5_hex(BytesView bytes);
std::string md5_base64(BytesView bytes);
// OK when `etag` is not a plain MD5 (a multipart ETag "<hex>-<parts>") or is the MD5 of `bytes`;
// else (an empty ETag included) FailedPrecondition: the object changed while it was read, or
// its bytes were damaged.
Status check_md5_etag(std::string_view name, BytesView bytes, std::string_view etag, std::string_view where);

// Percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash), as SigV4 needs.
std::string uri_encode(std::string_view text, bool keep_slash);

}  // namespace streamstate::storage
