// KeyContext: the current key and namespace of a KeyedStateStore, shared with every state the
// store created, with the stored-key prefixes derived from them.
//
// The value key is rebuilt only when the key or the namespace changes, in one buffer that
// keeps its capacity (the user key is a view into it); the scoped prefix is built on first
// use after a change, so setting a key for a value-state access builds one string, and state
// accesses for the current key copy nothing and allocate nothing.
//
//   value_key()     = [key group u16 BE][varint32 user key length][user key][namespace]
//                     (make_state_key(kg, user_key, namespace): value, reducing, aggregating)
//   scoped_prefix() = [key group][length][user key][varint32 namespace length][namespace]
//                     (map entries and list elements append to it; the list head is it)
//
// Part of the internal layer behind the typed state templates; not a stable API.
// Thread-safety: none; used by the one thread that owns the store.
#pragma once

#include <cstdint>
#include <string>

#include "streamstate/bytes.h"

namespace streamstate::detail {

class KeyContext {
 public:
  bool has_key() const { return has_key_; }
  uint32_t key_group() const { return key_group_; }
  BytesView user_key() const { return BytesView(key_).substr(user_key_offset_, user_key_size_); }
  BytesView name_space() const { return namespace_; }
  BytesView value_key() const { return key_; }
  BytesView scoped_prefix() const {
    if (!scoped_prefix_valid_) build_scoped_prefix();
    return scoped_prefix_;
  }

  void set_key(uint32_t key_group, BytesView user_key);
  // No current key: state accesses fail until set_key is called.
  void clear_key();
  void set_namespace(BytesView name_space);
  // The store was closed (or destroyed): no current key from now on, and states report
  // kClosed instead of a missing key.
  void mark_closed() {
    clear_key();
    closed_ = true;
  }
  bool closed() const { return closed_; }

  // The value key and scoped prefix of the current key under another namespace, written to
  // `out` (replacing its contents). Precondition: has_key().
  void value_key_in(BytesView name_space, std::string& out) const;
  void scoped_prefix_in(BytesView name_space, std::string& out) const;

 private:
  // [key group][length][user key]: the part shared by every namespace.
  BytesView key_prefix() const { return BytesView(key_).substr(0, user_key_offset_ + user_key_size_); }
  void build_scoped_prefix() const;

  bool has_key_ = false;
  bool closed_ = false;
  uint32_t key_group_ = 0;
  uint32_t user_key_offset_ = 0;
  uint32_t user_key_size_ = 0;
  std::string namespace_;
  std::string key_;  // the value key: [key group][length][user key][namespace]
  mutable bool scoped_prefix_valid_ = true;  // no key: empty, like the value key
  mutable std::string scoped_prefix_;
};

}  // namespace streamstate::detail
