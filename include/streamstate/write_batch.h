// A WriteBatch groups puts and removes over one or more columns of a StateBackend so that
// StateBackend::write applies all of them or none.
//
// Operations name their column; every named column must already exist (opened through
// StateBackend::column) or the whole batch fails with NotFound and nothing is applied.
// Within a batch, later operations on the same key win.
//
// Thread-safety: a WriteBatch is a value; do not modify one from two threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "streamstate/bytes.h"

namespace streamstate {

class WriteBatch {
 public:
  enum class OperationType : uint8_t { kPut = 1, kRemove = 2 };

  struct Operation {
    OperationType type;
    std::string column;
    std::string key;
    std::string value;  // empty for kRemove
  };

  void put(std::string_view column, BytesView key, BytesView value);
  void remove(std::string_view column, BytesView key);
  void clear();

  const std::vector<Operation>& operations() const { return operations_; }
  size_t size() const { return operations_.size(); }
  bool empty() const { return operations_.empty(); }
  // Sum of the column, key and value sizes of all operations.
  size_t payload_bytes() const { return payload_bytes_; }

 private:
  std::vector<Operation> operations_;
  size_t payload_bytes_ = 0;
};

}  // namespace streamstate
