// Signed HTTP requests through libcurl, with retries (see s3_http.h).
#include "storage/s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <new>
#include <random>
#include <thread>

namespace streamstate::storage {
namespace {

constexpr size_t kMaxIdleHandles = 16;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse* response;
  size_t max_body_bytes;
  bool too_long = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  std::string& body = transfer->response->body;
  if (bytes > transfer->max_body_bytes - body.size()) {
    transfer->too_long = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  try {
    body.append(data, bytes);
  } catch (const std::bad_alloc&) {
    transfer->too_long = true;
    return 0;
  }
  return bytes;
}

bool header_is(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

std::string header_value(std::string_view line, size_t name_size) {
  std::string_view value = line.substr(name_size + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  return std::string(value);
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new answer (after an interim 1xx): forget the headers of the previous one.
    transfer->response->etag.clear();
    transfer->response->content_range.clear();
  } else if (header_is(line, "etag")) {
    transfer->response->etag = header_value(line, 4);
  } else if (header_is(line, "content-range")) {
    transfer->response->content_range = header_value(line, 13);
  }
  return size * count;
}

bool transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool transient(const HttpResponse& response) {
  if (response.status >= 500 || response.status == 429) return true;
  // S3 answers 400 RequestTimeout when a client sent its body too slowly.
  return response.status == 400 && response.body.find("<Code>RequestTimeout</Code>") != std::string::npos;
}

uint64_t random_below(uint64_t bound) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_int_distribution<uint64_t>(0, bound)(generator);
}

}  // namespace

HttpClient::HttpClient(HttpSettings settings) : settings_(std::move(settings)) { global_init(); }

HttpClient::~HttpClient() {
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpClient::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void HttpClient::release(void* handle) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

std::chrono::milliseconds HttpClient::backoff(int retry) const {
  const uint64_t base = static_cast<uint64_t>(std::max<int64_t>(settings_.base_backoff.count(), 0));
  const uint64_t cap = static_cast<uint64_t>(std::max<int64_t>(settings_.max_backoff.count(), 0));
  const int shift = std::min(retry - 1, 30);
  const uint64_t ceiling = std::min(cap, base << shift);
  return std::chrono::milliseconds(random_below(ceiling));
}

Result<HttpResponse> HttpClient::send(const HttpRequest& request,
                                      const std::function<bool(const HttpResponse&)>& retry_also) {
  const int attempts = std::max(settings_.max_attempts, 1);
  std::string last_error;
  HttpResponse response;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(backoff(attempt - 1));
    CURL* curl = static_cast<CURL*>(acquire());
    if (curl == nullptr) return Status::io_error("libcurl could not create a handle for " + settings_.label);
    curl_easy_reset(curl);
    response = HttpResponse{};
    response.body.reserve(std::min(request.expected_bytes, request.max_body_bytes));
    Transfer transfer{&response, request.max_body_bytes};
    char error_buffer[CURL_ERROR_SIZE] = {0};
    const std::string sigv4 = "aws:amz:" + settings_.region + ":s3";

    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (!settings_.session_token.empty()) {
      headers = curl_slist_append(headers, ("x-amz-security-token: " + settings_.session_token).c_str());
    }
    for (const std::string& header : request.headers) headers = curl_slist_append(headers, header.c_str());

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.access_key_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.secret_access_key.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.request_timeout.count()));
    const long stall_seconds = static_cast<long>((settings_.stall_timeout.count() + 999) / 1000);
    if (stall_seconds > 0) {
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, stall_seconds);
    }
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    if (request.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request.method == "PUT" || request.method == "POST") {
      // POSTFIELDS sends the payload with a Content-Length; CUSTOMREQUEST turns it into a PUT.
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
      if (request.method == "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    } else if (request.method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    const CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_off_t content_length = -1;
    if (code == CURLE_OK) {
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    curl_slist_free_all(headers);
    release(curl);

    if (transfer.too_long) {
      return Status::failed_precondition(settings_.label + " answered " + request.method +
                                         " with a body longer than the " + std::to_string(request.max_body_bytes) +
                                         " bytes expected");
    }
    if (code != CURLE_OK) {
      last_error = error_buffer[0] != '\0' ? std::string(error_buffer) : std::string(curl_easy_strerror(code));
      if (!transient(code)) {
        return Status::io_error(settings_.label + ": " + last_error + " (" + request.method + ")");
      }
      continue;
    }
    response.status = status;
    response.content_length = content_length;
    if (attempt < attempts && (transient(response) || (retry_also && retry_also(response)))) continue;
    return response;
  }
  return Status::unavailable(settings_.label + " is unreachable after " + std::to_string(attempts) +
                             (attempts == 1 ? " attempt" : " attempts") + ": " + last_error +
                             "; check the endpoint URL and that the service is running");
}

}  // namespace streamstate::storage
