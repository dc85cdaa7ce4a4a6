// A bounded scanner for S3's XML answers (see s3_xml.h).
#include "storage/s3_xml.h"

#include <charconv>

#include "util/status_macros.h"

namespace streamstate::storage::s3xml {
namespace {

Status malformed(std::string_view why) {
  return Status::corruption("malformed XML in an S3 answer: " + std::string(why));
}

constexpr size_t kBroken = std::string_view::npos - 1;

// Position just after the opening tag "<tag>", "<tag attr...>" or "<tag/>" found at or after
// `from`, with `empty` set for "<tag/>"; npos when there is none, kBroken when the input ends
// inside it.
size_t find_open(std::string_view xml, std::string_view tag, size_t from, bool& empty) {
  while (from < xml.size()) {
    size_t lt = xml.find('<', from);
    if (lt == std::string_view::npos) return std::string_view::npos;
    if (xml.size() - lt - 1 < tag.size()) {
      return tag.starts_with(xml.substr(lt + 1)) ? kBroken : std::string_view::npos;
    }
    from = lt + 1;
    if (xml.compare(lt + 1, tag.size(), tag) != 0) continue;
    size_t after = lt + 1 + tag.size();
    if (after >= xml.size()) return kBroken;
    char next = xml[after];
    if (next != '>' && next != '/' && next != ' ' && next != '\t' && next != '\r' && next != '\n') continue;
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) return kBroken;
    empty = xml[gt - 1] == '/';
    return gt + 1;
  }
  return std::string_view::npos;
}

Status unclosed(std::string_view tag) { return malformed("element <" + std::string(tag) + "> is not closed"); }

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

Result<uint32_t> parse_reference(std::string_view entity) {
  // entity is what stands between "&#" and ';'
  int base = 10;
  if (!entity.empty() && (entity[0] == 'x' || entity[0] == 'X')) {
    base = 16;
    entity.remove_prefix(1);
  }
  uint32_t code = 0;
  auto [end, error] = std::from_chars(entity.data(), entity.data() + entity.size(), code, base);
  if (entity.empty() || error != std::errc() || end != entity.data() + entity.size() || code == 0 ||
      code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return malformed("bad character reference '&#" + std::string(entity) + ";'");
  }
  return code;
}

Result<uint64_t> parse_size(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return malformed("object size '" + std::string(text.substr(0, 40)) + "' is not a number");
  }
  return value;
}

Result<bool> parse_bool(const std::optional<std::string>& text) {
  if (!text || *text == "false") return false;
  if (*text == "true") return true;
  return malformed("IsTruncated is '" + text->substr(0, 40) + "', not true or false");
}

}  // namespace

Result<std::vector<std::string_view>> elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> found;
  const std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  for (;;) {
    bool empty = false;
    size_t start = find_open(xml, tag, pos, empty);
    if (start == std::string_view::npos) return found;
    if (start == kBroken) return unclosed(tag);
    if (empty) {
      found.emplace_back();
      pos = start;
      continue;
    }
    size_t end = xml.find(close, start);
    if (end == std::string_view::npos) return unclosed(tag);
    found.push_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
}

Result<std::optional<std::string>> first_text(std::string_view xml, std::string_view tag) {
  bool empty = false;
  size_t start = find_open(xml, tag, 0, empty);
  if (start == std::string_view::npos) return std::optional<std::string>();
  if (start == kBroken) return unclosed(tag);
  if (empty) return std::optional<std::string>(std::string());
  const std::string close = "</" + std::string(tag) + ">";
  size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return unclosed(tag);
  STREAMSTATE_ASSIGN_OR_RETURN(std::string text, unescape(xml.substr(start, end - start)));
  return std::optional<std::string>(std::move(text));
}

Result<std::string> unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, amp - pos));
    size_t semi = text.find(';', amp);
    if (semi == std::string_view::npos || semi - amp > 12) return malformed("unterminated entity in text");
    std::string_view entity = text.substr(amp + 1, semi - amp - 1);
    if (entity == "amp") {
      out += '&';
    } else if (entity == "lt") {
      out += '<';
    } else if (entity == "gt") {
      out += '>';
    } else if (entity == "quot") {
      out += '"';
    } else if (entity == "apos") {
      out += '\'';
    } else if (entity.starts_with('#')) {
      STREAMSTATE_ASSIGN_OR_RETURN(uint32_t code, parse_reference(entity.substr(1)));
      append_utf8(out, code);
    } else {
      return malformed("unknown entity '&" + std::string(entity) + ";'");
    }
    pos = semi + 1;
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

