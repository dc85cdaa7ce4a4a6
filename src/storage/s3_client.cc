// S3 requests and the wording of their errors (see s3_client.h).
#include "storage/s3_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "storage/object_name.h"
#include "util/status_macros.h"

namespace streamstate::storage {
namespace {

bool ok_status(const HttpResponse& response) { return response.status >= 200 && response.status < 300; }

// The total size in "bytes 0-9/1000" or "bytes */1000"; nullopt when absent or unparsable.
std::optional<uint64_t> total_from_content_range(std::string_view header) {
  size_t slash = header.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view digits = header.substr(slash + 1);
  uint64_t total = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), total);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return total;
}

std::optional<uint64_t> total_from_error_body(std::string_view body) {
  auto size = s3xml::first_text(body, "ActualObjectSize");
  if (!size.is_ok() || !*size) return std::nullopt;
  uint64_t total = 0;
  const std::string& digits = **size;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), total);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return total;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

std::string md5_hex(BytesView bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

std::string md5_base64(BytesView bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_md5(), nullptr);
  unsigned char encoded[64] = {0};
  const int written = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(std::max(written, 0)));
}

Status check_md5_etag(std::string_view name, BytesView bytes, std::string_view etag, std::string_view where) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  if (etag.empty()) {
    // S3 always sends one; s3rver sends an empty one while it rewrites the object.
    return Status::failed_precondition(object_label(name) + " was read from " + std::string(where) +
                                       " without an ETag, so it cannot be checked");
  }
  if (etag.size() != 32) return Status::ok();
  std::string lower(etag);
  for (char& c : lower) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return Status::ok();
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (md5_hex(bytes) == lower) return Status::ok();
  return Status::failed_precondition(object_label(name) + " read from " + std::string(where) +
                                     " does not match its ETag (MD5 " + lower + "): it changed while it was read, "
                                     "or its bytes were damaged");
}

S3Client::S3Client(S3Location location, HttpSettings settings)
    : location_(std::move(location)),
      description_("S3 bucket '" + location_.bucket + "' at " + location_.endpoint +
                   (location_.prefix.empty() ? "" : " under prefix '" + location_.prefix + "'")),
      http_(std::move(settings)) {}

std::string S3Client::url(const std::string& key, const std::string& query) const {
  std::string out;
  if (location_.virtual_host_style) {
    const size_t host = location_.endpoint.find("://") + 3;
    out = location_.endpoint.substr(0, host) + location_.bucket + "." + location_.endpoint.substr(host) + "/";
  } else {
    // Bucket requests go to "/bucket" without a trailing '/' (s3rver fails on "/bucket/?...").
    out = location_.endpoint + "/" + location_.bucket + (key.empty() ? "" : "/");
  }
  out += uri_encode(key, true);
  if (!query.empty()) out += "?" + query;
  return out;
}

Status S3Client::error_for(const HttpResponse& response, std::string_view doing, std::string_view name) const {
  const s3xml::ErrorBody error = s3xml::parse_error(response.body);
  const std::string& label = http_.settings().label;
  std::string answer = "HTTP " + std::to_string(response.status);
  if (!error.code.empty()) answer += " " + error.code;
  if (!error.message.empty()) answer += ": " + error.message;
  const std::string context = std::string(doing) + ": ";
  if (error.code == "NoSuchBucket") {
    return Status::not_found(context + "bucket '" + location_.bucket + "' does not exist at " + label +
                             "; create it or correct S3StorageOptions::bucket");
  }
  if (error.code == "NoSuchKey" || (response.status == 404 && !name.empty() && error.code.empty())) {
    return object_not_found(name, description_);
  }
  if (response.status == 403 || error.code == "InvalidAccessKeyId" || error.code == "SignatureDoesNotMatch") {
    return Status::io_error(context + label + " refused the request (" + answer +
                            "); check the credentials (S3StorageOptions access_key_id and secret_access_key, "
                            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and their permissions on the bucket");
  }
  if (response.status == 503 || response.status == 429) {
    return Status::unavailable(context + label + " is still overloaded after " +
                               std::to_string(http_.settings().max_attempts) + " attempts (" + answer +
                               "); retry later or raise S3StorageOptions::max_attempts");
  }
  return Status::io_error(context + label + " answered " + answer);
}

Status S3Client::check_bucket() {
  std::string query = "list-type=2&max-keys=1";
  if (!location_.prefix.empty()) query += "&prefix=" + uri_encode(location_.prefix, false);
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(HttpRequest{.url = url("", query)}));
  if (!ok_status(response)) return error_for(response, "opening " + description_, "");
  return s3xml::parse_list_objects(response.body).status();
}

