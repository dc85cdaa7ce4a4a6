// The byte layout of a stored keyed-state key:
//
//   [key group: 2 bytes, big-endian][user key length: varint32][user key][namespace]
//
// The key group comes first and big-endian, so an ordered backend keeps each key group
// contiguous and a range of key groups is one range scan (what rescaling needs). The user key
// is length-prefixed, never joined with a delimiter, so the prefix of (key group, user key) matches
// exactly that user key and no other key that merely starts with the same bytes. The namespace
// (a window, a map entry's key, ...) takes the rest of the bytes. See docs/formats.md.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "streamstate/bytes.h"
#include "streamstate/status.h"

namespace streamstate {

struct StateKeyParts {
  uint32_t key_group = 0;
  BytesView user_key;   // views into the decoded bytes
  BytesView name_space; // may be empty
};

// Appends the encoded key to `out`. Precondition: key_group < kUpperBoundMaxParallelism.
void append_state_key(std::string& out, uint32_t key_group, BytesView user_key, BytesView name_space = {});
std::string make_state_key(uint32_t key_group, BytesView user_key, BytesView name_space = {});

// Splits an encoded key. Corruption when the bytes are too short or the length overruns.
Result<StateKeyParts> decode_state_key(BytesView encoded);

// The prefix shared by every key of one key group.
std::string key_group_prefix(uint32_t key_group);
// The prefix shared by every key of one user key (all of its namespaces), and only those.
std::string user_key_prefix(uint32_t key_group, BytesView user_key);

}  // namespace streamstate
