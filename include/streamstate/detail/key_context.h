// KeyContext: the current key and namespace of a KeyedStateStore, shared with every state the
// store created, with the stored-key prefixes derived from them.
//
// The prefixes are rebuilt only when the key or the namespace changes, in buffers that keep
// their capacity, so state accesses for the current key copy nothing and allocate nothing.
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
  BytesView user_key() const { return user_key_; }
  BytesView name_space() const { return namespace_; }
  BytesView value_key() const { return value_key_; }
  BytesView scoped_prefix() const { return scoped_prefix_; }

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
  void rebuild();

  bool has_key_ = false;
  bool closed_ = false;
  uint32_t key_group_ = 0;
  std::string user_key_;
  std::string namespace_;
  std::string key_prefix_;  // [key group][length][user key]
  std::string value_key_;
  std::string scoped_prefix_;
};

}  // namespace streamstate::detail
