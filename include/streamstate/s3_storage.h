// CheckpointStorage over S3-compatible object storage (AWS S3, MinIO, Ceph RGW, s3rver, ...),
// through libcurl, whose CURLOPT_AWS_SIGV4 signs every request (AWS Signature Version 4).
//
// Objects are stored under the key `prefix + name` in one bucket, addressed path-style
// (`endpoint/bucket/key`) unless virtual_host_style is set. The contract is that of
// CheckpointStorage (streamstate/checkpoint_storage.h); how it maps to S3:
// - A writer buffers in memory. If the object stays below multipart_threshold_bytes, commit()
//   sends it in one PUT. Once the buffer reaches the threshold, the writer starts a multipart
//   upload and sends each part_size_bytes as a part while the caller goes on appending, up to
//   upload_parallelism parts at once (so a writer holds at most about
//   (upload_parallelism + 1) * part_size_bytes); commit() sends the last part and completes the
//   upload. Either way the object appears atomically at commit. A writer destroyed without
//   commit aborts its multipart upload. sync() waits for the parts already sent; bytes that do
//   not fill a part stay in memory (S3 has no append), which costs nothing a crash would not
//   cost anyway: an uncommitted object is never resumed. Every PUT and part carries
//   Content-MD5, so the server refuses bytes damaged in transit.
// - read() asks for the size and ETag (HEAD), then fetches the object in one GET, or above
//   download_part_bytes in ranged GETs, download_parallelism at once, each of which must carry
//   the same ETag (and asks for it with If-Match). When the ETag is a plain MD5 (objects not
//   uploaded in parts) the bytes are checked against it. An object replaced during the read, or
//   bytes that do not match, make the read start over (up to 10 times, then kIoError), so a
//   reader never sees a mix of two versions. read_range() fetches only the range, in pieces
//   likewise (a range cannot be checked against the object's MD5).
// - list() pages through ListObjectsV2 (list_page_size keys per request) and returns the names
//   sorted in byte order. Keys under the prefix that are not valid object names are skipped.
// - remove_incomplete() aborts the multipart uploads under the prefix (ListMultipartUploads)
//   that no writer of this storage object owns. Servers without ListMultipartUploads (s3rver)
//   answer NotImplemented; there is nothing to list then and the call returns OK.
//
// Retries: connection failures, timeouts, HTTP 5xx (503 SlowDown included) and 429 are retried
// up to max_attempts times in all, sleeping a random time between 0 and
// min(max_backoff, base_backoff * 2^retry) before each retry ("full jitter"). Other 4xx answers
// are not retried.
//
// Errors name the endpoint and bucket and never contain credentials:
// - endpoint unreachable (after the retries): kUnavailable, e.g. "S3 endpoint
//   http://127.0.0.1:9 (bucket 'chk') is unreachable: ... check the endpoint URL";
// - 503/429 still answered after the retries: kUnavailable; other 5xx: kIoError;
// - wrong credentials (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, other 403):
//   kIoError saying to check the access key id and secret;
// - missing bucket (NoSuchBucket): kNotFound naming the bucket;
// - missing object: kNotFound as every storage words it.
//
// Thread-safety: as CheckpointStorage. Requests run on a small pool of reused libcurl handles
// (keeping connections open); multipart parts and ranged pieces run on short-lived threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "streamstate/checkpoint_storage.h"
#include "streamstate/status.h"

namespace streamstate {

struct S3StorageOptions {
  // Base URL of the service, "http://" or "https://", with host and optional port and no
  // credentials: "http://127.0.0.1:9000", "https://s3.eu-west-1.amazonaws.com".
  // Default: the AWS_ENDPOINT_URL environment variable, else
  // "https://s3.<region>.amazonaws.com".
  std::string endpoint;
  // The signing region. Default: AWS_REGION, else AWS_DEFAULT_REGION, else "us-east-1".
  std::string region;
  // The bucket; it must exist. Required.
  std::string bucket;
  // Prepended to every object name, e.g. "jobs/orders/" (a '/' is added when missing).
  // Default: "" (names are keys).
  std::string prefix;

  // Credentials. Default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (the
  // token is optional). Both the id and the secret are required from one source or the other.
  // They are sent only inside signed requests and never appear in messages or describe().
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;

  // Address buckets as "https://bucket.host/key" instead of "https://host/bucket/key".
  // Default: false (path-style, which every S3-compatible server accepts).
  bool virtual_host_style = false;

  // Time to establish a connection. Default: 5 s.
  std::chrono::milliseconds connect_timeout{5000};
  // A request that moves no byte for this long is abandoned (and retried). Rounded up to whole
  // seconds. Default: 30 s.
  std::chrono::milliseconds stall_timeout{30000};
  // Upper bound on one request, 0 for none. Default: 0 (large objects take what they take;
  // stall_timeout catches dead connections).
  std::chrono::milliseconds request_timeout{0};

  // Attempts per request, the first included (1 = no retry). Default: 5.
  int max_attempts = 5;
  // Backoff before retry n (n = 1, 2, ...) is uniform in [0, min(max_backoff, base_backoff *
  // 2^(n-1))]. Defaults: 100 ms and 5 s.
  std::chrono::milliseconds base_backoff{100};
  std::chrono::milliseconds max_backoff{5000};

  // Objects that reach this size while being written are sent as multipart uploads.
  // Default: 16 MiB.
  uint64_t multipart_threshold_bytes = uint64_t{16} << 20;
  // Size of each multipart part but the last. AWS S3 requires at least 5 MiB and allows at most
  // 10,000 parts per object (so 8 MiB parts cap an object at about 78 GiB). Default: 8 MiB.
  uint64_t part_size_bytes = uint64_t{8} << 20;
  // Parts of one writer uploaded at once. Default: 4.
  int upload_parallelism = 4;
  // Bytes fetched per GET; larger reads are split in ranged GETs. Default: 8 MiB.
  uint64_t download_part_bytes = uint64_t{8} << 20;
  // Ranged GETs of one read at once. Default: 4.
  int download_parallelism = 4;
  // Keys asked for per ListObjectsV2 request (S3 answers at most 1000). Default: 1000.
  int list_page_size = 1000;
};

// Opens the storage after checking that the endpoint answers, the credentials are accepted and
// the bucket exists (one ListObjectsV2 request of one key). Errors as listed above;
// kInvalidArgument for a bad option (naming it) or missing credentials.
Result<std::unique_ptr<CheckpointStorage>> open_s3_storage(const S3StorageOptions& options);

}  // namespace streamstate