Status S3Client::put(std::string_view name, BytesView bytes) {
  // Content-MD5 makes the server refuse bytes damaged on the way (BadDigest).
  HttpRequest request{.method = "PUT", .url = url(key_of(name), ""),
                      .headers = {"Content-Type: application/octet-stream", "Content-MD5: " + md5_base64(bytes)},
                      .body = bytes};
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(request));
  if (!ok_status(response)) return error_for(response, "writing " + object_label(name), "");
  return Status::ok();
}

Result<S3Piece> S3Client::get(std::string_view name, uint64_t offset, uint64_t length, const std::string& etag) {
  HttpRequest request{.url = url(key_of(name), ""),
                      .headers = {"Range: bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)},
                      .expected_bytes = static_cast<size_t>(std::min<uint64_t>(length, uint64_t{64} << 20)),
                      // A 416 or error answer carries XML, a range answer at most `length` bytes.
                      .max_body_bytes = static_cast<size_t>(std::max<uint64_t>(length, uint64_t{1} << 20))};
  if (!etag.empty()) request.headers.push_back("If-Match: " + etag);
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(request));
  if (response.status == 416) {
    std::optional<uint64_t> size = total_from_content_range(response.content_range);
    if (!size) size = total_from_error_body(response.body);
    if (!size) {
      STREAMSTATE_ASSIGN_OR_RETURN(auto found, head(name));
      if (!found) return object_not_found(name, description_);
      size = found->size;
    }
    return S3Piece{.bytes = "", .etag = response.etag, .object_size = *size};
  }
  if (response.status == 412) {
    return Status::failed_precondition(object_label(name) + " changed while it was read from " + description_);
  }
  if (!ok_status(response)) return error_for(response, "reading " + object_label(name), name);
  S3Piece piece{.bytes = std::move(response.body), .etag = std::move(response.etag), .object_size = 0};
  if (response.status == 200) {
    // The server ignored the range and sent the whole object.
    piece.object_size = piece.bytes.size();
    if (offset >= piece.bytes.size()) {
      piece.bytes.clear();
    } else {
      piece.bytes = piece.bytes.substr(offset, length);
    }
    return piece;
  }
  std::optional<uint64_t> size = total_from_content_range(response.content_range);
  if (!size) {
    return Status::io_error("reading " + object_label(name) + ": " + http_.settings().label +
                            " answered a ranged GET without a valid Content-Range ('" + response.content_range + "')");
  }
  piece.object_size = *size;
  return piece;
}

Result<S3Piece> S3Client::get_whole(std::string_view name, uint64_t max_bytes) {
  HttpRequest request{.url = url(key_of(name), ""),
                      .expected_bytes = static_cast<size_t>(max_bytes),
                      .max_body_bytes = static_cast<size_t>(max_bytes)};
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(request));
  if (!ok_status(response)) return error_for(response, "reading " + object_label(name), name);
  const uint64_t size = response.body.size();
  return S3Piece{.bytes = std::move(response.body), .etag = std::move(response.etag), .object_size = size};
}

Result<std::optional<S3Client::Head>> S3Client::head(std::string_view name) {
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response,
                               http_.send(HttpRequest{.method = "HEAD", .url = url(key_of(name), "")}));
  // A HEAD answer has no body: a 404 cannot tell a missing key from a missing bucket, which
  // open_s3_storage checked.
  if (response.status == 404) return std::optional<Head>();
  if (!ok_status(response)) return error_for(response, "looking up " + object_label(name), name);
  if (response.content_length < 0) {
    return Status::io_error("looking up " + object_label(name) + ": " + http_.settings().label +
                            " answered HEAD without a Content-Length");
  }
  return std::optional<Head>(Head{static_cast<uint64_t>(response.content_length), std::move(response.etag)});
}

Status S3Client::remove(std::string_view name) {
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response,
                               http_.send(HttpRequest{.method = "DELETE", .url = url(key_of(name), "")}));
  if (response.status == 404 && s3xml::parse_error(response.body).code != "NoSuchBucket") return Status::ok();
  if (!ok_status(response)) return error_for(response, "removing " + object_label(name), "");
  return Status::ok();
}

