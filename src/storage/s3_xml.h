// The few pieces of S3's XML answers that the S3 storage reads: ListObjectsV2 pages,
// ListMultipartUploads pages, the upload id of a new multipart upload and error bodies.
//
// S3 answers are flat and machine-written, so this is a bounded scanner rather than an XML
// parser: it finds elements by tag name, never reads past the input, and unescapes the five
// predefined entities and numeric character references in text. Malformed input (an element
// that is not closed, a bad entity, a size that is not a number) is kCorruption naming what
// was wrong; it never crashes or allocates from a length it read.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streamstate/status.h"

namespace streamstate::storage::s3xml {

// The raw (still escaped) contents of every <tag>...</tag> element in `xml`, in order;
// an empty element (<tag/>) gives "". Elements of the same name must not nest (S3's do not).
Result<std::vector<std::string_view>> elements(std::string_view xml, std::string_view tag);
// The unescaped text of the first <tag> element, or nullopt when there is none.
Result<std::optional<std::string>> first_text(std::string_view xml, std::string_view tag);
// Text with &amp; &lt; &gt; &quot; &apos; &#NNN; &#xHH; replaced (as UTF-8).
Result<std::string> unescape(std::string_view text);
// `text` with & < > " escaped, for the XML the storage sends.
std::string escape(std::string_view text);

struct ListedKey {
  std::string key;
  uint64_t size = 0;
};

// One page of ListObjectsV2.
struct ListPage {
  std::vector<ListedKey> keys;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken, when truncated
};
Result<ListPage> parse_list_objects(std::string_view xml);

struct PendingUpload {
  std::string key;
  std::string upload_id;
};

// One page of ListMultipartUploads.
struct UploadsPage {
  std::vector<PendingUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
Result<UploadsPage> parse_list_uploads(std::string_view xml);

// The UploadId of an InitiateMultipartUploadResult.
Result<std::string> parse_upload_id(std::string_view xml);

// Code and Message of an <Error> body; both empty when the body holds no <Error>.
struct ErrorBody {
  std::string code;
  std::string message;
};
ErrorBody parse_error(std::string_view xml);

}  // namespace streamstate::storage::s3xml
