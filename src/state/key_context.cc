#include "streamstate/detail/key_context.h"

#include "streamstate/state_key.h"

namespace streamstate::detail {

void KeyContext::set_key(uint32_t key_group, BytesView user_key) {
  has_key_ = true;
  key_group_ = key_group;
  user_key_.assign(user_key.data(), user_key.size());
  key_prefix_.clear();
  append_state_key(key_prefix_, key_group, user_key);
  rebuild();
}

void KeyContext::clear_key() {
  has_key_ = false;
  key_group_ = 0;
  user_key_.clear();
  key_prefix_.clear();
  value_key_.clear();
  scoped_prefix_.clear();
}

void KeyContext::set_namespace(BytesView name_space) {
  namespace_.assign(name_space.data(), name_space.size());
  if (has_key_) rebuild();
}

void KeyContext::value_key_in(BytesView name_space, std::string& out) const {
  out.assign(key_prefix_);
  out.append(name_space.data(), name_space.size());
}

void KeyContext::scoped_prefix_in(BytesView name_space, std::string& out) const {
  out.assign(key_prefix_);
  put_varint32(out, static_cast<uint32_t>(name_space.size()));
  out.append(name_space.data(), name_space.size());
}

void KeyContext::rebuild() {
  value_key_in(namespace_, value_key_);
  scoped_prefix_in(namespace_, scoped_prefix_);
}

}  // namespace streamstate::detail