Result<s3xml::ListPage> S3Client::list_page(std::string_view name_prefix, const std::string& token, int page_size) {
  // Query parameters in byte order, as the signature's canonical form has them.
  std::string query;
  if (!token.empty()) query += "continuation-token=" + uri_encode(token, false) + "&";
  query += "list-type=2&max-keys=" + std::to_string(page_size);
  const std::string prefix = key_of(name_prefix);
  if (!prefix.empty()) query += "&prefix=" + uri_encode(prefix, false);
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(HttpRequest{.url = url("", query)}));
  if (!ok_status(response)) {
    return error_for(response, "listing objects with prefix " + quoted(name_prefix) + " in " + description_, "");
  }
  auto page = s3xml::parse_list_objects(response.body);
  if (!page.is_ok()) return page.status().with_context("listing " + description_);
  return page;
}

Result<std::string> S3Client::create_upload(std::string_view name) {
  HttpRequest request{.method = "POST", .url = url(key_of(name), "uploads="),
                      .headers = {"Content-Type: application/octet-stream"}};
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(request));
  if (!ok_status(response)) return error_for(response, "starting a multipart upload of " + object_label(name), "");
  auto id = s3xml::parse_upload_id(response.body);
  if (!id.is_ok()) return id.status().with_context("starting a multipart upload of " + object_label(name));
  return id;
}

Result<std::string> S3Client::upload_part(std::string_view name, const std::string& upload_id, int part_number,
                                          BytesView bytes) {
  const std::string query =
      "partNumber=" + std::to_string(part_number) + "&uploadId=" + uri_encode(upload_id, false);
  HttpRequest request{.method = "PUT", .url = url(key_of(name), query),
                      .headers = {"Content-MD5: " + md5_base64(bytes)}, .body = bytes};
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(request));
  const std::string doing = "uploading part " + std::to_string(part_number) + " of " + object_label(name);
  if (!ok_status(response)) return error_for(response, doing, "");
  if (response.etag.empty()) return Status::io_error(doing + ": " + http_.settings().label + " sent no ETag");
  return std::move(response.etag);
}

Status S3Client::complete_upload(std::string_view name, const std::string& upload_id,
                                 const std::vector<std::string>& etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + s3xml::escape(etags[i]) +
            "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  HttpRequest request{.method = "POST", .url = url(key_of(name), "uploadId=" + uri_encode(upload_id, false)),
                      .headers = {"Content-Type: application/xml"}, .body = body};
  // S3 may report a failure of CompleteMultipartUpload inside a 200 answer; it is transient.
  auto error_inside = [](const HttpResponse& response) {
    return ok_status(response) && !s3xml::parse_error(response.body).code.empty();
  };
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(request, error_inside));
  const std::string doing = "completing the multipart upload of " + object_label(name);
  if (!ok_status(response) || error_inside(response)) return error_for(response, doing, "");
  return Status::ok();
}

Status S3Client::abort_upload_key(const std::string& key, const std::string& upload_id) {
  HttpRequest request{.method = "DELETE", .url = url(key, "uploadId=" + uri_encode(upload_id, false))};
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(request));
  // NoSuchUpload: already aborted or completed.
  if (ok_status(response) || s3xml::parse_error(response.body).code == "NoSuchUpload") return Status::ok();
  return error_for(response, "aborting the multipart upload of key '" + key + "'", "");
}

Result<std::optional<s3xml::UploadsPage>> S3Client::list_uploads(const std::string& key_marker,
                                                                const std::string& upload_id_marker) {
  std::string query;
  if (!key_marker.empty()) query += "key-marker=" + uri_encode(key_marker, false) + "&";
  if (!location_.prefix.empty()) query += "prefix=" + uri_encode(location_.prefix, false) + "&";
  if (!upload_id_marker.empty()) query += "upload-id-marker=" + uri_encode(upload_id_marker, false) + "&";
  query += "uploads=";
  STREAMSTATE_ASSIGN_OR_RETURN(HttpResponse response, http_.send(HttpRequest{.url = url("", query)}));
  if (response.status == 501 || s3xml::parse_error(response.body).code == "NotImplemented") {
    return std::optional<s3xml::UploadsPage>();
  }
  if (!ok_status(response)) return error_for(response, "listing the pending multipart uploads in " + description_, "");
  auto page = s3xml::parse_list_uploads(response.body);
  if (!page.is_ok()) return page.status().with_context("listing the pending multipart uploads in " + description_);
  return std::optional<s3xml::UploadsPage>(std::move(page).value());
}

}  // namespace streamstate::storage
