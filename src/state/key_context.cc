#include "streamstate/detail/key_context.h"

#include <cstring>

#include "streamstate/state_key.h"

namespace streamstate::detail {

void KeyContext::set_key(uint32_t key_group, BytesView user_key) {
  // The state key header (docs/formats.md, "State key") written in one append: the key group
  // as u16 big-endian, then the user key's length as a varint32.
  char header[2 + 5];
  header[0] = static_cast<char>((key_group >> 8) & 0xff);
  header[1] = static_cast<char>(key_group & 0xff);
  size_t header_size = 2;
  uint32_t length = static_cast<uint32_t>(user_key.size());
  while (length >= 0x80) {
    header[header_size++] = static_cast<char>((length & 0x7f) | 0x80);
    length >>= 7;
  }
  header[header_size++] = static_cast<char>(length);
  // One resize and three copies (fewer string operations than assign + append + append).
  key_.resize(header_size + user_key.size() + namespace_.size());
  char* out = key_.data();
  std::memcpy(out, header, header_size);
  if (!user_key.empty()) std::memcpy(out + header_size, user_key.data(), user_key.size());
  if (!namespace_.empty()) std::memcpy(out + header_size + user_key.size(), namespace_.data(), namespace_.size());
  has_key_ = true;
  key_group_ = key_group;
  user_key_offset_ = static_cast<uint32_t>(header_size);
  user_key_size_ = static_cast<uint32_t>(user_key.size());
  scoped_prefix_valid_ = false;
}

void KeyContext::clear_key() {
  has_key_ = false;
  key_group_ = 0;
  user_key_offset_ = 0;
  user_key_size_ = 0;
  key_.clear();
  scoped_prefix_.clear();
  scoped_prefix_valid_ = true;  // empty, like the value key
}

void KeyContext::set_namespace(BytesView name_space) {
  namespace_.assign(name_space.data(), name_space.size());
  if (!has_key_) return;
  key_.resize(user_key_offset_ + user_key_size_);
  key_.append(namespace_);
  scoped_prefix_valid_ = false;
}

void KeyContext::value_key_in(BytesView name_space, std::string& out) const {
  const BytesView prefix = key_prefix();
  out.assign(prefix.data(), prefix.size());
  out.append(name_space.data(), name_space.size());
}

void KeyContext::scoped_prefix_in(BytesView name_space, std::string& out) const {
  const BytesView prefix = key_prefix();
  out.assign(prefix.data(), prefix.size());
  put_varint32(out, static_cast<uint32_t>(name_space.size()));
  out.append(name_space.data(), name_space.size());
}

void KeyContext::build_scoped_prefix() const {
  scoped_prefix_in(namespace_, scoped_prefix_);
  scoped_prefix_valid_ = true;
}

}  // namespace streamstate::detail
