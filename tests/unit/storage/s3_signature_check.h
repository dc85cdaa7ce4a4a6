// An independent check of AWS Signature Version 4 on the requests the S3 storage sends, for
// tests: s3rver does not verify signatures, so the test proxy recomputes each one from the
// request as received (following AWS's description of the algorithm, with OpenSSL's SHA-256
// and HMAC) and compares it with what libcurl put in the Authorization header.
//
// Thread-safety: a pure function.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

namespace streamstate::testing {

namespace sigv4_detail {

inline std::string hex(const unsigned char* bytes, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xF];
  }
  return out;
}

inline std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return hex(digest, length);
}

inline std::string hmac(const std::string& key, const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
       text.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

inline std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

inline std::string decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() + 0 && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// AWS's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ as %XY (and '/' too unless in a path).
inline std::string encode(const std::string& text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

inline std::string header_value(const std::string& head, const std::string& name) {
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    size_t end = head.find("\r\n", pos + 2);
    std::string line = head.substr(pos + 2, end - pos - 2);
    size_t colon = line.find(':');
    if (colon != std::string::npos && lower(line.substr(0, colon)) == name) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t") + 1);
      std::string collapsed;
      for (char c : value) {
        if (c == ' ' && !collapsed.empty() && collapsed.back() == ' ') continue;
        collapsed += c;
      }
      return collapsed;
    }
    pos = end;
  }
  return "";
}

inline std::string between(const std::string& text, const std::string& start, const std::string& end) {
  size_t at = text.find(start);
  if (at == std::string::npos) return "";
  at += start.size();
  return text.substr(at, text.find(end, at) - at);
}

}  // namespace sigv4_detail

// "" when the signature of the request `head` (request line and headers) is right for
// `secret`, else why not.
inline std::string check_sigv4(const std::string& head, const std::string& secret) {
  using namespace sigv4_detail;
  const std::string authorization = header_value(head, "authorization");
  if (!authorization.starts_with("AWS4-HMAC-SHA256 ")) return "no SigV4 Authorization header";
  const std::string credential = between(authorization, "Credential=", ",");
  const std::string signed_headers = between(authorization, "SignedHeaders=", ",");
  const std::string signature = between(authorization, "Signature=", ",");
  const std::string scope = credential.substr(credential.find('/') + 1);  // date/region/s3/aws4_request
  const std::string date = scope.substr(0, scope.find('/'));
  const std::string region = between(scope, "/", "/");
  const std::string amz_date = header_value(head, "x-amz-date");
  const std::string payload = header_value(head, "x-amz-content-sha256");
  if (payload.empty()) return "no x-amz-content-sha256 header";

  const std::string request_line = head.substr(0, head.find("\r\n"));
  const std::string method = request_line.substr(0, request_line.find(' '));
  const std::string target = between(request_line, " ", " ");
  const std::string path = target.substr(0, target.find('?'));
  const std::string query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);

  std::vector<std::pair<std::string, std::string>> params;
  for (size_t start = 0; start < query.size();) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(start, end - start);
    const size_t equals = pair.find('=');
    params.emplace_back(encode(decode(pair.substr(0, equals)), false),
                        equals == std::string::npos ? "" : encode(decode(pair.substr(equals + 1)), false));
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string canonical_query;
  for (const auto& [name, value] : params) canonical_query += (canonical_query.empty() ? "" : "&") + name + "=" + value;

  std::string canonical_headers;
  for (size_t start = 0; start < signed_headers.size();) {
    size_t end = signed_headers.find(';', start);
    if (end == std::string::npos) end = signed_headers.size();
    const std::string name = signed_headers.substr(start, end - start);
    // AWS refuses a signed header that the request does not carry.
    if (lower(head).find("\r\n" + name + ":") == std::string::npos) return "signed header " + name + " is not sent";
    canonical_headers += name + ":" + header_value(head, name) + "\n";
    start = end + 1;
  }
  for (const char* required : {"host", "x-amz-date", "x-amz-content-sha256"}) {
    if ((";" + signed_headers + ";").find(";" + std::string(required) + ";") == std::string::npos) {
      return std::string(required) + " is not signed";
    }
  }
  if (!header_value(head, "x-amz-security-token").empty() &&
      signed_headers.find("x-amz-security-token") == std::string::npos) {
    return "x-amz-security-token is not signed";
  }

  const std::string canonical_request = method + "\n" + encode(decode(path), true) + "\n" + canonical_query + "\n" +
                                        canonical_headers + "\n" + signed_headers + "\n" + payload;
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256_hex(canonical_request);
  const std::string key = hmac(hmac(hmac(hmac("AWS4" + secret, date), region), "s3"), "aws4_request");
  const std::string expected = hex(reinterpret_cast<const unsigned char*>(hmac(key, string_to_sign).data()), 32);
  if (expected != signature) return "signature mismatch for canonical request:\n" + canonical_request;
  return "";
}

}  // namespace streamstate::testing