Result<ListPage> parse_list_objects(std::string_view xml) {
  if (xml.find("<ListBucketResult") == std::string_view::npos) {
    return malformed("a ListObjectsV2 answer without <ListBucketResult>");
  }
  ListPage page;
  STREAMSTATE_ASSIGN_OR_RETURN(auto contents, elements(xml, "Contents"));
  for (std::string_view entry : contents) {
    STREAMSTATE_ASSIGN_OR_RETURN(auto key, first_text(entry, "Key"));
    STREAMSTATE_ASSIGN_OR_RETURN(auto size, first_text(entry, "Size"));
    if (!key || !size) return malformed("a <Contents> entry without <Key> or <Size>");
    STREAMSTATE_ASSIGN_OR_RETURN(uint64_t bytes, parse_size(*size));
    page.keys.push_back(ListedKey{std::move(*key), bytes});
  }
  // The entries are removed before looking at the page's own fields, so that a key named
  // "<IsTruncated>" cannot be mistaken for one (its text would be escaped anyway).
  size_t tail = xml.rfind("</Contents>");
  std::string_view rest = tail == std::string_view::npos ? xml : xml.substr(tail);
  std::string_view head = xml.substr(0, xml.find("<Contents"));
  STREAMSTATE_ASSIGN_OR_RETURN(auto truncated, first_text(head, "IsTruncated"));
  if (!truncated) {
    STREAMSTATE_ASSIGN_OR_RETURN(truncated, first_text(rest, "IsTruncated"));
  }
  STREAMSTATE_ASSIGN_OR_RETURN(page.truncated, parse_bool(truncated));
  STREAMSTATE_ASSIGN_OR_RETURN(auto token, first_text(head, "NextContinuationToken"));
  if (!token) {
    STREAMSTATE_ASSIGN_OR_RETURN(token, first_text(rest, "NextContinuationToken"));
  }
  if (token) page.next_token = std::move(*token);
  return page;
}

Result<UploadsPage> parse_list_uploads(std::string_view xml) {
  if (xml.find("<ListMultipartUploadsResult") == std::string_view::npos) {
    return malformed("a ListMultipartUploads answer without <ListMultipartUploadsResult>");
  }
  UploadsPage page;
  STREAMSTATE_ASSIGN_OR_RETURN(auto uploads, elements(xml, "Upload"));
  for (std::string_view entry : uploads) {
    STREAMSTATE_ASSIGN_OR_RETURN(auto key, first_text(entry, "Key"));
    STREAMSTATE_ASSIGN_OR_RETURN(auto id, first_text(entry, "UploadId"));
    if (!key || !id || id->empty()) return malformed("an <Upload> entry without <Key> or <UploadId>");
    page.uploads.push_back(PendingUpload{std::move(*key), std::move(*id)});
  }
  std::string_view head = xml.substr(0, xml.find("<Upload>"));
  STREAMSTATE_ASSIGN_OR_RETURN(auto truncated, first_text(head, "IsTruncated"));
  if (!truncated) {
    size_t tail = xml.rfind("</Upload>");
    STREAMSTATE_ASSIGN_OR_RETURN(truncated,
                                 first_text(tail == std::string_view::npos ? xml : xml.substr(tail), "IsTruncated"));
  }
  STREAMSTATE_ASSIGN_OR_RETURN(page.truncated, parse_bool(truncated));
  STREAMSTATE_ASSIGN_OR_RETURN(auto key_marker, first_text(head, "NextKeyMarker"));
  STREAMSTATE_ASSIGN_OR_RETURN(auto id_marker, first_text(head, "NextUploadIdMarker"));
  if (key_marker) page.next_key_marker = std::move(*key_marker);
  if (id_marker) page.next_upload_id_marker = std::move(*id_marker);
  return page;
}

Result<std::string> parse_upload_id(std::string_view xml) {
  STREAMSTATE_ASSIGN_OR_RETURN(auto id, first_text(xml, "UploadId"));
  if (!id || id->empty()) return malformed("an InitiateMultipartUpload answer without <UploadId>");
  return std::move(*id);
}

ErrorBody parse_error(std::string_view xml) {
  ErrorBody error;
  auto body = elements(xml, "Error");
  if (!body.is_ok() || body->empty()) return error;
  auto code = first_text(body->front(), "Code");
  auto message = first_text(body->front(), "Message");
  if (code.is_ok() && *code) error.code = std::move(**code);
  if (message.is_ok() && *message) error.message = std::move(**message);
  return error;
}

}  // namespace streamstate::storage::s3xml
