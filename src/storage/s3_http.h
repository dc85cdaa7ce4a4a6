// HTTP for the S3 storage: one signed request sent through libcurl, with retries.
//
// libcurl signs each request with AWS Signature Version 4 (CURLOPT_AWS_SIGV4,
// "aws:amz:<region>:s3"); the payload is declared UNSIGNED-PAYLOAD (x-amz-content-sha256), so
// no body is hashed twice and nothing is signed by code of ours. Retries follow the policy of
// S3StorageOptions (streamstate/s3_storage.h): transport failures, 5xx and 429 are retried with
// full-jitter exponential backoff; everything else comes back to the caller as it was answered.
//
// Thread-safety: send() may be called from any number of threads. Handles come from a small
// pool and are reused, so connections stay open between requests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate::storage {

struct HttpSettings {
  std::string region;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // "S3 endpoint http://host:port (bucket 'b')": how messages name the service.
  std::string label;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds stall_timeout{30000};
  std::chrono::milliseconds request_timeout{0};
  int max_attempts = 5;
  std::chrono::milliseconds base_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST or DELETE
  std::string url;             // scheme, host, encoded path and sorted, encoded query
  std::vector<std::string> headers{};  // "Name: value"
  BytesView body{};            // PUT and POST payload; must stay valid during send()
  // Bytes the answer is expected to hold (a range length), used only to reserve memory.
  size_t expected_bytes = 0;
  // A longer answer body is cut off and the call fails with FailedPrecondition (for a read:
  // the object changed), so a server can never make the client allocate without bound.
  // Default: 64 MiB, plenty for every XML answer.
  size_t max_body_bytes = size_t{64} << 20;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string etag;           // the ETag header, quotes included
  std::string content_range;  // the Content-Range header
  int64_t content_length = -1;  // the Content-Length header (for HEAD), -1 when absent
};

class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request`, retrying as described above; `retry_also` may mark further answers as
  // transient (CompleteMultipartUpload can fail inside a 200). Returns the last answer,
  // whatever its HTTP status (the caller words errors); kUnavailable naming the endpoint when
  // no attempt got an answer (refused, timed out, reset); kIoError for a transport failure that
  // retrying cannot help (an invalid URL, a TLS certificate problem).
  Result<HttpResponse> send(const HttpRequest& request,
                            const std::function<bool(const HttpResponse&)>& retry_also = {});

  const HttpSettings& settings() const { return settings_; }

 private:
  void* acquire();
  void release(void* handle);
  std::chrono::milliseconds backoff(int retry) const;

  HttpSettings settings_;
  std::mutex mutex_;
  std::vector<void*> idle_;  // CURL* handles, guarded by mutex_
};

}  // namespace streamstate::storage
